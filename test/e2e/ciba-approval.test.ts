// CIBA in a real browser (Debian Chromium via playwright-core): an agent (openid-client) asks for
// Alice's approval; she signs in, sees the agent, its binding message and each scope with its
// description on her approvals page, and approves with the button; the agent's poll then returns
// her token, acting as the agent.
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../helpers/browser.ts';
import { decodeJwt, type ClientCreds } from '../helpers/oauth.ts';
import { API, PASSWORD, createUser } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let browser: Browser;
let aliceId: string;
let agent: ClientCreds;

beforeAll(async () => {
  t = await startTestServer({ env: { GOVAUTH_CIBA: 'true', GOVAUTH_CIBA_POLL_INTERVAL: '1' } });
  await t.cliJson('init', '--demo');
  aliceId = await createUser(t, 'alice@example.com', ['data-scientist']);
  agent = await t.cliJson<ClientCreds>('client', 'create', '--name', 'Evaluation Agent', '--ciba', 'poll');
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

describe('CIBA approval in a browser', () => {
  it('Alice signs in, reads what the agent asks and approves it; the agent gets her token', async () => {
    const config = await oidc.discovery(new URL(t.issuer), agent.client_id, agent.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    const started = await oidc.initiateBackchannelAuthentication(config, { scope: 'openid ai.training.read ai.training.analyze', login_hint: 'alice@example.com', binding_message: 'EVAL-7 nightly', resource: API });
    const polling = oidc.pollBackchannelAuthenticationGrant(config, started);

    const page = await (await browser.newContext()).newPage();
    await page.goto(`${t.issuer}/account/approvals`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Email').fill('alice@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === '/account/approvals');
    const request = page.getByRole('region', { name: /^Agent request cr_/ });
    const text = await request.innerText();
    expect(text).toContain('Evaluation Agent asks to act for you on Example model API');
    expect(text).toContain('The agent says: EVAL-7 nightly');
    expect(text).toContain('Read training datasets and training-run metadata');
    expect(text).toContain('Run analyses and evaluations over training data');
    await screenshot(page, 'ciba-approval');
    await request.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('status').waitFor();
    expect(await page.getByRole('status').innerText()).toBe('Approved: the agent can now get its token.');
    expect(await page.locator('main').innerText()).toContain('No agent is waiting for your approval.');

    const tokens = await polling;
    expect(decodeJwt(tokens.access_token).payload).toMatchObject({ sub: aliceId, client_id: agent.client_id, act: { sub: agent.client_id }, scope: 'ai.training.analyze ai.training.read' });
  });
});

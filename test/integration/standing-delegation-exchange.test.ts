// A person's own standing delegation (the consent page) is enough for an agent to act for them
// through token exchange, within its scopes and end; withdrawing it on the delegations page ends
// what the agent obtained under it at once.
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE, createAgent } from '../helpers/agents.ts';
import { signInToAccount, type AccountBrowser } from '../helpers/account-pages.ts';
import { field } from '../helpers/cookie-jar.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import type { ClientCreds } from '../helpers/oauth.ts';
import { API, createResourceServer, createUser, createWebApp, discover } from '../helpers/people.ts';
import { isActive } from '../security/helpers/flows.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let rs: ClientCreds;
let appConfig: oidc.Configuration;
let agent: ClientCreds;
let agentConfig: oidc.Configuration;
let alice: AccountBrowser;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await t.cliJson('role', 'create', 'helper-agent', '--description', 'assistants people delegate to themselves', '--scopes', 'ai.prediction.run');
  rs = await createResourceServer(t);
  appConfig = await discover(t, await createWebApp(t));
  await createUser(t, 'alice@example.com', ['data-scientist']);
  agent = await createAgent(t, 'Model Studio Agent', ['helper-agent']);
  agentConfig = await discover(t, { client_id: agent.client_id, client_secret: agent.client_secret });
  alice = await signInToAccount(t, 'alice@example.com');
});
afterAll(async () => {
  await t?.stop();
});

const aliceToken = async () => (await headlessSignIn(appConfig, 'alice@example.com', 'openid ai.prediction.run ai.training.read')).access_token;
const exchange = (subject: string) =>
  oidc.genericGrantRequest(agentConfig, TOKEN_EXCHANGE, { subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, resource: API }).then(
    (r) => r,
    (e: { error?: string }) => e.error ?? 'failed',
  );

describe('a standing delegation given on the consent page', () => {
  let delegated: string;

  it('is needed: without it (and without a policy) the agent may not act for Alice', async () => {
    expect(await exchange(await aliceToken())).toBe('unauthorized_client');
  });

  it('lets the agent act for Alice within its scopes and until its end', async () => {
    const q = new URLSearchParams({ client_id: agent.client_id, resource: API, scope: 'ai.prediction.run', expires_in: '3600' });
    const html = await (await alice.get(`/account/delegations/new?${q.toString()}`)).text();
    const fields = Object.fromEntries(['csrf', 'client_id', 'resource', 'scope', 'expires_at'].map((n) => [n, field(html, n) ?? '']));
    expect((await alice.post('/account/delegations', { ...fields, decision: 'allow' })).status).toBe(303);

    const subject = await aliceToken();
    // The one agent that may act for her there: named in her tokens (RFC 8693 §4.4).
    expect(decodeJwt(subject).may_act).toEqual({ sub: agent.client_id });
    const res = await exchange(subject);
    if (typeof res === 'string') throw new Error(res);
    delegated = res.access_token;
    const claims = decodeJwt(delegated);
    expect(claims.act).toEqual({ sub: agent.client_id });
    expect(claims.scope).toBe('ai.prediction.run'); // not ai.training.read: outside the delegation
    expect(Number(claims.exp)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3600);
    expect((claims.delegations as string[])[0]).toMatch(/^sd_/);
    expect(await isActive(t.issuer, rs, delegated)).toBe(true);
  });

  it('ends with its withdrawal: the delegated token turns inactive and no new one is issued', async () => {
    const page = await (await alice.get('/account/delegations')).text();
    const action = /action="(\/account\/delegations\/[^"]+\/withdraw)"/.exec(page)?.[1];
    expect(action).toBeDefined();
    expect((await alice.post(action ?? '', { csrf: field(page, 'csrf') ?? '' })).status).toBe(303);
    expect(await isActive(t.issuer, rs, delegated)).toBe(false);
    expect(await exchange(await aliceToken())).toBe('unauthorized_client');
  });
});

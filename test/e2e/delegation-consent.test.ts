// A person lets an agent act for them, in a real browser (Debian Chromium via playwright-core):
// the delegation consent page sends them through govauth's sign-in and back, says exactly what
// they allow, stores it (database and the server's snapshot), and their delegations page
// withdraws it. Deny leaves nothing.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../helpers/browser.ts';
import { API, PASSWORD, createUser } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { createAgent } from '../helpers/account-pages.ts';

let t: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let agent: string;

interface Listing {
  delegations: { id: string; client_id: string; audience: string; scopes: string[]; expires_at: string | null }[];
}
const stored = async (): Promise<Listing['delegations']> => (await t.cliJson<Listing>('delegation', 'standing', 'list', '--user', 'alice@example.com')).delegations;
const consentUrl = (scope: string): string => `${t.issuer}/account/delegations/new?${new URLSearchParams({ client_id: agent, resource: API, scope }).toString()}`;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await createUser(t, 'alice@example.com', ['data-scientist']);
  agent = await createAgent(t, 'Model Studio Agent');
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.stop();
});
beforeEach(async () => {
  context = await browser.newContext();
  page = await context.newPage();
});
afterEach(async () => {
  await context?.close();
});

async function signIn(): Promise<void> {
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  expect(await page.locator('main').innerText()).toContain('to continue to your govauth account');
  await page.getByLabel('Email').fill('alice@example.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('the delegation consent page in a browser', () => {
  it('signs the person in, says exactly what they allow, stores it, and withdraws it from their delegations page', async () => {
    await page.goto(consentUrl('ai.prediction.run'));
    await signIn();

    await page.getByRole('heading', { name: 'Let an agent act for you?' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/account/delegations/new');
    await screenshot(page, 'delegation-consent');
    expect(await page.locator('#delegation-sentence').innerText()).toBe(
      'Allow Model Studio Agent to act for you on Example model API with ai.prediction.run (Run interactive predictions against deployed models), until you withdraw it.',
    );
    expect(await page.locator('.scopes').innerText()).toMatch(/low sensitivity/i);
    await page.getByRole('button', { name: 'Allow' }).click();

    await page.getByRole('heading', { name: 'Your delegations' }).waitFor();
    await screenshot(page, 'delegations');
    expect(await page.getByRole('status').innerText()).toBe('Saved: Model Studio Agent may act for you on Example model API until you withdraw it.');
    const [saved] = await stored();
    expect(saved).toMatchObject({ client_id: agent, audience: API, scopes: ['ai.prediction.run'], expires_at: null });
    expect(t.server.policy.snapshot().delegations.get(saved?.id ?? '')).toMatchObject({ kind: 'standing', clientId: agent, audience: API });

    const item = page.getByRole('region', { name: 'Model Studio Agent on Example model API' });
    expect(await item.innerText()).toContain('until you withdraw it');
    await item.getByRole('button', { name: 'Withdraw' }).click();
    await page.getByRole('status').waitFor();
    expect(await page.getByRole('status').innerText()).toMatch(/^Withdrawn:/);
    expect(await page.locator('main').innerText()).toContain('You have not let any agent act for you.');
    expect(await stored()).toEqual([]);
    expect(t.server.policy.snapshot().delegations.has(saved?.id ?? '')).toBe(false);
  });

  it('shows the end of a delegation that has one', async () => {
    await page.goto(`${consentUrl('ai.training.read ai.prediction.run')}&expires_in=${7 * 86_400}`);
    await signIn();
    const sentence = await page.locator('#delegation-sentence').innerText();
    expect(sentence).toMatch(
      /^Allow Model Studio Agent to act for you on Example model API with ai\.prediction\.run \(Run interactive predictions against deployed models\) and ai\.training\.read \(Read training datasets and training-run metadata\), until \d{1,2} \w+ \d{4} at \d{2}:\d{2} UTC\.$/,
    );
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.getByRole('heading', { name: 'Your delegations' }).waitFor();
    expect(await page.getByRole('status').innerText()).toBe('You did not allow it: nothing was changed.');
    expect(await stored()).toEqual([]);
  });
});

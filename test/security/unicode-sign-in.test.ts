// Lockout bypass with Unicode: the account lookup compares the NFC, lower-case spelling of an
// email, so every throttle must key on that same spelling. Otherwise a locked account signs in
// under another spelling of its address (decomposed accents, upper case, surrounding space),
// and each spelling gets a fresh set of guesses.
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, authorizationRequest, createUser, createWebApp, discover } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { Agent, openLogin, pageOf, submitLogin, type Page } from './helpers/flows.ts';

const MAX_FAILURES = 3;
let t: TestServer;
let config: oidc.Configuration;
let addresses = 0;

beforeAll(async () => {
  t = await startTestServer({
    env: {
      GOVAUTH_LOGIN_MAX_FAILURES: String(MAX_FAILURES),
      GOVAUTH_LOGIN_LOCKOUT: '60',
      GOVAUTH_RATE_LIMIT_SIGNIN_ACCOUNT: '1000',
      GOVAUTH_RATE_LIMIT_SIGNIN_ADDRESS: '1000',
      GOVAUTH_TRUST_PROXY: 'true', // each test signs in from its own address
    },
  });
  await t.cliJson('init', '--demo');
  await createUser(t, 'zoë@example.com', ['data-scientist']); // stored as typed here: NFC, U+00EB
  await createUser(t, 'anaïs@example.com', ['data-scientist']);
  config = await discover(t, await createWebApp(t));
  await t.server.policy.sync();
});
afterAll(() => t?.stop());

/** A sign-in form in a browser at its own address (TEST-NET-3, RFC 5737). */
async function loginForm(): Promise<(email: string, password: string) => Promise<Page>> {
  const agent = new Agent({ 'x-forwarded-for': `203.0.113.${++addresses}` });
  let page = await openLogin(agent, (await authorizationRequest(config, 'openid ai.training.read')).url);
  return async (email, password) => {
    const next = pageOf(await submitLogin(agent, page, email, password));
    if (next.html.includes('name="password"')) page = next;
    return next;
  };
}

const nfd = (s: string): string => s.normalize('NFD');

describe('sign-in lockout and other spellings of the same email', () => {
  it('a decomposed (NFD) spelling of a locked account, with the right password, is refused as locked', async () => {
    expect(nfd('zoë@example.com')).not.toBe('zoë@example.com'); // e + U+0308: a different string
    const submit = await loginForm();
    for (let i = 1; i < MAX_FAILURES; i++) expect((await submit('zoë@example.com', 'wrong')).status).toBe(401);
    expect((await submit('zoë@example.com', 'wrong')).status).toBe(429); // locked
    for (const spelling of [nfd('zoë@example.com'), nfd(' ZOË@Example.com '), 'ZOË@EXAMPLE.COM']) {
      const page = await submit(spelling, PASSWORD);
      expect([spelling, page.status, page.html.includes('sign-in is paused')]).toEqual([spelling, 429, true]);
      expect(page.html).not.toContain('value="allow"');
    }
  });

  it('failures under different spellings add up to one lockout', async () => {
    const submit = await loginForm();
    expect((await submit(nfd('anaïs@example.com'), 'wrong')).status).toBe(401);
    expect((await submit('ANAÏS@example.com', 'wrong')).status).toBe(401);
    expect((await submit(' anaïs@example.com', 'wrong')).status).toBe(429);
    expect((await submit('anaïs@example.com', PASSWORD)).status).toBe(429);
    // The control: the account itself is fine, from another address, under any spelling.
    const elsewhere = await (await loginForm())(nfd('anaïs@example.com'), PASSWORD);
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.html).toContain('value="allow"');
  });
});

// Attacks on the sign-in pages: cross-site, forged and replayed consent posts (the forms are
// bound to their interaction), password guessing (lockout per account + address, rate limit per
// account) without revealing which accounts exist, and framing / script injection (CSP).
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, authorizationRequest, createUser, createWebApp, discover } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { Agent, allow, callbackOf, openConsent, openLogin, pageOf, submitLogin, type Page } from './helpers/flows.ts';

// Small limits so the defences trigger within a test; GOVAUTH_TRUST_PROXY lets each test sign in
// "from" its own address (X-Forwarded-For), so one test's lockout does not leak into another.
const ENV = {
  GOVAUTH_LOGIN_MAX_FAILURES: '3',
  GOVAUTH_LOGIN_LOCKOUT: '60',
  GOVAUTH_RATE_LIMIT_SIGNIN_ACCOUNT: '6',
  GOVAUTH_RATE_LIMIT_SIGNIN_ADDRESS: '1000',
  GOVAUTH_TRUST_PROXY: 'true',
};
const SCOPE = 'openid ai.training.read';

let t: TestServer;
let config: oidc.Configuration;
let addresses = 0;

beforeAll(async () => {
  t = await startTestServer({ env: ENV });
  await t.cliJson('init', '--demo');
  for (const name of ['kim', 'lee', 'max', 'ned', 'oli', 'pat']) await createUser(t, `${name}@example.com`, ['data-scientist']);
  await createUser(t, 'gone@example.com', ['data-scientist']);
  await t.cliJson('user', 'disable', 'gone@example.com');
  config = await discover(t, await createWebApp(t));
  await t.server.policy.sync();
});
afterAll(() => t?.stop());

/** A browser at its own address (TEST-NET-3, RFC 5737). */
const browser = () => new Agent({ 'x-forwarded-for': `203.0.113.${++addresses}`, 'x-forwarded-proto': 'http' });

async function consentPage(email: string): Promise<{ agent: Agent; consent: Page }> {
  const agent = browser();
  return { agent, consent: await openConsent(agent, (await authorizationRequest(config, SCOPE)).url, email) };
}

/** A refused form post: exactly `status`, govauth's error page with `message`, and no redirect (no code). */
async function expectRefused(res: Response, status: number, message: RegExp): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('location')).toBeNull();
  const html = await res.text();
  expect(html).toMatch(message);
  expect(html).not.toMatch(/code=/);
}

describe('consent form CSRF', () => {
  it('refuses a consent post without the interaction cookie (a cross-site post): 400, no code', async () => {
    const { agent, consent } = await consentPage('kim@example.com');
    const crossSite = await agent.send(consent.action ?? '', { csrf: consent.csrf ?? '', decision: 'allow' }, { cookies: false });
    await expectRefused(crossSite, 400, /expired or was already completed/);
    // The control: the same form from the person's own browser completes the consent.
    expect(callbackOf(await allow(agent, consent)).searchParams.get('code')).toBeTruthy();
  });

  it("refuses a consent post with a forged, absent or another sign-in's csrf token: 403, no code", async () => {
    const { agent, consent } = await consentPage('lee@example.com');
    const other = await consentPage('max@example.com');
    const post = (form: Record<string, string>) => agent.send(consent.action ?? '', form);
    const notValid = /This form is not valid for this sign-in/;
    await expectRefused(await post({ csrf: 'forged', decision: 'allow' }), 403, notValid);
    await expectRefused(await post({ decision: 'allow' }), 403, notValid);
    await expectRefused(await post({ csrf: other.consent.csrf ?? '', decision: 'allow' }), 403, notValid);
    expect(callbackOf(await allow(agent, consent)).searchParams.get('code')).toBeTruthy();
  });

  it('refuses a consent form replayed after the consent completed: 400, no second code', async () => {
    const { agent, consent } = await consentPage('ned@example.com');
    expect(callbackOf(await allow(agent, consent)).searchParams.get('code')).toBeTruthy();
    const replay = await agent.send(consent.action ?? '', { csrf: consent.csrf ?? '', decision: 'allow' });
    await expectRefused(replay, 400, /expired or was already completed/);
  });
});

/** The login page of a fresh sign-in from its own address; returns a function that submits it. */
async function loginForm(agent = browser()): Promise<(email: string, password: string) => Promise<Page>> {
  let page = await openLogin(agent, (await authorizationRequest(config, SCOPE)).url);
  return async (email, password) => {
    const next = pageOf(await submitLogin(agent, page, email, password));
    if (next.html.includes('name="password"')) page = next;
    return next;
  };
}
const retryAfter = (p: Page): number => Number(p.headers.get('retry-after'));

describe('password guessing', () => {
  it('locks one account + address out after GOVAUTH_LOGIN_MAX_FAILURES wrong passwords: 429, Retry-After, a clear message, and the right password is refused too', async () => {
    const submit = await loginForm();
    for (let i = 0; i < 2; i++) expect((await submit('oli@example.com', 'wrong')).status).toBe(401);
    const locked = await submit('oli@example.com', 'wrong');
    expect(locked.status).toBe(429);
    expect(locked.html).toContain('Too many failed sign-in attempts. For your security, sign-in is paused for 1 minute.');
    expect(retryAfter(locked)).toBeGreaterThanOrEqual(1);
    expect(retryAfter(locked)).toBeLessThanOrEqual(60);
    const right = await submit('oli@example.com', PASSWORD);
    expect(right.status).toBe(429);
    expect(right.html).toContain('sign-in is paused');
    expect(right.html).not.toContain('value="allow"');
    // The pause is per account + address: guessing from one address cannot lock the person out
    // of their own browser elsewhere.
    const elsewhere = await (await loginForm())('oli@example.com', PASSWORD);
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.html).toContain('value="allow"');
  });

  it('rate-limits guessing one account from many addresses: 429 "Too many sign-in attempts" with Retry-After, and the right password is refused too', async () => {
    // Two wrong passwords from each of three addresses: six attempts, none locked out. Every
    // attempt counts, successful or not, so this account is used nowhere else in the file.
    for (let a = 0; a < 3; a++) {
      const submit = await loginForm();
      for (let i = 0; i < 2; i++) expect((await submit('pat@example.com', 'wrong')).status).toBe(401);
    }
    const limited = await (await loginForm())('pat@example.com', 'wrong');
    expect(limited.status).toBe(429);
    expect(limited.html).toMatch(/Too many sign-in attempts\. Try again in \d+ seconds?\./);
    expect(retryAfter(limited)).toBeGreaterThanOrEqual(1);
    const right = await (await loginForm())('pat@example.com', PASSWORD);
    expect(right.status).toBe(429);
    expect(right.html).not.toContain('value="allow"');
  });

  it('gives an unknown email, a wrong password and a disabled account the same answer (status and page)', async () => {
    const submit = await loginForm();
    const answers = [
      await submit('nobody@example.com', 'wrong password'),
      await submit('lee@example.com', 'wrong password'),
      await submit('gone@example.com', PASSWORD),
    ];
    for (const [i, email] of ['nobody@example.com', 'lee@example.com', 'gone@example.com'].entries()) {
      const a = answers[i]!;
      expect(a.status, email).toBe(401);
      expect(a.headers.get('retry-after'), email).toBeNull();
      expect(a.html, email).toContain('Incorrect email or password.');
    }
    // Identical once the echoed email is taken out (same interaction, so the same csrf token).
    const normalized = answers.map((a, i) => a.html.replaceAll(['nobody@example.com', 'lee@example.com', 'gone@example.com'][i]!, 'EMAIL'));
    expect(normalized[1]).toBe(normalized[0]);
    expect(normalized[2]).toBe(normalized[0]);
  });
});

describe('Content-Security-Policy (clickjacking, injected scripts)', () => {
  /** The policy as directive → sources; a single policy (several would be comma-joined). */
  function policyOf(p: Page): Map<string, string[]> {
    const header = p.headers.get('content-security-policy') ?? '';
    expect(header).not.toContain(',');
    return new Map(header.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([name, ...sources]) => [name!, sources]));
  }

  function expectStrictPolicy(p: Page, label: string): void {
    const csp = policyOf(p);
    expect(csp.get('frame-ancestors'), label).toEqual(["'none'"]);
    expect(csp.get('default-src'), label).toEqual(["'none'"]);
    // Scripts fall back to default-src 'none'; if script-src is ever set it must stay strict.
    const scripts = csp.get('script-src') ?? csp.get('default-src') ?? [];
    expect(scripts, label).not.toContain("'unsafe-inline'");
    expect(scripts, label).not.toContain("'unsafe-eval'");
    expect(p.headers.get('x-frame-options'), label).toBe('DENY');
    // Scripts only from govauth's own files (the passkey ceremony): never inline, no handlers.
    expect(scripts.every((source) => source === "'self'" || source === "'none'"), label).toBe(true);
    const tags = p.html.match(/<script[^>]*>[^<]*<\/script>/gi) ?? [];
    for (const tag of tags) expect(tag, label).toMatch(/^<script src="\/assets\/[a-z]+\.js"><\/script>$/);
    expect(p.html.replace(/<script src="\/assets\/[a-z]+\.js"><\/script>/g, ''), label).not.toMatch(/<script|\son[a-z]+=/i);
  }

  it("sets a CSP without 'unsafe-inline' scripts and with frame-ancestors 'none' on the login and consent pages", async () => {
    const agent = browser();
    const login = await openLogin(agent, (await authorizationRequest(config, SCOPE)).url);
    expectStrictPolicy(login, 'login');
    const consent = pageOf(await submitLogin(agent, login, 'max@example.com'));
    expect(consent.html).toContain('value="allow"');
    expectStrictPolicy(consent, 'consent');
  });
});

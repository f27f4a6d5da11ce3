// Forged passkey ceremonies over HTTP, made by a software authenticator (test/helpers/
// soft-authenticator.ts): a wrong origin, RP id, challenge or ceremony type, a response
// without user verification, an expired or reused challenge, a replayed response and a cloned
// authenticator (its counter going backwards) are each refused, change nothing, and are audited
// with their reason. The genuine ceremony beside them succeeds, so each refusal is the check's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CEREMONY_TIMEOUT_MS } from '../../src/governance/webauthn-ceremony.ts';
import { walkSignIn, type AccountBrowser } from '../helpers/account-pages.ts';
import { CookieJar, field } from '../helpers/cookie-jar.ts';
import { authorizationRequest, createUser, createWebApp, discover } from '../helpers/people.ts';
import { FLAG, SoftAuthenticator } from '../helpers/soft-authenticator.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import type * as oidc from 'openid-client';

let t: TestServer;
let config: oidc.Configuration;
let account: AccountBrowser;
let key: SoftAuthenticator;
let userId: string;

interface AuditView { action: string; outcome: string; actor: string | null; detail: Record<string, unknown> }
const refusals = async (): Promise<AuditView[]> => (await t.cliJson<{ events: AuditView[] }>('audit', 'tail', '--action', 'passkey.refused', '--limit', '1000')).events;
const lastRefusal = async (): Promise<Record<string, unknown>> => (await refusals()).at(-1)?.detail ?? {}; // tail is oldest first

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  userId = await createUser(t, 'alice@example.com', ['data-scientist']);
  const app = await createWebApp(t);
  await t.server.policy.sync();
  config = await discover(t, app);
  key = new SoftAuthenticator(new URL(t.issuer).origin, new URL(t.issuer).hostname);
  ({ browser: account } = await walkSignIn(t, '/account/passkeys', 'alice@example.com'));
});
afterAll(async () => {
  await t?.stop();
});

async function registrationChallenge(): Promise<{ csrf: string; challenge: string; rpId: string; userHandle: string }> {
  const csrf = await account.csrf('/account/passkeys');
  const res = await account.post('/account/passkeys/options', { csrf });
  expect(res.status).toBe(200);
  const options = (await res.json()) as { challenge: string; rp: { id: string }; user: { id: string }; authenticatorSelection: { userVerification: string; residentKey: string } };
  expect(options.authenticatorSelection).toMatchObject({ userVerification: 'required', residentKey: 'required' });
  return { csrf, challenge: options.challenge, rpId: options.rp.id, userHandle: options.user.id };
}

async function passkeyCount(): Promise<number> {
  const html = await (await account.get('/account/passkeys')).text();
  return html.match(/<section class="passkey"/g)?.length ?? 0;
}

/** A fresh sign-in request in a new browser, at its login page. */
async function loginPage(): Promise<{ jar: CookieJar; uid: string; csrf: string }> {
  const jar = new CookieJar();
  const req = await authorizationRequest(config, 'openid ai.training.read');
  const first = await fetch(req.url, { redirect: 'manual' });
  jar.store(first);
  const at = new URL(first.headers.get('location') ?? '', t.url);
  const page = await fetch(`${t.url}${at.pathname}`, { headers: { cookie: jar.header() } });
  jar.store(page);
  const html = await page.text();
  expect(html).toContain('Continue with a passkey');
  return { jar, uid: at.pathname.split('/').at(-1) ?? '', csrf: field(html, 'csrf') ?? '' };
}

async function post(jar: CookieJar, path: string, fields: Record<string, string>): Promise<Response> {
  const res = await fetch(`${t.url}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
  jar.store(res);
  return res;
}

/** Follows redirects (the issuer's host is this server) to the first page; cookies kept. */
async function follow(jar: CookieJar, start: string): Promise<{ res: Response; url: URL }> {
  let url = new URL(start);
  for (let hop = 0; hop < 10; hop++) {
    const res = await fetch(`${t.url}${url.pathname}${url.search}`, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.store(res);
    const location = res.headers.get('location');
    if (!location) return { res, url };
    url = new URL(location, t.url);
  }
  throw new Error('too many redirects');
}

async function signInChallenge(): Promise<{ jar: CookieJar; uid: string; csrf: string; challenge: string }> {
  const page = await loginPage();
  const res = await post(page.jar, `/interaction/${page.uid}/passkey/options`, { csrf: page.csrf });
  expect(res.status).toBe(200);
  const options = (await res.json()) as { challenge: string; rpId: string; userVerification: string; allowCredentials?: unknown[] };
  expect(options).toMatchObject({ rpId: 'localhost', userVerification: 'required' });
  expect(options.allowCredentials ?? []).toEqual([]); // discoverable: the passkey names the account
  return { ...page, challenge: options.challenge };
}

describe('registering a passkey', () => {
  it('refuses a forged registration (origin, RP id, challenge, type, no user verification, expired), adding nothing', async () => {
    const cases: [string, (c: { challenge: string }) => Record<string, unknown>][] = [
      ['wrong_origin', (c) => key.register(c.challenge, { origin: 'https://evil.example' })],
      ['wrong_rp_id', (c) => key.register(c.challenge, { rpId: 'evil.example' })],
      ['wrong_challenge', () => key.register('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')],
      ['wrong_type', (c) => key.register(c.challenge, { type: 'webauthn.get' })],
      ['user_not_verified', (c) => key.register(c.challenge, { flags: FLAG.UP })],
    ];
    for (const [reason, forge] of cases) {
      const c = await registrationChallenge();
      const res = await account.post('/account/passkeys', { csrf: c.csrf, name: 'Forged', response: JSON.stringify(forge(c)) });
      expect(res.status, reason).toBe(400);
      expect(await res.text()).toContain('could not be verified, so it was not added');
      expect(await lastRefusal()).toMatchObject({ reason, step: 'register' });
    }
    // Reused: a challenge answered once (here by a forgery) cannot be answered again, even genuinely.
    const used = await registrationChallenge();
    await account.post('/account/passkeys', { csrf: used.csrf, name: 'Forged', response: JSON.stringify(key.register(used.challenge, { origin: 'https://evil.example' })) });
    const reuse = await account.post('/account/passkeys', { csrf: used.csrf, name: 'Reused', response: JSON.stringify(key.register(used.challenge)) });
    expect(reuse.status).toBe(400);
    expect(await lastRefusal()).toMatchObject({ reason: 'no_challenge', step: 'register' });
    // Expired: the challenge outlives the browser's timeout only briefly.
    const c = await registrationChallenge();
    t.advance(CEREMONY_TIMEOUT_MS + 31_000);
    const late = await account.post('/account/passkeys', { csrf: c.csrf, name: 'Late', response: JSON.stringify(key.register(c.challenge)) });
    t.advance(-(CEREMONY_TIMEOUT_MS + 31_000));
    expect(late.status).toBe(400);
    expect(await lastRefusal()).toMatchObject({ reason: 'no_challenge', step: 'register' });
    expect(await passkeyCount()).toBe(0);
  });

  it('adds a genuine passkey once, audited and notified; the same response again adds nothing', async () => {
    const c = await registrationChallenge();
    expect(c.rpId).toBe('localhost');
    expect(Buffer.from(c.userHandle, 'base64url').toString()).toBe(userId); // the account id, never the email
    const response = JSON.stringify(key.register(c.challenge));
    const added = await account.post('/account/passkeys', { csrf: c.csrf, name: 'Soft key', response });
    expect(added.status).toBe(303);
    expect(added.headers.get('location')).toBe('/account/passkeys?result=added');
    // Now she has a factor, a second registration needs a fresh one first; either way nothing is added.
    const again = await account.post('/account/passkeys', { csrf: c.csrf, name: 'Soft key', response });
    expect(again.status).toBe(403);
    expect(await passkeyCount()).toBe(1);

    const { events } = await t.cliJson<{ events: AuditView[] }>('audit', 'tail', '--action', 'passkey.register');
    expect(events.at(-1)).toMatchObject({ actor: userId, outcome: 'success' });
    const { notifications } = await t.cliJson<{ notifications: { type: string; data: Record<string, unknown> }[] }>('notifications', 'list');
    expect(notifications.find((n) => n.type === 'passkey.added')?.data).toMatchObject({ user_id: userId, backup_eligible: false });
    const shown = await t.cliJson<{ user: { factors: { passkeys: number; totp: boolean } } }>('user', 'show', 'alice@example.com');
    expect(shown.user.factors).toMatchObject({ passkeys: 1, totp: false });
  });

  it('asks for a fresh second factor before another passkey is added, now that there is one', async () => {
    const csrf = await account.csrf('/account/passkeys');
    const res = await account.post('/account/passkeys/options', { csrf });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toBe('forbidden');
    expect(await (await account.get('/account/passkeys')).text()).toContain('Confirm it is you');
  });
});

describe('signing in with a passkey', () => {
  it('signs in with the genuine passkey and records how', async () => {
    const c = await signInChallenge();
    const res = await post(c.jar, `/interaction/${c.uid}/passkey`, { csrf: c.csrf, response: JSON.stringify(key.assert(c.challenge, Buffer.from(userId).toString('base64url'))) });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/\/auth\//); // back to the authorization endpoint: signed in
    const { events } = await t.cliJson<{ events: AuditView[] }>('audit', 'tail', '--action', 'login.succeeded', '--actor', userId);
    expect(events.at(-1)?.detail).toMatchObject({ method: 'passkey', amr: ['hwk', 'user'] });
  });

  it('refuses forged sign-ins with their reason: origin, RP id, challenge, no user verification, unknown key', async () => {
    const stranger = new SoftAuthenticator(key.origin, key.rpId);
    const cases: [string, (challenge: string) => Record<string, unknown>][] = [
      ['wrong_origin', (ch) => key.assert(ch, undefined, { origin: 'http://localhost.evil.example' })],
      ['wrong_rp_id', (ch) => key.assert(ch, undefined, { rpId: 'example.com' })],
      ['wrong_challenge', () => key.assert('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', undefined)],
      ['user_not_verified', (ch) => key.assert(ch, undefined, { flags: FLAG.UP })],
      ['unknown_credential', (ch) => stranger.assert(ch, undefined)],
    ];
    for (const [reason, forge] of cases) {
      const c = await signInChallenge();
      const res = await post(c.jar, `/interaction/${c.uid}/passkey`, { csrf: c.csrf, response: JSON.stringify(forge(c.challenge)) });
      expect(res.status, reason).toBe(401);
      const html = await res.text();
      expect(html).toContain('role="alert"');
      expect(html).not.toMatch(/stack|Error:/);
      expect(await lastRefusal()).toMatchObject({ reason, step: 'sign_in' });
    }
    const bad = await signInChallenge();
    const malformed = await post(bad.jar, `/interaction/${bad.uid}/passkey`, { csrf: bad.csrf, response: '{"id": 5}' });
    expect(malformed.status).toBe(401);
    expect(await lastRefusal()).toMatchObject({ reason: 'malformed' });
    const noCsrf = await post(bad.jar, `/interaction/${bad.uid}/passkey`, { response: '{}' });
    expect(noCsrf.status).toBe(403);
    const noToken = await post(bad.jar, `/interaction/${bad.uid}/passkey/options`, {});
    expect(noToken.status).toBe(403);
    expect(((await noToken.json()) as { error: string }).error).toBe('forbidden');
  });

  it('refuses a replayed response: on its own sign-in (challenge used) and on another (challenge differs)', async () => {
    const c = await signInChallenge();
    const response = JSON.stringify(key.assert(c.challenge, undefined));
    expect((await post(c.jar, `/interaction/${c.uid}/passkey`, { csrf: c.csrf, response })).status).toBe(303);
    const replayed = await post(c.jar, `/interaction/${c.uid}/passkey`, { csrf: c.csrf, response });
    expect(replayed.status).toBeGreaterThanOrEqual(400); // the interaction is finished or its challenge gone
    const other = await signInChallenge();
    const elsewhere = await post(other.jar, `/interaction/${other.uid}/passkey`, { csrf: other.csrf, response });
    expect(elsewhere.status).toBe(401);
    expect(await lastRefusal()).toMatchObject({ reason: 'wrong_challenge' });
  });

  it('refuses a cloned authenticator: a counter that does not move forward, and keeps the stored counter', async () => {
    const c = await signInChallenge();
    const stored = key.counter;
    const res = await post(c.jar, `/interaction/${c.uid}/passkey`, { csrf: c.csrf, response: JSON.stringify(key.assert(c.challenge, undefined, { counter: stored - 1 })) });
    expect(res.status).toBe(401);
    expect(await lastRefusal()).toMatchObject({ reason: 'counter_regression' });
    const same = await signInChallenge();
    expect((await post(same.jar, `/interaction/${same.uid}/passkey`, { csrf: same.csrf, response: JSON.stringify(key.assert(same.challenge, undefined, { counter: stored })) })).status).toBe(401);
    expect(await lastRefusal()).toMatchObject({ reason: 'counter_regression' });
    const html = await (await account.get('/account/passkeys')).text();
    expect(html).toMatch(new RegExp(`<dt>Signature counter</dt><dd>${stored}</dd>`));
    // The genuine key, moving on, still works.
    const ok = await signInChallenge();
    expect((await post(ok.jar, `/interaction/${ok.uid}/passkey`, { csrf: ok.csrf, response: JSON.stringify(key.assert(ok.challenge, undefined)) })).status).toBe(303);
  });
});

describe('a person without a second factor', () => {
  it('signs in again with the password (prompt=login) before adding a passkey, once the sign-in is no longer recent', async () => {
    const dan = await createUser(t, 'dan@example.com', ['data-scientist']);
    const { browser } = await walkSignIn(t, '/account/passkeys', 'dan@example.com');
    t.advance(901_000); // past GOVAUTH_MFA_MAX_AGE (900 s)
    let confirm: Response;
    try {
      const page = await (await browser.get('/account/passkeys')).text();
      expect(page).toContain('confirm it is you with your password');
      const stale = await browser.post('/account/passkeys/options', { csrf: field(page, 'csrf') ?? '' });
      expect(stale.status).toBe(403);
      confirm = await browser.get('/account/passkeys/confirm');
    } finally {
      // oidc-provider stamps a sign-in with the real clock, so the new one is judged against it.
      t.advance(-901_000);
    }
    const auth = new URL(confirm.headers.get('location') ?? '');
    expect(auth.searchParams.get('prompt')).toBe('login');
    const signIns = async (): Promise<number> => (await t.cliJson<{ events: AuditView[] }>('audit', 'tail', '--action', 'login.succeeded', '--actor', dan)).events.length;
    const before = await signIns();
    // The password is asked again although the browser is signed in (walkSignIn answers the login page).
    const { returnedTo } = await walkSignIn(t, `${auth.pathname}${auth.search}`, 'dan@example.com', { browser });
    expect(returnedTo).toBe('/account/passkeys');
    expect(await signIns()).toBe(before + 1);
    expect((await browser.post('/account/passkeys/options', { csrf: await browser.csrf('/account/passkeys') })).status).toBe(200);
  });
});

describe('a synced passkey', () => {
  it('is shown as synced and backed up, signs in as swk (RFC 8176), and an expired sign-in challenge is refused', async () => {
    await createUser(t, 'cat@example.com', ['data-scientist']);
    const synced = new SoftAuthenticator(key.origin, key.rpId, FLAG.UP | FLAG.UV | FLAG.BE | FLAG.BS);
    const { browser } = await walkSignIn(t, '/account/passkeys', 'cat@example.com');
    const csrf = await browser.csrf('/account/passkeys');
    const { challenge } = (await (await browser.post('/account/passkeys/options', { csrf })).json()) as { challenge: string };
    expect((await browser.post('/account/passkeys', { csrf, name: 'Phone', response: JSON.stringify(synced.register(challenge)) })).status).toBe(303);
    expect(await (await browser.get('/account/passkeys')).text()).toMatch(/<dt>Synced passkey<\/dt><dd>yes, backed up<\/dd>/);

    const late = await signInChallenge();
    t.advance(CEREMONY_TIMEOUT_MS + 31_000);
    const refused = await post(late.jar, `/interaction/${late.uid}/passkey`, { csrf: late.csrf, response: JSON.stringify(synced.assert(late.challenge, undefined)) });
    t.advance(-(CEREMONY_TIMEOUT_MS + 31_000));
    expect(refused.status).toBe(401);
    expect(await lastRefusal()).toMatchObject({ reason: 'no_challenge', step: 'sign_in' });

    const c = await signInChallenge();
    expect((await post(c.jar, `/interaction/${c.uid}/passkey`, { csrf: c.csrf, response: JSON.stringify(synced.assert(c.challenge, undefined)) })).status).toBe(303);
    const { events } = await t.cliJson<{ events: AuditView[] }>('audit', 'tail', '--action', 'login.succeeded');
    expect(events.at(-1)?.detail).toMatchObject({ method: 'passkey', amr: ['swk', 'user'] });
  });
});

describe('a role that requires a passkey', () => {
  it('keeps the last passkey, reports missing factors, and turns a password-only sign-in into a passkey step-up', async () => {
    await t.cliJson('role', 'require-factor', 'data-scientist', 'passkey');
    const bea = await createUser(t, 'bea@example.com', ['data-scientist']);
    await t.server.policy.sync();
    const show = await t.cliJson<{ user: { factors: { missing: { factor: string; roles: string[] }[] } } }>('user', 'show', 'bea@example.com');
    expect(show.user.factors.missing).toEqual([{ factor: 'passkey', roles: ['data-scientist'] }]);
    const review = await t.cliJson<{ principals: { id: string; findings: { kind: string; role?: string }[]; factors: unknown }[] }>('review');
    expect(review.principals.find((p) => p.id === bea)?.findings).toContainEqual(expect.objectContaining({ kind: 'missing_required_factor', role: 'data-scientist' }));
    expect(review.principals.find((p) => p.id === userId)).toMatchObject({ factors: { totp: false, passkeys: 1 } });
    expect(review.principals.find((p) => p.id === userId)?.findings.map((f) => f.kind)).not.toContain('missing_required_factor');

    // Alice's password alone no longer finishes a sign-in: the two-step page asks for her passkey.
    const page = await loginPage();
    const res = await post(page.jar, `/interaction/${page.uid}/login`, { csrf: page.csrf, email: 'alice@example.com', password: 'correct horse battery staple' });
    expect(res.status).toBe(303);
    const next = await fetch(new URL(res.headers.get('location') ?? '', t.url).href.replace(t.issuer, t.url), { redirect: 'manual', headers: { cookie: page.jar.header() } });
    page.jar.store(next);
    const mfa = await fetch(`${t.url}${new URL(next.headers.get('location') ?? '', t.url).pathname}`, { headers: { cookie: page.jar.header() } });
    const html = await mfa.text();
    expect(html).toContain('Use a passkey');
    expect(html).not.toContain('name="code"');
    expect(html).toContain('requires a passkey');

    // Signed in to her account with the passkey alone (fresh), her only passkey still cannot be
    // removed while the role requires one.
    const jar = new CookieJar();
    let at = await follow(jar, `${t.url}/account/passkeys`);
    const uid = at.url.pathname.split('/').at(-1) ?? '';
    const csrf = field(await at.res.text(), 'csrf') ?? '';
    const options = (await (await post(jar, `/interaction/${uid}/passkey/options`, { csrf })).json()) as { challenge: string };
    const signedIn = await post(jar, `/interaction/${uid}/passkey`, { csrf, response: JSON.stringify(key.assert(options.challenge, undefined)) });
    at = await follow(jar, new URL(signedIn.headers.get('location') ?? '', t.url).href);
    expect(at.url.pathname).toBe('/account/passkeys');
    const list = await at.res.text();
    const id = /action="\/account\/passkeys\/([^/"]+)\/remove"/.exec(list)?.[1] ?? '';
    const refused = await post(jar, `/account/passkeys/${id}/remove`, { csrf: field(list, 'csrf') ?? '' });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toMatch(/Your role data-scientist requires a passkey, and this is your last one/);
    expect(await passkeyCount()).toBe(1);
    // Without the requirement, the same request removes it, audited and notified.
    await t.cliJson('role', 'require-factor', 'data-scientist', 'none');
    await t.server.policy.sync();
    const removed = await post(jar, `/account/passkeys/${id}/remove`, { csrf: field(list, 'csrf') ?? '' });
    expect(removed.status).toBe(303);
    expect(await passkeyCount()).toBe(0);
    const { notifications } = await t.cliJson<{ notifications: { type: string; data: Record<string, unknown> }[] }>('notifications', 'list');
    expect(notifications.find((n) => n.type === 'passkey.removed')?.data).toMatchObject({ user_id: userId, passkey_id: id });
  });
});

describe('a person with TOTP and a passkey, whose role requires a passkey', () => {
  it('cannot remove the passkey but can remove TOTP (one rule for both); an MFA reset removes the passkey, and it no longer signs in', async () => {
    await t.cliJson('role', 'require-factor', 'data-scientist', 'none');
    const carl = await createUser(t, 'carl@example.com', ['data-scientist']);
    const { secret } = await t.cliJson<{ secret: string }>('user', 'mfa', 'enroll', 'carl@example.com');
    await t.server.policy.sync();
    // A fresh sign-in with the app's code, then a passkey added on the account page.
    const { browser } = await walkSignIn(t, '/account/sign-in?mfa=1&return=/account/passkeys', 'carl@example.com', { totpSecret: secret });
    const carlsKey = new SoftAuthenticator(key.origin, key.rpId);
    const csrf = await browser.csrf('/account/passkeys');
    const options = (await (await browser.post('/account/passkeys/options', { csrf })).json()) as { challenge: string };
    const added = await browser.post('/account/passkeys', { csrf, name: 'Carl key', response: JSON.stringify(carlsKey.register(options.challenge)) });
    expect(added.status).toBe(303);

    await t.cliJson('role', 'require-factor', 'data-scientist', 'passkey');
    await t.server.policy.sync();
    const list = await (await browser.get('/account/passkeys')).text();
    const id = /action="\/account\/passkeys\/([^/"]+)\/remove"/.exec(list)?.[1] ?? '';
    const refused = await browser.post(`/account/passkeys/${id}/remove`, { csrf: field(list, 'csrf') ?? '' });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toMatch(/Your role data-scientist requires a passkey, and this is your last one/);
    // TOTP may go: the passkey the role requires stays.
    const totpRemoved = await browser.post('/account/totp/remove', { csrf: await browser.csrf('/account/') });
    expect(totpRemoved.status).toBe(303);
    const shown = await t.cliJson<{ user: { factors: Record<string, unknown> } }>('user', 'show', 'carl@example.com');
    expect(shown.user.factors).toMatchObject({ totp: false, passkeys: 1, required: [{ factor: 'passkey', roles: ['data-scientist'] }], missing: [] });

    // An administrator's reset removes the passkey and its outstanding ceremonies, audited with counts.
    await t.cliJson('user', 'mfa', 'reset', 'carl@example.com');
    const { events } = await t.cliJson<{ events: AuditView[] }>('audit', 'tail', '--action', 'admin.user.mfa_reset');
    expect(events.at(-1)?.detail).toMatchObject({ passkeys_removed: 1 });
    expect((await t.cliJson<{ user: { factors: Record<string, unknown> } }>('user', 'show', 'carl@example.com')).user.factors).toMatchObject({ totp: false, passkeys: 0 });
    const c = await signInChallenge();
    const res = await post(c.jar, `/interaction/${c.uid}/passkey`, { csrf: c.csrf, response: JSON.stringify(carlsKey.assert(c.challenge, Buffer.from(carl).toString('base64url'))) });
    expect(res.status).toBe(401);
    expect(await lastRefusal()).toMatchObject({ step: 'sign_in' });
    await t.cliJson('role', 'require-factor', 'data-scientist', 'none');
  });
});

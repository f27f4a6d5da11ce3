// The console's endpoints under hostile input, over real HTTP with a real sign-in (code + PKCE):
// a replayed code, a code without or with another verifier, a person without a console scope,
// a session cookie copied before sign-out, forged or
// missing form tokens, another session's token, tampered and expired session cookies, a sign-in
// answer this browser did not start, open redirects through `back`, unknown actions, wrong
// methods and media types, repeated fields, input the operation refuses, and a role removed
// mid-session. Every answer is a page with a 4xx status, never a 500, and nothing changes.
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountBrowser } from '../helpers/account-pages.ts';
import { callbackPath, consoleAnswer, consoleSession, type ConsoleBrowser } from '../helpers/console-browser.ts';
import { createUser } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let root: ConsoleBrowser;
let other: ConsoleBrowser;
let id: string;

const setsSession = (res: Response): boolean => res.headers.getSetCookie().some((c) => c.startsWith('govauth.console=') && !c.startsWith('govauth.console=;'));

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  id = (await t.cliJson<{ client_id: string }>('client', 'create', '--name', 'bot', '--grant', 'client_credentials')).client_id;
  root = await consoleSession(t, 'root@example.com', 'govauth-admin');
  other = await consoleSession(t, 'other@example.com', 'govauth-admin');
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe('console input', () => {
  it('sends a browser without a session to govauth sign-in for the console client, asking for the MFA acr', async () => {
    const res = await new AccountBrowser(t.url).get('/console/audit');
    expect(res.status).toBe(303);
    const to = new URL(res.headers.get('location') ?? '');
    expect(to.searchParams.get('client_id')).toBe('govauth-console');
    expect(to.searchParams.get('acr_values')).toBe('urn:govauth:acr:mfa');
    expect(to.searchParams.get('redirect_uri')).toBe(`${t.issuer}/console/signed-in`);
  });

  it('asks for an authorization code with PKCE S256, a nonce and the admin API as its audience', async () => {
    const to = new URL((await new AccountBrowser(t.url).get('/console')).headers.get('location') ?? '');
    expect(to.searchParams.get('response_type')).toBe('code');
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(to.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(to.searchParams.get('nonce')?.length).toBeGreaterThanOrEqual(43);
    expect(to.searchParams.get('resource')).toBe('urn:govauth:admin');
    expect(to.searchParams.get('scope')?.split(' ')).toEqual(['openid', 'govauth.admin', 'govauth.audit.read']);
  });

  it('refuses a replayed code, and the replay ends the session its first use opened', async () => {
    await createUser(t, 'replay@example.com', ['govauth-admin']);
    const { callback, steps } = await consoleAnswer(t, 'replay@example.com');
    const pending = steps.jar.header(); // still holds the one-use sign-in cookie
    const first = new AccountBrowser(t.url, steps.jar);
    expect((await first.get(callbackPath(callback))).status).toBe(303);
    expect((await first.get('/console')).status).toBe(200);
    const replay = await fetch(`${t.url}${callbackPath(callback)}`, { redirect: 'manual', headers: { cookie: pending } });
    expect(replay.status).toBe(400);
    expect(setsSession(replay)).toBe(false);
    // oidc-provider revokes the grant of a code used twice (RFC 6749 §4.1.2); the console's token with it.
    const after = await first.get('/console');
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toContain('/auth');
  });

  it('a console code is good only with its PKCE verifier, at the token endpoint as at the console', async () => {
    await createUser(t, 'pkce@example.com', ['govauth-admin']);
    const { callback } = await consoleAnswer(t, 'pkce@example.com');
    const code = callback.searchParams.get('code') ?? '';
    const exchange = (extra: Record<string, string>) =>
      fetch(`${t.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'govauth-console', code, redirect_uri: `${t.issuer}/console/signed-in`, ...extra }) });
    for (const extra of [{}, { code_verifier: 'x'.repeat(43) }] as Record<string, string>[]) {
      const res = await exchange(extra);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/^invalid_(grant|request)$/);
    }
    // The same answer in a browser that did not start it (no verifier of its own) opens nothing.
    const res = await new AccountBrowser(t.url).get(callbackPath(callback));
    expect(res.status).toBe(400);
    expect(setsSession(res)).toBe(false);
  });

  it('refuses a person holding neither console role before any token is issued, and records it', async () => {
    await createUser(t, 'requester@example.com', ['govauth-requester']);
    const { callback, steps } = await consoleAnswer(t, 'requester@example.com');
    const res = await new AccountBrowser(t.url, steps.jar).get(callbackPath(callback));
    expect(res.status).toBe(403);
    expect(setsSession(res)).toBe(false);
    const audit = await t.cliJson<{ events: { outcome: string; detail: { reason?: string } }[] }>('audit', 'tail', '--action', 'console.sign_in', '--limit', '5');
    expect(audit.events.some((r) => r.outcome === 'denied' && r.detail.reason === 'no console role')).toBe(true);
  });

  it('signing out revokes the console’s token: a copy of the session cookie opens nothing', async () => {
    const b = await consoleSession(t, 'leaver@example.com', 'govauth-admin');
    const copy = b.jar.header();
    const csrf = await b.csrf('/console');
    expect((await b.post('/console/sign-out', { csrf })).status).toBe(200);
    const res = await fetch(`${t.url}/console`, { redirect: 'manual', headers: { cookie: copy } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toContain('/auth');
    const revs = await t.cliJson<{ revocations: { kind: string; reason: string | null }[] }>('revocations', 'list');
    expect(revs.revocations.some((r) => r.kind === 'token' && r.reason === 'signed out of the console')).toBe(true);
  });

  it('refuses a sign-in answer this browser did not start, or with the wrong state or issuer', async () => {
    for (const query of ['', '?state=x&iss=' + encodeURIComponent(t.issuer), '?state=x&iss=https://evil.example']) {
      const res = await new AccountBrowser(t.url).get(`/console/signed-in${query}`);
      expect(res.status).toBe(400);
      expect(res.headers.getSetCookie().some((c) => c.startsWith('govauth.console='))).toBe(false);
    }
    const b = new AccountBrowser(t.url);
    const started = await b.get('/console');
    const state = new URL(started.headers.get('location') ?? '').searchParams.get('state') ?? '';
    expect((await b.get(`/console/signed-in?state=${state}x&iss=${encodeURIComponent(t.issuer)}`)).status).toBe(400);
  });

  it('treats a tampered session cookie as none', async () => {
    const header = root.jar.header().replace(/govauth\.console=([^;]+)/, () => `govauth.console=${Buffer.from(JSON.stringify({ u: 'usr_x', s: 'x', k: 'x', t: Date.now(), l: Date.now() })).toString('base64url')}`);
    const res = await fetch(`${t.url}/console`, { redirect: 'manual', headers: { cookie: header } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toContain('/auth');
  });

  it('refuses posts without the session’s form token, with another session’s, or not a form', async () => {
    const theirs = await other.csrf();
    for (const form of [{ id, confirmed: 'yes' }, { id, confirmed: 'yes', csrf: theirs }, { id, confirmed: 'yes', csrf: 'A'.repeat(43) }] as Record<string, string>[]) {
      expect((await root.post('/console/actions/client-disable', form)).status).toBe(403);
    }
    const csrf = await root.csrf();
    expect((await root.post('/console/actions/client-disable', { id, confirmed: 'yes', csrf }, { 'content-type': 'application/json' })).status).toBe(415);
    const twice = await root.postRaw('/console/actions/client-disable', `csrf=${csrf}&id=${id}&id=cl_other&confirmed=yes`);
    expect(twice.status).toBe(400);
    expect(t.server.policy.snapshot().clients.get(id)?.disabled).toBe(false);
  });

  it('answers unknown actions, pages and methods with 404 and 405 pages', async () => {
    const csrf = await root.csrf();
    expect((await root.post('/console/actions/no-such-action', { csrf })).status).toBe(404);
    expect((await root.get('/console/no-such-page')).status).toBe(404);
    expect((await root.post('/console/actions/../../admin', { csrf })).status).toBe(404);
    const put = await fetch(`${t.url}/console/clients`, { method: 'PUT', headers: { cookie: root.jar.header() } });
    expect(put.status).toBe(405);
  });

  it('never redirects off the console through back', async () => {
    const csrf = await root.csrf();
    for (const back of ['https://evil.example/', '//evil.example/console', '/console/../admin/v1/clients', '/console\\@evil.example', '/account/delegations']) {
      const res = await root.post('/console/actions/scope-create', { csrf, back, name: `ok.${Math.random().toString(36).slice(2, 8)}`, description: 'a scope', sensitivity: 'low' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/console');
    }
  });

  it('shows what the operation refuses, as a 400 page, and changes nothing', async () => {
    const csrf = await root.csrf();
    const before = (await t.cliJson<{ revocations: unknown[] }>('revocations', 'list')).revocations.length;
    for (const form of [{ kind: 'bogus', target: 'x' }, { kind: 'user', target: 'not an email' }, { kind: 'client', target: 'x'.repeat(5000) }]) {
      const res = await root.post('/console/actions/revoke', { csrf, confirmed: 'yes', reason: 'test', ...form });
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(/<main[^>]*>[\s\S]*Not done/);
    }
    expect((await t.cliJson<{ revocations: unknown[] }>('revocations', 'list')).revocations.length).toBe(before);
    const clients = t.server.policy.snapshot().clients.size;
    for (const form of [{ jwks: '{not json', auth_method: 'private_key_jwt' }, { auth_method: 'bogus' }, { jwks: '{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}' }, { grants: 'implicit' }] as Record<string, string>[]) {
      const res = await root.post('/console/actions/client-create', { csrf, name: 'hostile', grants: 'client_credentials', ...form });
      expect(res.status).toBe(400);
    }
    expect(t.server.policy.snapshot().clients.size).toBe(clients);
    const export_ = await root.get('/console/audit/export?since=not-a-time');
    expect(export_.status).toBe(400);
    expect((await root.get('/console/audit?since=yesterday%00')).status).toBe(400);
  });

  it('self-registration, notification and policy actions answer refused input with 4xx pages', async () => {
    const csrf = await root.csrf();
    for (const [action, form, status] of [
      ['self-registered-approve', { id: 'https://nobody.example/client.json' }, 404],
      ['self-registered-block', { id: 'cl_nobody', confirmed: 'yes' }, 404],
      ['self-registered-restrict', { id: 'cl_nobody' }, 400],
      ['notification-retry', { id: 'evt_nobody' }, 404],
      ['policy-activate', { version: 'abc', confirmed: 'yes' }, 400],
      ['policy-activate', { version: '424242', confirmed: 'yes' }, 404],
    ] as const) {
      const res = await root.post(`/console/actions/${action}`, { csrf, ...form });
      expect(res.status, action).toBe(status);
    }
    for (const path of ['/console/self-registered', '/console/notifications', '/console/policies']) expect((await root.get(path)).status, path).toBe(200);
    const explained = await root.get(`/console/policies/explain?user=root%40example.com&resource=${encodeURIComponent('urn:govauth:admin')}&scope=govauth.admin`);
    expect(explained.status).toBe(200);
    expect(await explained.text()).toMatch(/Permitted: govauth\.admin on urn:govauth:admin[\s\S]*granted through govauth-admin/);
    expect((await root.get('/console/policies/explain?user=root%40example.com&resource=urn%3Agovauth%3Aadmin')).status).toBe(400);
    expect((await root.get('/console/policies/explain?user=nobody%40example.com&resource=urn%3Agovauth%3Aadmin&scope=govauth.admin')).status).toBe(404);
    expect((await root.get('/console/policies/show?version=abc')).status).toBe(404);
    // Attributes are shown read-only, by the person's email.
    await t.cliJson('user', 'attr', 'set', 'root@example.com', 'department=research');
    await t.server.policy.sync(); // the change feed, applied here now rather than at the next poll
    const html = await (await root.get('/console/policies')).text();
    expect(html).toMatch(/person\s*<\/th>\s*<td>\s*root@example\.com\s*<\/td>\s*<td>\s*department=research/);
  });

  it('role hierarchy and exclusive sets: the operation’s own refusals, and a change shown in the tree', async () => {
    const csrf = await root.csrf();
    expect((await root.post('/console/actions/role-include', { csrf, name: 'govauth-admin', included: 'govauth-auditor' })).status).toBe(303);
    const tree = await (await root.get('/console/roles/show?name=govauth-admin')).text();
    expect(tree).toMatch(/Roles it includes[\s\S]*govauth-auditor/);
    // govauth-auditor including govauth-admin would be a cycle (409); an unknown role is 404.
    expect((await root.post('/console/actions/role-include', { csrf, name: 'govauth-auditor', included: 'govauth-admin' })).status).toBe(409);
    expect((await root.post('/console/actions/role-include', { csrf, name: 'no-such-role', included: 'govauth-admin' })).status).toBe(404);
    expect((await root.get('/console/roles/show?name=no-such-role')).status).toBe(404);
    expect((await root.get('/console/roles/show')).status).toBe(400); // no role named
    expect((await root.post('/console/actions/exclusive-set-create', { csrf, roles: 'govauth-admin' })).status).toBe(400);
    expect((await root.post('/console/actions/role-exclude', { csrf, name: 'govauth-admin', included: 'govauth-auditor', confirmed: 'yes' })).status).toBe(303);
    expect(t.server.policy.snapshot().roles.get('govauth-admin')?.includes?.size ?? 0).toBe(0);
  });

  it('access policies: set and stopped through the console, refused input answered with 4xx pages', async () => {
    const csrf = await root.csrf();
    const set = await root.post('/console/actions/access-policy-set', { csrf, role: 'govauth-auditor', approver_role: 'govauth-admin', approvals: '2', max_duration: '8h' });
    expect(set.status).toBe(303);
    const page = await (await root.get('/console/access-policies')).text();
    expect(page).toContain('2 approvers holding govauth-admin');
    for (const [action, form, status] of [
      ['access-policy-set', { role: 'govauth-auditor', approvals: '3' }, 400],
      ['access-policy-set', { role: 'no-such-role', approver_role: 'govauth-admin', max_duration: '8h' }, 404],
      ['scope-policy-set', { scope: 'govauth.audit.read', resource: 'urn:govauth:admin', max_duration: 'forever' }, 400],
      ['scope-policy-remove', { scope: 'no.such', resource: 'urn:nowhere', confirmed: 'yes' }, 404],
      ['user-scope-grant-remove', { email: 'nobody@example.com', scope: 'x.y', resource: 'urn:x', confirmed: 'yes' }, 404],
      ['client-scope-grant-remove', { id: 'cl_nobody', scope: 'x.y', resource: 'urn:x', confirmed: 'yes' }, 404],
    ] as const) {
      expect((await root.post(`/console/actions/${action}`, { csrf, ...form })).status, `${action} ${JSON.stringify(form)}`).toBe(status);
    }
    expect((await root.post('/console/actions/access-policy-remove', { csrf, role: 'govauth-auditor', confirmed: 'yes' })).status).toBe(303);
    expect(await (await root.get('/console/access-policies')).text()).not.toContain('2 approvers holding govauth-admin');
  });

  it('asks before a destructive change, and a confirmation page changes nothing', async () => {
    const csrf = await root.csrf();
    const res = await root.post('/console/actions/client-disable', { csrf, id, back: '/console/clients' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('can no longer authenticate');
    expect(t.server.policy.snapshot().clients.get(id)?.disabled).toBe(false);
  });

  it('the person page: 400 without an email, 404 for nobody; ending a session asks first, refuses a missing form token, bad and unknown ids', async () => {
    expect((await root.get('/console/person')).status).toBe(400);
    expect((await root.get('/console/person?email=nobody%40example.com')).status).toBe(404);
    expect((await root.get('/console/person?email=not-an-email')).status).toBe(400);
    const ended = await consoleSession(t, 'ended@example.com', 'govauth-admin');
    const page = await (await root.get('/console/person?email=ended%40example.com')).text();
    expect(page).toMatch(/Second factors[\s\S]*Authenticator app \(TOTP\)[\s\S]*enrolled/);
    const sessionId = /name="id" value="([\w-]{22})"/.exec(page)?.[1] ?? '';
    expect(sessionId).not.toBe('');
    const form = { email: 'ended@example.com', id: sessionId, back: '/console/person?email=ended%40example.com' };
    expect((await root.post('/console/actions/user-session-end', { ...form, confirmed: 'yes' })).status).toBe(403); // no form token
    const csrf = await root.csrf();
    const asked = await root.post('/console/actions/user-session-end', { csrf, ...form });
    expect(asked.status).toBe(200);
    expect(await asked.text()).toContain('that browser is signed out');
    expect((await ended.get('/console')).status).toBe(200); // asking changed nothing
    for (const [id, status] of [['x', 400], ['A'.repeat(22), 404], ['', 400]] as const) {
      expect((await root.post('/console/actions/user-session-end', { csrf, ...form, id, confirmed: 'yes' })).status, id).toBe(status);
    }
    const done = await root.post('/console/actions/user-session-end', { csrf, ...form, confirmed: 'yes' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/console/person?email=ended%40example.com');
    // That browser is signed out of govauth, so of the console too.
    const after = await ended.get('/console');
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toContain('/auth');
  });

  it('changing a client’s authentication method: refused without the form token or with contradictory input; a new secret is shown once', async () => {
    const keyed = (await t.cliJson<{ client_id: string }>('client', 'create', '--name', 'auth-bot', '--grant', 'client_credentials', '--roles', 'data-scientist')).client_id;
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1' }] });
    expect((await root.post('/console/actions/client-auth', { id: keyed, auth_method: 'private_key_jwt', jwks, confirmed: 'yes' })).status).toBe(403);
    const csrf = await root.csrf();
    for (const form of [{ auth_method: 'none' }, { auth_method: 'private_key_jwt' }, { auth_method: 'private_key_jwt', jwks: '{not json' }, { auth_method: 'tls_client_auth', tls_subject_dn: 'CN=x', jwks }, { auth_method: '' }] as Record<string, string>[]) {
      const res = await root.post('/console/actions/client-auth', { csrf, id: keyed, confirmed: 'yes', ...form });
      expect(res.status, JSON.stringify(form)).toBe(400);
    }
    expect(t.server.policy.snapshot().clients.get(keyed)?.jwks ?? null).toBeNull();
    const moved = await root.post('/console/actions/client-auth', { csrf, id: keyed, auth_method: 'private_key_jwt', jwks, confirmed: 'yes' });
    expect(moved.status).toBe(303);
    expect(t.server.policy.snapshot().clients.get(keyed)?.secretHash).toBeNull();
    const back = await root.post('/console/actions/client-auth', { csrf, id: keyed, auth_method: 'client_secret', confirmed: 'yes' });
    expect(back.status).toBe(200);
    const secret = [...(await back.text()).matchAll(/<code class="secret">([^<]+)<\/code>/g)].map((m) => m[1])[1] ?? '';
    const token = await fetch(`${t.url}/token`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${keyed}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'client_credentials', resource: 'https://models.example' }) });
    expect(token.status, await token.clone().text()).toBe(200);
  });

  it('ends the session with its access token: past the token’s expiry the console signs in again', async () => {
    const b = await consoleSession(t, 'brief@example.com', 'govauth-admin');
    expect((await b.get('/console')).status).toBe(200);
    // govauth.admin caps the token at 900 s; the idle (30 min) and absolute (8 h) limits are far off.
    t.advance(901_000);
    const res = await b.get('/console');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toContain('/auth');
    t.advance(-901_000); // the other sessions' tokens are good again for the tests after this one
  });

  it('closes the console when the role goes, and after 30 idle minutes', async () => {
    await t.cliJson('user', 'revoke-role', 'other@example.com', 'govauth-admin');
    expect((await other.get('/console')).status).toBe(403);
    t.advance(31 * 60_000);
    const res = await root.get('/console');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toContain('/auth');
  });
});

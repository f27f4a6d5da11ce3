// Attacks on the authorization code: replay, races, another client redeeming it, redirect_uri
// manipulation (exact string matching, RFC 9700 §4.1.3), open redirects at logout and in error
// responses, and PKCE misuse (RFC 9700 §2.1.1, RFC 7636), for confidential and public clients.
import type * as oidc from 'openid-client';
import * as openid from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientCreds } from '../helpers/oauth.ts';
import { API, REDIRECT, createUser, createWebApp, discover, createResourceServer } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { field } from '../helpers/cookie-jar.ts';
import { Agent, NAVIGATE, isActive, oauthError, postToken, redeem, signInForCode, type SignedIn } from './helpers/flows.ts';

type App = { client_id: string; client_secret: string | null };
const OTHER_REDIRECT = 'https://app.example/other-callback';
const SCOPE = 'openid offline_access ai.training.read';
// Any well-formed S256 challenge: these requests never get as far as a code.
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

let t: TestServer;
let rs: ClientCreds;
let web: App; // confidential, registered with REDIRECT and OTHER_REDIRECT
let other: App; // a second confidential app with the same redirect URI
let spa: App; // public
let webConfig: oidc.Configuration;
let spaConfig: oidc.Configuration;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  rs = await createResourceServer(t, 'rs');
  for (const name of ['ann', 'bea', 'cal', 'dot']) await createUser(t, `${name}@example.com`, ['data-scientist']);
  web = await createWebApp(t, ['--redirect-uri', OTHER_REDIRECT]);
  other = await createWebApp(t);
  spa = await t.cliJson<App>('client', 'create', '--name', 'Notebook SPA', '--grant', 'authorization_code', '--redirect-uri', REDIRECT, '--public');
  await t.server.policy.sync();
  webConfig = await discover(t, web);
  spaConfig = await discover(t, spa);
});
afterAll(() => t?.stop());

/** A raw /auth URL: every parameter of a valid request, overridable; `null` leaves one out. */
function authUrl(clientId: string, params: Record<string, string | null> = {}): string {
  const all: Record<string, string | null> = {
    client_id: clientId, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid ai.training.read', resource: API,
    state: 'st-1', code_challenge: CHALLENGE, code_challenge_method: 'S256', ...params,
  };
  const query = new URLSearchParams(Object.entries(all).filter((e): e is [string, string] => e[1] !== null));
  return `${t.issuer}/auth?${String(query)}`;
}
const get = (url: string) => fetch(url, { redirect: 'manual', headers: NAVIGATE });
const codeParams = (s: SignedIn, overrides: Record<string, string> = {}) => ({
  grant_type: 'authorization_code', code: s.code, redirect_uri: REDIRECT, code_verifier: s.req.verifier, ...overrides,
});

/** govauth's own error page: a 400 page, and no redirect anywhere. */
async function expectErrorPage(res: Response, label: string): Promise<string> {
  expect(res.status, label).toBe(400);
  expect(res.headers.get('location'), label).toBeNull();
  const html = await res.text();
  expect(html, label).toContain('/assets/govauth.css');
  return html;
}

describe('code replay and races', () => {
  it('replay: the second redemption is invalid_grant and revokes the access and refresh tokens of the first (RFC 6749 §4.1.2)', async () => {
    const s = await signInForCode(webConfig, 'ann@example.com', SCOPE, { prompt: 'consent' });
    const first = await redeem(webConfig, s);
    expect(await isActive(t.issuer, rs, first.access_token)).toBe(true);
    const replay = await postToken(t.issuer, codeParams(s), web);
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await isActive(t.issuer, rs, first.access_token)).toBe(false);
    expect(await oauthError(openid.refreshTokenGrant(webConfig, first.refresh_token!))).toBe('invalid_grant');
  });

  it('race: of two concurrent redemptions of one code at most one gets tokens, and they are revoked (RFC 6749 §4.1.2)', async () => {
    const s = await signInForCode(webConfig, 'bea@example.com', SCOPE, { prompt: 'consent' });
    const both = await Promise.all([postToken(t.issuer, codeParams(s), web), postToken(t.issuer, codeParams(s), web)]);
    const refused = both.filter((r) => r.status === 400);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) expect(r.body.error).toBe('invalid_grant');
    const winners = both.filter((r) => typeof r.body.access_token === 'string');
    expect(winners.length).toBeLessThanOrEqual(1);
    // Whichever redemption lost revoked the grant before answering, so whatever the other one
    // got (the code may have been intercepted) no longer works.
    for (const w of winners) {
      expect(await isActive(t.issuer, rs, String(w.body.access_token))).toBe(false);
      expect(await oauthError(openid.refreshTokenGrant(webConfig, String(w.body.refresh_token)))).toBe('invalid_grant');
    }
  });

  it('race, at the storage layer: the redemption that loses the consume revokes the grant first', async () => {
    // Over HTTP the second request usually reads the code after the first consumed it, which is
    // oidc-provider's own replay path; two reads before either write can only be forced here.
    const s = await signInForCode(webConfig, 'dot@example.com', SCOPE, { prompt: 'consent' });
    const { createAdapterFactory } = await import('../../src/oidc/oidc-adapter.ts');
    const revoked: string[] = [];
    const codes = createAdapterFactory({ db: t.server.db, policy: t.server.policy, now: Date.now, onGrantRevoked: (grantId) => Promise.resolve(void revoked.push(grantId)) })('AuthorizationCode');
    const stored = await codes.find(s.code);
    expect(stored?.grantId).toEqual(expect.any(String));
    await codes.consume(s.code); // the redemption that won
    expect(revoked).toEqual([]);
    await expect(codes.consume(s.code)).rejects.toMatchObject({ error: 'invalid_grant' }); // the one that lost
    expect(revoked).toEqual([stored?.grantId]);
    // And only codes: a lost consume of another model revokes nothing.
    const other = createAdapterFactory({ db: t.server.db, policy: t.server.policy, now: Date.now, onGrantRevoked: (grantId) => Promise.resolve(void revoked.push(grantId)) })('Interaction');
    await expect(other.consume('no-such-interaction')).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(revoked).toHaveLength(1);
  });

  it("another client's code: invalid_grant for the other client, which cannot burn it either (RFC 6749 §4.1.3)", async () => {
    const s = await signInForCode(webConfig, 'cal@example.com', SCOPE, { prompt: 'consent' });
    const stolen = await postToken(t.issuer, codeParams(s), other);
    expect(stolen).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(stolen.body.access_token).toBeUndefined();
    // oidc-provider refuses before consuming: the code stays bound to its client (and its PKCE
    // verifier), so a client that got hold of it can neither use it nor cancel the person's sign-in.
    const legit = await redeem(webConfig, s);
    expect(await isActive(t.issuer, rs, legit.access_token)).toBe(true);
    // Once used, presenting it as the other client is still a client mismatch, not a replay: it
    // does not let that client revoke the person's grant either.
    expect(await postToken(t.issuer, codeParams(s), other)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await isActive(t.issuer, rs, legit.access_token)).toBe(true);
  });
});

describe('redirect_uri manipulation (exact string matching, RFC 9700 §4.1.3)', () => {
  it('accepts the registered redirect_uri exactly (the control for the variants below)', async () => {
    const res = await get(authUrl(web.client_id));
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location') ?? '', t.issuer).pathname).toMatch(/^\/interaction\//);
  });

  it.each([
    ['a prefix of the path', 'https://app.example/call'],
    ['a suffix on the path', 'https://app.example/callback-evil'],
    ['an extra path segment', 'https://app.example/callback/evil'],
    ['a sub-domain', 'https://evil.app.example/callback'],
    ['the host as a prefix of another host', 'https://app.example.evil.example/callback'],
    ['a .. path', 'https://app.example/callback/../evil'],
    ['an encoded .. path', 'https://app.example/callback/%2e%2e/evil'],
    ['a case change in the path', 'https://app.example/Callback'],
    ['a case change in the host', 'https://APP.example/callback'],
    ['a trailing slash', 'https://app.example/callback/'],
    ['user@host sending to another host', 'https://app.example@evil.example/callback'],
    ['userinfo before the registered host', 'https://evil.example@app.example/callback'],
    ['an extra query', 'https://app.example/callback?next=https://evil.example'],
    ['a fragment', 'https://app.example/callback#evil'],
    ['another scheme', 'http://app.example/callback'],
    ['a custom scheme', 'app.example://callback'],
    ['another port', 'https://app.example:8443/callback'],
    ['the default port spelled out', 'https://app.example:443/callback'],
  ])('refuses %s with its own error page, never redirecting: %s', async (label, uri) => {
    const html = await expectErrorPage(await get(authUrl(web.client_id, { redirect_uri: uri })), label);
    expect(html).toContain('invalid_redirect_uri');
  });

  it('refuses a code redeemed with another redirect_uri than the authorization request had: invalid_grant (RFC 6749 §4.1.3)', async () => {
    const s = await signInForCode(webConfig, 'ann@example.com', 'openid ai.training.read');
    // OTHER_REDIRECT is registered for this client too: only the one used at /auth is accepted.
    const res = await postToken(t.issuer, codeParams(s, { redirect_uri: OTHER_REDIRECT }), web);
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(res.body.access_token).toBeUndefined();
  });
});

describe('open redirects', () => {
  const endSession = (params: Record<string, string>) => get(`${t.issuer}/session/end?${String(new URLSearchParams(params))}`);

  it('sign-out does not redirect to an unregistered post_logout_redirect_uri', async () => {
    // The control: the registered one ends at that URI once the sign-out form is posted.
    const agent = new Agent();
    const query = new URLSearchParams({ client_id: web.client_id, post_logout_redirect_uri: 'https://app.example/bye', state: 'st-2' });
    const confirm = await agent.send(`${t.issuer}/session/end?${String(query)}`);
    expect(confirm.status).toBe(200);
    const html = await confirm.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? '';
    const done = await agent.send(action, { xsrf: field(html, 'xsrf') ?? '', logout: 'yes' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('https://app.example/bye?state=st-2');
    for (const uri of ['https://evil.example/bye', 'https://app.example/bye/../evil', 'https://app.example/bye?x=1', 'https://app.example.evil.example/bye']) {
      const html = await expectErrorPage(await endSession({ client_id: web.client_id, post_logout_redirect_uri: uri }), uri);
      expect(html, uri).not.toContain('evil.example');
    }
  });

  it('an error response is redirected only to a registered redirect_uri, never to an unregistered one', async () => {
    // The control: the same errors with the registered URI are error redirects to the app.
    const control = await get(authUrl(web.client_id, { code_challenge: null, code_challenge_method: null }));
    expect(control.status).toBe(303);
    expect(new URL(control.headers.get('location') ?? '').searchParams.get('error')).toBe('invalid_request');
    for (const params of [
      { code_challenge: null, code_challenge_method: null }, // invalid_request
      { response_type: 'token' }, // unsupported_response_type
      { prompt: 'none' }, // login_required
      { scope: 'openid ai.nonexistent' }, // invalid_scope
    ] as Record<string, string | null>[]) {
      const label = JSON.stringify(params);
      await expectErrorPage(await get(authUrl(web.client_id, { ...params, redirect_uri: 'https://evil.example/callback' })), label);
    }
    await expectErrorPage(await get(authUrl('cl_unknown', { redirect_uri: 'https://evil.example/callback' })), 'unknown client');
  });
});

describe('scope and resource', () => {
  it('refuses a resource named without any of its scopes with invalid_scope, before sign-in, never a code that cannot be exchanged', async () => {
    const res = await get(authUrl(web.client_id, { scope: 'openid' }));
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get('error')).toBe('invalid_scope');
    expect(location.searchParams.get('error_description')).toContain(API);
    expect(location.searchParams.has('code')).toBe(false);
    // A sign-in only (no resource) is fine: it goes on to the login page.
    const signInOnly = await get(authUrl(web.client_id, { scope: 'openid', resource: null }));
    expect(signInOnly.status).toBe(303);
    expect(signInOnly.headers.get('location')).toMatch(/^\/interaction\//);
  });
});

describe.each([
  ['confidential', () => ({ app: web, config: webConfig })],
  ['public', () => ({ app: spa, config: spaConfig })],
])('PKCE, %s client (RFC 9700 §2.1.1)', (_kind, client) => {
  /** An error redirect to the registered URI carrying `error`, the state, and no code. */
  function expectErrorRedirect(res: Response, error: string): void {
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get('error')).toBe(error);
    expect(location.searchParams.get('state')).toBe('st-1');
    expect(location.searchParams.has('code')).toBe(false);
  }

  it('refuses a request without code_challenge (so no code exists that a bare verifier could redeem): invalid_request', async () => {
    expectErrorRedirect(await get(authUrl(client().app.client_id, { code_challenge: null, code_challenge_method: null })), 'invalid_request');
  });

  it('refuses code_challenge_method=plain: invalid_request', async () => {
    expectErrorRedirect(await get(authUrl(client().app.client_id, { code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' })), 'invalid_request');
  });

  it('refuses a challenge without a method (RFC 7636 §4.3 would default it to plain): invalid_request', async () => {
    expectErrorRedirect(await get(authUrl(client().app.client_id, { code_challenge_method: null })), 'invalid_request');
  });

  it('refuses a wrong code_verifier at /token: invalid_grant', async () => {
    const { app, config } = client();
    const s = await signInForCode(config, 'bea@example.com', 'openid ai.training.read');
    const res = await postToken(t.issuer, codeParams(s, { code_verifier: openid.randomPKCECodeVerifier() }), app);
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(res.body.access_token).toBeUndefined();
  });

  it('refuses a code redeemed without its code_verifier (downgrade at the token endpoint): invalid_grant', async () => {
    const { app, config } = client();
    const s = await signInForCode(config, 'cal@example.com', 'openid ai.training.read');
    const { code_verifier: _omitted, ...withoutVerifier } = codeParams(s);
    const res = await postToken(t.issuer, withoutVerifier, app);
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(res.body.access_token).toBeUndefined();
  });
});

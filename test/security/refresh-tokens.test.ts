// Attacks with refresh tokens: reuse of a rotated (stolen) one, use by another client, scope
// escalation at refresh, and use after the person was disabled or revoked. Every refresh is a
// governance decision made again (README "Sign in a person"), never a replay of the consent.
import type * as oidc from 'openid-client';
import * as openid from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, type ClientCreds } from '../helpers/oauth.ts';
import { REDIRECT, createUser, createWebApp, discover, createResourceServer } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { isActive, postToken, redeem, signInForCode } from './helpers/flows.ts';

type App = { client_id: string; client_secret: string | null };
const OFFLINE = 'openid offline_access ai.training.read ai.training.analyze';

let t: TestServer;
let rs: ClientCreds;
let appA: App;
let appB: App; // another confidential app, same redirect URI, its own valid secret
let spa: App; // a public app
let configA: oidc.Configuration;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  rs = await createResourceServer(t, 'rs');
  for (const name of ['rita', 'sam', 'tess', 'uma', 'vic', 'walt', 'xena', 'yara']) await createUser(t, `${name}@example.com`, ['data-scientist']);
  await t.cliJson('role', 'create', 'trainee', '--scopes', 'ai.training.read', '--description', 'reads training data only');
  appA = await createWebApp(t);
  appB = await createWebApp(t);
  spa = await t.cliJson<App>('client', 'create', '--name', 'Notebook SPA', '--grant', 'authorization_code', '--redirect-uri', REDIRECT, '--public');
  await t.server.policy.sync();
  configA = await discover(t, appA);
});
afterAll(() => t?.stop());

/** Signs in with offline_access (and prompt=consent, OIDC Core §11) and redeems the code. */
async function offlineTokens(email: string, scope = OFFLINE) {
  return redeem(configA, await signInForCode(configA, email, scope, { prompt: 'consent' }));
}
const refresh = (rt: string, client: App = appA, extra: Record<string, string> = {}) =>
  postToken(t.issuer, { grant_type: 'refresh_token', refresh_token: rt, ...extra }, client);
const active = (token: string) => isActive(t.issuer, rs, token);
const scopeOf = (accessToken: unknown) => decodeJwt(String(accessToken)).payload.scope;
const INVALID_GRANT = { status: 400, body: { error: 'invalid_grant' } };

describe('refresh-token theft', () => {
  it('reuse of a rotated refresh token: invalid_grant, the newest refresh token dies and every access token of the grant turns inactive (RFC 9700 §4.14.2)', async () => {
    const first = await offlineTokens('rita@example.com');
    const second = await openid.refreshTokenGrant(configA, first.refresh_token!);
    const third = await openid.refreshTokenGrant(configA, second.refresh_token!);
    for (const at of [first, second, third].map((x) => x.access_token)) expect(await active(at)).toBe(true);

    const reuse = await refresh(second.refresh_token!); // already rotated: someone else holds a copy
    expect(reuse).toMatchObject(INVALID_GRANT);
    expect(reuse.body.access_token).toBeUndefined();
    expect(await refresh(third.refresh_token!)).toMatchObject(INVALID_GRANT);
    for (const [i, at] of [first, second, third].map((x) => x.access_token).entries()) expect(await active(at), `access token ${i + 1}`).toBe(false);
  });

  it("another client presenting app A's refresh token (with its own valid credentials) gets invalid_grant and nothing else; A is unaffected", async () => {
    const tokens = await offlineTokens('sam@example.com');
    const byB = await refresh(tokens.refresh_token!, appB);
    expect(byB).toMatchObject(INVALID_GRANT);
    expect(byB.body.access_token).toBeUndefined();
    const byPublic = await refresh(tokens.refresh_token!, spa);
    expect(byPublic).toMatchObject(INVALID_GRANT);
    expect(byPublic.body.access_token).toBeUndefined();
    // RFC 6749 §6: the token is bound to the client it was issued to. A foreign client is refused
    // before anything is consumed, so it cannot burn A's grant either (no denial of service).
    expect(await active(tokens.access_token)).toBe(true);
    const byA = await refresh(tokens.refresh_token!, appA);
    expect(byA.status).toBe(200);
    expect(await active(String(byA.body.access_token))).toBe(true);
  });
});

describe('scope escalation at refresh (RFC 6749 §6: no scope beyond the original grant)', () => {
  it('refuses scopes beyond the grant with invalid_scope, also one the person holds, and leaves the refresh token usable', async () => {
    const tokens = await offlineTokens('tess@example.com', 'openid offline_access ai.training.read');
    // ai.deploy.manage: neither granted nor in the person's roles; ai.training.analyze: in the
    // person's roles (data-scientist) but not in this grant.
    for (const scope of ['ai.training.read ai.deploy.manage', 'ai.deploy.manage', 'ai.training.analyze']) {
      const res = await refresh(tokens.refresh_token!, appA, { scope });
      expect(res, scope).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
      expect(res.body.access_token, scope).toBeUndefined();
    }
    const after = await refresh(tokens.refresh_token!);
    expect(after.status).toBe(200);
    expect(scopeOf(after.body.access_token)).toBe('ai.training.read');
  });

  it('refuses a granted scope the person no longer holds (a role changed since consent) with invalid_scope, not an empty token', async () => {
    const tokens = await offlineTokens('uma@example.com');
    expect(scopeOf(tokens.access_token)).toBe('ai.training.analyze ai.training.read');
    await t.cliJson('user', 'update', 'uma@example.com', '--roles', 'trainee');
    await t.server.policy.sync();
    const res = await refresh(tokens.refresh_token!, appA, { scope: 'ai.training.analyze' });
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    expect(res.body.access_token).toBeUndefined();
    // The refused request did not use the refresh token up: without a scope parameter the
    // person gets what the grant and the current roles allow.
    const narrower = await refresh(tokens.refresh_token!);
    expect(narrower.status).toBe(200);
    expect(scopeOf(narrower.body.access_token)).toBe('ai.training.read');
  });

  it('refuses a refresh whose scope names no API scope (scope=openid): invalid_scope, never a scope-less API token', async () => {
    const tokens = await offlineTokens('xena@example.com', 'openid offline_access ai.training.read');
    const res = await refresh(tokens.refresh_token!, appA, { scope: 'openid offline_access' });
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    expect(res.body.access_token).toBeUndefined();
    expect((await refresh(tokens.refresh_token!)).status).toBe(200);
  });

  it('refuses a resource outside the grant with invalid_target before the refresh token is used up (RFC 8707 §2.2)', async () => {
    const tokens = await offlineTokens('yara@example.com', 'openid offline_access ai.training.read');
    const res = await refresh(tokens.refresh_token!, appA, { resource: 'https://elsewhere.example' });
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_target' } });
    expect(res.body.access_token).toBeUndefined();
    // A client mistake is not theft: the same refresh token still works, the grant lives.
    const again = await refresh(tokens.refresh_token!);
    expect(again.status).toBe(200);
    expect(await active(tokens.access_token)).toBe(true);
  });

  it('allows a narrower scope, and the access token carries exactly that', async () => {
    const tokens = await offlineTokens('vic@example.com');
    const res = await refresh(tokens.refresh_token!, appA, { scope: 'ai.training.read' });
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('ai.training.read');
    expect(scopeOf(res.body.access_token)).toBe('ai.training.read');
    expect(await active(String(res.body.access_token))).toBe(true);
  });
});

describe('refresh after the person lost access', () => {
  it('refuses a refresh after the person is disabled: invalid_grant', async () => {
    const tokens = await offlineTokens('walt@example.com');
    await t.cliJson('user', 'disable', 'walt@example.com');
    await t.server.policy.sync();
    const res = await refresh(tokens.refresh_token!);
    expect(res).toMatchObject(INVALID_GRANT);
    expect(res.body.access_token).toBeUndefined();
    expect(await active(tokens.access_token)).toBe(false);
  });

  it('refuses a refresh after govauth revoke --user: invalid_grant', async () => {
    const tokens = await offlineTokens('rita@example.com');
    await t.cliJson('revoke', '--user', 'rita@example.com', '--reason', 'laptop stolen');
    await t.server.policy.sync();
    const res = await refresh(tokens.refresh_token!);
    expect(res).toMatchObject(INVALID_GRANT);
    expect(res.body.access_token).toBeUndefined();
    expect(await active(tokens.access_token)).toBe(false);
  });
});

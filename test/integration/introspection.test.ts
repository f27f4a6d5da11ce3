// RFC 7662 introspection of JWT access tokens and refresh tokens, called by resource servers
// with their own credentials: active tokens with their claims, and `active: false` (nothing
// else) for every reason a token is no longer good.
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, SignJWT, exportJWK, generateKeyPair } from 'jose';
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { basic, decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { API, createUser, createWebApp, discover, createResourceServer } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const DATASETS = 'https://datasets.example';
let t: TestServer;
let bot: ClientCreds;
let rs: ClientCreds;
let datasetsRs: ClientCreds;
let app: { client_id: string; client_secret: string | null };
let config: oidc.Configuration;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await t.cliJson('scope', 'create', 'datasets.read', '--description', 'Read datasets');
  await t.cliJson('resource', 'create', DATASETS, '--name', 'Dataset store', '--scopes', 'datasets.read');
  await t.cliJson('role', 'create', 'dataset-reader', '--scopes', 'datasets.read');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  rs = await createResourceServer(t);
  datasetsRs = await t.cliJson<ClientCreds>('client', 'create', '--name', 'dataset-store', '--resource', DATASETS, '--introspect');
  await createUser(t, 'lena@example.com', ['data-scientist']);
  app = await createWebApp(t);
  await t.server.policy.sync();
  config = await discover(t, app);
});
afterAll(() => t?.stop());

async function introspect(token: string, caller: ClientCreds | null = rs, extra: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}/token/introspection`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(caller !== null && { authorization: basic(caller) }), ...headers },
    body: new URLSearchParams({ token, ...extra }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function botToken(creds: ClientCreds = bot, params: Record<string, string> = {}): Promise<string> {
  const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API, ...params }, { basic: creds });
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  return String(res.body.access_token);
}

const inactive = async (token: string, caller: ClientCreds = rs): Promise<void> => {
  const r = await introspect(token, caller);
  expect(r.status).toBe(200);
  expect(r.body).toEqual({ active: false });
};

describe('introspection of access tokens', () => {
  it('reports an active token with its claims, never cached', async () => {
    const token = await botToken();
    const r = await introspect(token);
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const claims = decodeJwt(token).payload;
    expect(r.body).toEqual({
      active: true,
      token_type: 'Bearer',
      scope: 'ai.prediction.run ai.training.analyze ai.training.read',
      client_id: bot.client_id,
      sub: bot.client_id,
      aud: API,
      iss: t.issuer,
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      roles: ['data-scientist'],
    });
  });

  it('reports a person\'s token with roles, acr, amr and auth_time', async () => {
    const tokens = await headlessSignIn(config, 'lena@example.com', 'openid ai.training.read');
    const r = await introspect(tokens.access_token);
    expect(r.body).toMatchObject({ active: true, roles: ['data-scientist'], acr: 'urn:govauth:acr:pwd', amr: ['pwd'], client_id: app.client_id });
    expect(String(r.body.sub)).toMatch(/^usr_/);
    expect(typeof r.body.auth_time).toBe('number');
  });

  it('answers a signed JWT (RFC 9701) when asked for application/token-introspection+jwt', async () => {
    const token = await botToken();
    const r = await introspect(token, rs, {}, { accept: 'application/token-introspection+jwt' });
    expect(r.headers.get('content-type')).toMatch(/^application\/token-introspection\+jwt/);
    const { payload, protectedHeader } = await jwtVerify(r.text, createRemoteJWKSet(new URL(`${t.url}/jwks`)), { issuer: t.issuer, audience: rs.client_id });
    expect(protectedHeader.typ).toBe('token-introspection+jwt');
    expect((payload.token_introspection as { active: boolean; jti: string }).jti).toBe(decodeJwt(token).payload.jti);
  });

  it('is inactive for a token revoked by its client (RFC 7009)', async () => {
    const token = await botToken();
    const res = await fetch(`${t.url}/token/revocation`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(bot) }, body: new URLSearchParams({ token }) });
    expect(res.status).toBe(200);
    await inactive(token);
  });

  it('is inactive for an expired token', async () => {
    // exp is in whole seconds: 2 s leaves at least one second for the first check.
    await t.cliJson('resource', 'update', DATASETS, '--token-ttl', '2');
    const reader = await t.cliJson<ClientCreds>('client', 'create', '--name', 'reader', '--grant', 'client_credentials', '--roles', 'dataset-reader');
    await t.server.policy.sync();
    const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: DATASETS }, { basic: reader });
    const token = String(res.body.access_token);
    expect((await introspect(token, datasetsRs)).body.active).toBe(true);
    await new Promise((r) => setTimeout(r, 2200));
    await inactive(token, datasetsRs);
    await t.cliJson('resource', 'update', DATASETS, '--token-ttl', 'none');
  });

  it('is inactive for a bad signature, a tampered payload, alg none, HS256 with our public key, an unknown kid', async () => {
    const token = await botToken();
    const [h, p, s] = token.split('.') as [string, string, string];
    const flip = (x: string): string => (x[10] === 'A' ? `${x.slice(0, 10)}B${x.slice(11)}` : `${x.slice(0, 10)}A${x.slice(11)}`);
    const payload = decodeJwt(token).payload;
    const widened = Buffer.from(JSON.stringify({ ...payload, scope: 'ai.deploy.manage' })).toString('base64url');
    const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'at+jwt' })}.${p}.`;
    // Algorithm confusion: HMAC keyed with the server's public RSA key (PEM), as in CVE-2016-10555.
    const { keys } = (await (await fetch(`${t.url}/jwks`)).json()) as { keys: Record<string, string>[] };
    const { createPublicKey } = await import('node:crypto');
    const pem = createPublicKey({ key: keys[0] as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const hsHeader = b64({ alg: 'HS256', typ: 'at+jwt', kid: keys[0]?.kid });
    const hs = `${hsHeader}.${p}.${createHmac('sha256', pem).update(`${hsHeader}.${p}`).digest('base64url')}`;
    const { privateKey } = await generateKeyPair('RS256');
    const foreignKid = await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'not-ours' }).sign(privateKey);
    const stolenKid = await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: keys[0]?.kid }).sign(privateKey);
    const withJku = await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', jku: 'https://evil.example/jwks', kid: 'evil' }).sign(privateKey);
    const embeddedJwk = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', jwk: await exportJWK(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey) })
      .sign(privateKey);
    for (const bad of [`${h}.${p}.${flip(s)}`, `${h}.${widened}.${s}`, none, hs, foreignKid, stolenKid, withJku, embeddedJwk, 'garbage', `${h}.${p}`]) {
      await inactive(bad);
    }
  });

  it('is inactive for a token of another govauth instance (its own keys and issuer)', async () => {
    const other = await startTestServer();
    try {
      await other.cliJson('init', '--demo');
      const otherBot = await other.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
      await other.server.policy.sync();
      const res = await tokenRequest(other.url, { grant_type: 'client_credentials', resource: API }, { basic: otherBot });
      await inactive(String(res.body.access_token));
    } finally {
      await other.stop();
    }
  });

  it('is inactive for an ID token presented as an access token (typ is not at+jwt)', async () => {
    const tokens = await headlessSignIn(config, 'lena@example.com', 'openid ai.training.read');
    await inactive(tokens.id_token!);
  });

  it('is inactive when the token is for another resource server (no probing of other audiences)', async () => {
    const token = await botToken();
    await inactive(token, datasetsRs);
  });

  it('is inactive once the client is disabled, and active again when it is enabled', async () => {
    const other = await t.cliJson<ClientCreds>('client', 'create', '--name', 'pausable', '--grant', 'client_credentials', '--roles', 'end-user');
    await t.server.policy.sync();
    const token = await botToken(other);
    await t.cliJson('client', 'disable', other.client_id);
    await t.server.policy.sync();
    await inactive(token);
    await t.cliJson('client', 'enable', other.client_id);
    await t.server.policy.sync();
    expect((await introspect(token)).body.active).toBe(true);
  });

  it('is inactive once the person is disabled', async () => {
    await createUser(t, 'mia@example.com', ['data-scientist']);
    await t.server.policy.sync();
    const tokens = await headlessSignIn(config, 'mia@example.com', 'openid ai.training.read');
    expect((await introspect(tokens.access_token)).body.active).toBe(true);
    await t.cliJson('user', 'disable', 'mia@example.com');
    await t.server.policy.sync();
    await inactive(tokens.access_token);
  });

  it('is inactive once the role the scopes came from no longer grants them', async () => {
    const other = await t.cliJson<ClientCreds>('client', 'create', '--name', 'trainer', '--grant', 'client_credentials', '--roles', 'data-scientist');
    await t.server.policy.sync();
    const token = await botToken(other, { scope: 'ai.training.analyze' });
    await t.cliJson('client', 'update', other.client_id, '--roles', 'end-user');
    await t.server.policy.sync();
    await inactive(token);
  });
});

describe('introspection of refresh tokens', () => {
  it('is allowed to the client the token was issued to, and inactive for any other', async () => {
    const tokens = await headlessSignIn(config, 'lena@example.com', 'openid offline_access ai.training.read', { extra: { prompt: 'consent' } });
    const appCreds = { client_id: app.client_id, client_secret: app.client_secret ?? '' };
    const own = await introspect(tokens.refresh_token!, appCreds, { token_type_hint: 'refresh_token' });
    expect(own.body).toMatchObject({ active: true, token_type: 'refresh_token', client_id: app.client_id, scope: 'openid offline_access ai.training.read' });
    const otherApp = await createWebApp(t);
    await t.server.policy.sync();
    await inactive(tokens.refresh_token!, { client_id: otherApp.client_id, client_secret: otherApp.client_secret ?? '' });
    await inactive(tokens.refresh_token!, rs);
  });
});

describe('who may introspect', () => {
  it('answers 401 invalid_client without credentials, with wrong ones, and for clients not allowed to introspect', async () => {
    const token = await botToken();
    for (const caller of [null, { ...rs, client_secret: 'wrong' }, bot]) {
      const r = await introspect(token, caller);
      expect(r.status, JSON.stringify(caller)).toBe(401);
      expect(r.body.error).toBe('invalid_client');
      expect(r.text).not.toContain(String(decodeJwt(token).payload.jti));
    }
  });

  it('is advertised in discovery with the revocation endpoint', async () => {
    const meta = (await (await fetch(`${t.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(meta.introspection_endpoint).toBe(`${t.issuer}/token/introspection`);
    expect(meta.revocation_endpoint).toBe(`${t.issuer}/token/revocation`);
  });

  // The property is "an unknown token and a revoked one cost the same work", so count that work
  // (full-size RSA verifications, the only costly step) instead of timing requests: wall-clock
  // medians on a shared 2-core machine swing by 2x, and the decoy's ~50 µs is too small a share
  // of a request for a timing check to notice it missing.
  it('pays exactly one full RSA verification for every token it refuses, unknown or revoked', async () => {
    const revoked = await botToken();
    await fetch(`${t.url}/token/revocation`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(bot) }, body: new URLSearchParams({ token: revoked }) });
    const { header } = decodeJwt(revoked);
    const fullSize = Buffer.from(revoked.split('.')[2] ?? '', 'base64url').length;
    const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const claims = b64({ iss: t.issuer, sub: bot.client_id, aud: API, client_id: bot.client_id, jti: 'x', iat: 1, exp: 9999999999 });
    const refused: Record<string, string> = {
      revoked,
      'no kid, short signature': 'eyJhbGciOiJSUzI1NiJ9.eyJmb28iOiJiYXIifQ.c2lnbmF0dXJl',
      'unknown kid': `${b64({ alg: 'RS256', typ: 'at+jwt', kid: 'nope' })}.${claims}.${revoked.split('.')[2]}`,
      'alg none': `${b64({ alg: 'none', typ: 'at+jwt', kid: header.kid })}.${claims}.c2ln`,
      'HS256 under our kid': `${b64({ alg: 'HS256', typ: 'at+jwt', kid: header.kid })}.${claims}.c2ln`,
      'right kid, forged signature': `${b64({ alg: 'RS256', typ: 'at+jwt', kid: header.kid })}.${claims}.${revoked.split('.')[2]}`,
      'not JSON': 'abc.def.ghi',
    };
    const verify = vi.spyOn(globalThis.crypto.subtle, 'verify');
    try {
      for (const [kind, token] of Object.entries(refused)) {
        verify.mockClear();
        await inactive(token);
        const fullRsa = verify.mock.calls.filter(([alg, , signature]) => JSON.stringify(alg).includes('RSASSA') && (signature as ArrayBuffer | Uint8Array).byteLength === fullSize);
        expect(fullRsa.length, kind).toBe(1);
      }
    } finally {
      verify.mockRestore();
    }
  });
});

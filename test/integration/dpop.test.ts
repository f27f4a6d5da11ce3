// DPoP (RFC 9449) as real clients use it: openid-client's DPoP handle for client_credentials, the
// code flow and refresh; what an administrator can require (per client, per resource, per scope
// sensitivity) and the refusal (`invalid_dpop_proof`, §5); server-provided nonces (§8);
// introspection's `cnf`; the audit record's binding and client authentication; malformed proofs.
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { API, createResourceServer, createUser, createWebApp, discover, PASSWORD } from '../helpers/people.ts';
import { SignInSteps, authorize, type Answer } from '../helpers/sign-in-steps.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const SECURE = 'https://secure-models.example';
let t: TestServer;
let bot: ClientCreds;
let rs: ClientCreds;
let adminToken: string;

const dpopKeys = () => oidc.randomDPoPKeyPair('ES256');
const thumbprintOf = async (keys: oidc.CryptoKeyPair) => calculateJwkThumbprint(await exportJWK(keys.publicKey));
const botConfig = (creds: ClientCreds = bot, server: TestServer = t) =>
  oidc.discovery(new URL(server.issuer), creds.client_id, creds.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });

async function introspect(token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${t.url}/token/introspection`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${rs.client_id}:${rs.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  return (await res.json()) as Record<string, unknown>;
}

/** The audit record of the token with this jti. */
async function auditOf(server: TestServer, jti: unknown): Promise<Record<string, unknown>> {
  const rows = await server.server.db.prisma.auditEvent.findMany({ where: { action: { in: ['token.issued', 'token.refreshed'] } }, orderBy: { seq: 'desc' }, take: 50 });
  const row = rows.find((r) => (JSON.parse(r.detail ?? '{}') as { jti?: unknown }).jti === jti);
  return JSON.parse(row?.detail ?? '{}') as Record<string, unknown>;
}

/** A DPoP proof JWT signed by hand, for what openid-client would never send. */
async function proof(key: CryptoKey, jwk: Record<string, unknown>, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ jti: crypto.randomUUID(), iat: Math.floor(Date.now() / 1000), htm: 'POST', htu: `${t.issuer}/token`, ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...header })
    .sign(key);
}

async function rawToken(server: TestServer, creds: ClientCreds, params: Record<string, string>, dpop?: string) {
  const res = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${creds.client_id}:${creds.client_secret}`).toString('base64')}`,
      ...(dpop !== undefined && { dpop }),
    },
    body: new URLSearchParams(params),
  });
  const text = await res.text();
  if (!text.startsWith('{')) throw new Error(`${res.status}: ${text.slice(0, 200)}`);
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, headers: res.headers };
}

const answer: Answer = (page) => {
  if (page.seen > 0) throw new Error(`${page.kind} page again (${page.status})`);
  if (page.kind === 'login') return { email: 'ada@example.com', password: PASSWORD };
  if (page.kind === 'consent' && page.html.includes('value="allow"')) return { decision: 'allow' };
  throw new Error(`unexpected page ${page.kind} (${page.status}): ${page.html.slice(0, 200)}`);
};

/** Signs Ada in and exchanges the code, with a DPoP proof when `dpop` is given. */
async function codeFlow(config: oidc.Configuration, dpop?: oidc.DPoPHandle) {
  const { req, callback } = await authorize(config, 'openid offline_access ai.training.read', answer, { steps: new SignInSteps({ forwardedFor: null }), extra: { prompt: 'consent' } });
  return oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce }, undefined, dpop && { DPoP: dpop });
}

const refusalOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as { error?: string; error_description?: string; status?: number },
  );

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await createUser(t, 'ada@example.com', ['data-scientist']);
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'training-bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  rs = await createResourceServer(t);
  const { adminBot } = await createAdminBots(t);
  adminToken = await tokenFor(t.url, adminBot);
  await t.server.policy.sync();
});
afterAll(() => t?.stop());

describe('DPoP-bound tokens for any client (RFC 9449)', () => {
  it('discovery lists the proof algorithms', async () => {
    const meta = (await (await fetch(`${t.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(meta.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256']));
  });

  it('client_credentials with openid-client: token_type DPoP, cnf.jkt of the key, shown by introspection, recorded as dpop', async () => {
    const keys = await dpopKeys();
    const tokens = await oidc.clientCredentialsGrant(await botConfig(), { resource: API, scope: 'ai.training.read' }, { DPoP: oidc.getDPoPHandle(await botConfig(), keys) });
    expect(tokens.token_type).toBe('dpop');
    const { payload } = decodeJwt(tokens.access_token);
    expect(payload.cnf).toEqual({ jkt: await thumbprintOf(keys) });

    // A resource server sees the binding, so a stolen copy replayed without the key is refused (§7.1).
    const info = await introspect(tokens.access_token);
    expect(info).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: await thumbprintOf(keys) } });

    expect(await auditOf(t, payload.jti)).toMatchObject({ binding: 'dpop', client_auth: 'client_secret_post' }); // openid-client's default
  });

  it('a bearer token is recorded as bearer, with the client authentication it used', async () => {
    const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { post: bot });
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('Bearer');
    expect(await auditOf(t, decodeJwt(String(res.body.access_token)).payload.jti)).toMatchObject({ binding: 'bearer', client_auth: 'client_secret_post' });
  });

  it('code flow and refresh for a public client: both access tokens bound, the refresh token too', async () => {
    const app = await createWebApp(t, ['--public']);
    await t.server.policy.sync();
    const config = await discover(t, app);
    const keys = await dpopKeys();
    const dpop = oidc.getDPoPHandle(config, keys);
    const tokens = await codeFlow(config, dpop);
    expect(tokens.token_type).toBe('dpop');
    const jkt = await thumbprintOf(keys);
    expect(decodeJwt(tokens.access_token).payload.cnf).toEqual({ jkt });
    expect(await auditOf(t, decodeJwt(tokens.access_token).payload.jti)).toMatchObject({ binding: 'dpop', client_auth: 'none' });

    // The public client's refresh token is bound to the key: without a proof, or with another key, it is refused.
    const stolen = await refusalOf(oidc.refreshTokenGrant(config, tokens.refresh_token!));
    expect(stolen?.error).toBe('invalid_grant');
    const otherKey = await refusalOf(oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: oidc.getDPoPHandle(config, await dpopKeys()) }));
    expect(otherKey?.error).toBe('invalid_grant');

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: dpop });
    expect(refreshed.token_type).toBe('dpop');
    expect(decodeJwt(refreshed.access_token).payload.cnf).toEqual({ jkt });
    expect(await auditOf(t, decodeJwt(refreshed.access_token).payload.jti)).toMatchObject({ binding: 'dpop', grant_type: 'refresh_token' });
  });
});

describe('proof of possession required', () => {
  it('per client: bearer refused with invalid_dpop_proof, DPoP accepted; --no-require-pop lifts it', async () => {
    const strict = await t.cliJson<ClientCreds>('client', 'create', '--name', 'strict-bot', '--grant', 'client_credentials', '--roles', 'data-scientist', '--require-pop');
    await t.server.policy.sync();
    const shown = await t.cliJson<{ client: { require_pop: boolean } }>('client', 'show', strict.client_id);
    expect(shown.client.require_pop).toBe(true);

    const bearer = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: strict });
    expect(bearer.status).toBe(400);
    expect(bearer.body.error).toBe('invalid_dpop_proof');
    expect(bearer.body.error_description).toContain('requires proof of possession');

    const config = await botConfig(strict);
    const tokens = await oidc.clientCredentialsGrant(config, { resource: API }, { DPoP: oidc.getDPoPHandle(config, await dpopKeys()) });
    expect(tokens.token_type).toBe('dpop');

    await t.cliJson('client', 'update', strict.client_id, '--no-require-pop');
    await t.server.policy.sync();
    expect((await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: strict })).status).toBe(200);
    const changes = await t.server.db.prisma.auditEvent.findMany({ where: { action: 'admin.client.require_pop', subject: strict.client_id } });
    expect(changes).toHaveLength(1);
  });

  it('per client, for people: code exchange refused without a proof; a refresh refused without one is not used up', async () => {
    const app = await createWebApp(t);
    await t.server.policy.sync();
    const config = await discover(t, app);
    const tokens = await codeFlow(config); // before the requirement: a bearer token and an unbound refresh token
    expect(tokens.token_type).toBe('bearer');

    const update = await callAdmin(t.url, adminToken, 'PATCH', `/clients/${app.client_id}`, { require_pop: true });
    expect(update.status, JSON.stringify(update.body)).toBe(200);
    await t.server.policy.sync();

    const refused = await refusalOf(codeFlow(config));
    expect(refused?.error).toBe('invalid_dpop_proof');

    const refresh = await refusalOf(oidc.refreshTokenGrant(config, tokens.refresh_token!));
    expect(refresh?.error).toBe('invalid_dpop_proof');
    // The same refresh token still works with a proof: the refusal came before it was consumed.
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: oidc.getDPoPHandle(config, await dpopKeys()) });
    expect(refreshed.token_type).toBe('dpop');
    expect(await auditOf(t, decodeJwt(refreshed.access_token).payload.jti)).toMatchObject({ binding: 'dpop', client_auth: 'client_secret_post' });
  });

  it('per resource: tokens for it only bound, whatever the client', async () => {
    const created = await t.cliJson<{ resource: { require_pop: boolean } }>('resource', 'create', SECURE, '--name', 'Secure models', '--scopes', 'ai.training.read', '--require-pop');
    expect(created.resource.require_pop).toBe(true);
    await t.server.policy.sync();
    const bearer = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: SECURE }, { basic: bot });
    expect(bearer.status).toBe(400);
    expect(bearer.body.error).toBe('invalid_dpop_proof');
    expect(bearer.body.error_description).toContain(SECURE);
    // Other resources are unaffected.
    expect((await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: bot })).status).toBe(200);
    const config = await botConfig();
    const tokens = await oidc.clientCredentialsGrant(config, { resource: SECURE }, { DPoP: oidc.getDPoPHandle(config, await dpopKeys()) });
    const { payload } = decodeJwt(tokens.access_token);
    expect(payload.aud).toBe(SECURE);
    expect(typeof (payload.cnf as { jkt?: unknown }).jkt).toBe('string');
  });

  it('admin API and CLI refuse nonsense for require_pop', async () => {
    const res = await callAdmin(t.url, adminToken, 'PATCH', `/clients/${bot.client_id}`, { require_pop: 'yes' });
    expect(res.status).toBe(400);
    const both = await t.cli('client', 'update', bot.client_id, '--require-pop', '--no-require-pop');
    expect(both.code).not.toBe(0);
    expect(both.stderr).toContain('not both');
  });
});

describe('malformed proofs are invalid_dpop_proof, never a 500', () => {
  it('refuses garbage, a wrong typ, htm, htu, a stale iat, no jwk, a private key in the header, alg none', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const privateJwk = await exportJWK(privateKey);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'dpop+jwt', jwk })).toString('base64url')}.${Buffer.from(JSON.stringify({ jti: 'x', iat: Math.floor(Date.now() / 1000), htm: 'POST', htu: `${t.issuer}/token` })).toString('base64url')}.`;
    const cases: Record<string, string> = {
      garbage: 'not-a-jwt',
      empty_parts: '..',
      wrong_typ: await proof(privateKey, jwk, {}, { typ: 'JWT' }),
      wrong_htm: await proof(privateKey, jwk, { htm: 'GET' }),
      wrong_htu: await proof(privateKey, jwk, { htu: 'https://evil.example/token' }),
      htu_not_url: await proof(privateKey, jwk, { htu: 42 }),
      stale_iat: await proof(privateKey, jwk, { iat: Math.floor(Date.now() / 1000) - 3600 }),
      no_jti: await proof(privateKey, jwk, { jti: undefined }),
      no_jwk: await proof(privateKey, jwk, {}, { jwk: undefined }),
      private_jwk: await proof(privateKey, jwk, {}, { jwk: privateJwk }),
      alg_none: none,
      long: 'a'.repeat(4_000),
    };
    for (const [name, value] of Object.entries(cases)) {
      const res = await rawToken(t, bot, { grant_type: 'client_credentials', resource: API }, value).catch((e: unknown) => {
        throw new Error(`${name}: ${String(e)}`);
      });
      expect(res.status, name).toBe(400);
      expect(res.body.error, `${name}: ${JSON.stringify(res.body)}`).toBe('invalid_dpop_proof');
    }
  });

  it('a replayed proof is refused', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const p = await proof(privateKey, await exportJWK(publicKey), {});
    expect((await rawToken(t, bot, { grant_type: 'client_credentials', resource: API }, p)).status).toBe(200);
    const again = await rawToken(t, bot, { grant_type: 'client_credentials', resource: API }, p);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
  });

  it('the same proof sent many times at once is used once: the replay check is one atomic insert, not find-then-save', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const p = await proof(privateKey, await exportJWK(publicKey), {});
    const results = await Promise.all(Array.from({ length: 8 }, () => rawToken(t, bot, { grant_type: 'client_credentials', resource: API }, p)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400, 400, 400, 400]);
    expect(results.filter((r) => r.status === 400).every((r) => r.body.error === 'invalid_grant')).toBe(true);
  });
});

describe('server nonces and the sensitivity rule (GOVAUTH_DPOP_NONCE, GOVAUTH_POP_REQUIRED_SENSITIVITY)', () => {
  let n: TestServer;
  let nbot: ClientCreds;
  beforeAll(async () => {
    n = await startTestServer({ env: { GOVAUTH_DPOP_NONCE: 'true', GOVAUTH_POP_REQUIRED_SENSITIVITY: 'medium' } });
    await n.cliJson('init', '--demo');
    nbot = await n.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
    await n.server.policy.sync();
  });
  afterAll(() => n?.stop());

  it('a proof without the nonce gets use_dpop_nonce and a DPoP-Nonce header; openid-client retries with it', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const htu = `${n.issuer}/token`;
    const first = await rawToken(n, nbot, { grant_type: 'client_credentials', resource: API }, await proof(privateKey, jwk, { htu }));
    expect(first.status).toBe(400);
    expect(first.body.error).toBe('use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce');
    expect(nonce).toBeTruthy();
    const second = await rawToken(n, nbot, { grant_type: 'client_credentials', resource: API }, await proof(privateKey, jwk, { htu, nonce }));
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    const wrong = await rawToken(n, nbot, { grant_type: 'client_credentials', resource: API }, await proof(privateKey, jwk, { htu, nonce: 'made-up' }));
    expect(wrong.body.error).toBe('use_dpop_nonce');

    const config = await botConfig(nbot, n);
    const tokens = await oidc.clientCredentialsGrant(config, { resource: API }, { DPoP: oidc.getDPoPHandle(config, await dpopKeys()) });
    expect(tokens.token_type).toBe('dpop');
  });

  it('scopes of the configured sensitivity or above only in bound tokens', async () => {
    const medium = await tokenRequest(n.url, { grant_type: 'client_credentials', resource: API, scope: 'ai.training.read' }, { basic: nbot });
    expect(medium.status).toBe(400);
    expect(medium.body.error).toBe('invalid_dpop_proof');
    expect(medium.body.error_description).toContain('ai.training.read (medium sensitivity)');
    const low = await tokenRequest(n.url, { grant_type: 'client_credentials', resource: API, scope: 'ai.prediction.run' }, { basic: nbot });
    expect(low.status).toBe(200);
  });

  it('refuses to start with a sensitivity that does not exist', async () => {
    await expect(startTestServer({ env: { GOVAUTH_POP_REQUIRED_SENSITIVITY: 'extreme' } })).rejects.toThrow(/GOVAUTH_POP_REQUIRED_SENSITIVITY="extreme": must be one of: low, medium, high, off/);
  });
});


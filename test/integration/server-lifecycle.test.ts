// Boot, restart and discovery: keys persist across restarts, discovery is served at both
// well-known paths under the issuer, JWKS publishes public parts only.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/log/logger.ts';
import { startServer } from '../../src/server.ts';
import { decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let db: TestDatabase;
let t: TestServer;
let bot: ClientCreds;

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestServer({ db });
  await t.cliJson('init', '--demo');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'end-user');
  await t.server.policy.sync();
});
afterAll(async () => {
  await t?.stop();
  await db?.drop();
});

describe('first start', () => {
  it('applied the migrations and created one signing key', () => {
    expect(t.server.migrationsApplied.length).toBeGreaterThan(0);
    expect(t.server.createdKid).toBeTruthy();
  });
});

describe('discovery and JWKS', () => {
  it('serves the same metadata at both well-known paths, every endpoint under the issuer', async () => {
    const oidc = (await (await fetch(`${t.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    const oauth = (await (await fetch(`${t.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(oauth).toEqual(oidc);
    expect(oidc.issuer).toBe(t.issuer);
    for (const key of ['token_endpoint', 'jwks_uri', 'authorization_endpoint']) expect(String(oidc[key])).toMatch(new RegExp(`^${t.issuer}/`));
    expect(oidc.grant_types_supported).toContain('client_credentials');
    expect(oidc.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post']));
    expect(oidc.token_endpoint_auth_methods_supported).not.toContain('client_secret_jwt');
  });

  it('lists the scopes a client may ask for (RFC 8414 §2), kept current as the catalogue changes', async () => {
    const scopesSupported = async (path: string) => ((await (await fetch(`${t.url}${path}`)).json()) as { scopes_supported: string[] }).scopes_supported;
    const offered = async () => {
      const { resources } = await t.cliJson<{ resources: { scopes: string[] }[] }>('resource', 'list');
      return [...new Set(resources.flatMap((r) => r.scopes))].sort();
    };
    const atStart = await offered();
    expect(atStart).toEqual(expect.arrayContaining(['ai.training.read', 'ai.deploy.manage', 'govauth.admin', 'govauth.audit.read']));
    expect(await scopesSupported('/.well-known/openid-configuration')).toEqual(['openid', 'offline_access', 'email', ...atStart]);

    // Added after start: a scope on no resource cannot be granted and is not listed; once a
    // resource offers it, it is.
    await t.cliJson('scope', 'create', 'ai.eval.run', '--description', 'Run evaluations');
    await t.server.policy.sync();
    expect(await scopesSupported('/.well-known/openid-configuration')).not.toContain('ai.eval.run');
    await t.cliJson('resource', 'create', 'https://evals.example', '--name', 'Evaluations', '--scopes', 'ai.eval.run');
    await t.server.policy.sync();
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      expect(await scopesSupported(path), path).toEqual(['openid', 'offline_access', 'email', ...(await offered())]);
      expect(await scopesSupported(path), path).toContain('ai.eval.run');
    }
  });

  it('ignores a forged Host header when generating metadata', async () => {
    const res = await fetch(`${t.url}/.well-known/openid-configuration`, { headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' } });
    const body = (await res.json()) as Record<string, unknown>;
    expect(String(body.token_endpoint)).toBe(`${t.issuer}/token`);
  });

  it('publishes only public key parts, with kid, use sig and alg RS256', async () => {
    const { keys } = (await (await fetch(`${t.url}/jwks`)).json()) as { keys: Record<string, unknown>[] };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256', kid: t.server.createdKid });
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(keys[0]).not.toHaveProperty(secret);
  });

  it('reports health and readiness', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { database: 'ok', signing_key: 'ok' } });
  });
});

describe('restart', () => {
  it('keeps the same kid, and a token issued before the restart verifies after it', async () => {
    const before = await tokenRequest(t.url, { grant_type: 'client_credentials' }, { basic: bot });
    expect(before.status).toBe(200);
    const kid = decodeJwt(String(before.body.access_token)).header.kid;

    t = await t.restart();
    expect(t.server.migrationsApplied).toEqual([]);
    expect(t.server.createdKid).toBeUndefined();
    const { keys } = (await (await fetch(`${t.url}/jwks`)).json()) as { keys: { kid: string }[] };
    expect(keys.map((k) => k.kid)).toEqual([kid]);

    // The issuer follows the new ephemeral port in tests, so verify the signature and claims.
    const { payload } = await jwtVerify(String(before.body.access_token), createRemoteJWKSet(new URL(`${t.url}/jwks`)), { typ: 'at+jwt' });
    expect(payload.sub).toBe(bot.client_id);
    const after = await tokenRequest(t.url, { grant_type: 'client_credentials' }, { basic: bot });
    expect(decodeJwt(String(after.body.access_token)).header.kid).toBe(kid);
  });

  it('refuses to start with a different master key, naming the fix', async () => {
    const config = loadConfig({ ...t.env, GOVAUTH_MASTER_KEY: randomBytes(32).toString('base64') });
    await expect(startServer(config, createLogger({ level: 'silent' }))).rejects.toThrow(/master key does not match.*Restore the original/);
  });
});

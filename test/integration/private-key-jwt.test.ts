// private_key_jwt (RFC 7523 §2.2, OpenID Connect Core §9): a bot and a resource server
// registered with public keys only authenticate with signed assertions, at /token (through
// openid-client as a real client would) and at introspection and revocation; every forged or
// reused assertion is a 401 invalid_client, never a 500.
import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from '../helpers/oauth.ts';
import { API } from '../helpers/people.ts';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const dir = mkdtempSync(join(tmpdir(), 'govauth-pkjwt-'));
let t: TestServer;

interface KeyPair {
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly kid: string;
}
async function keyPair(alg: 'ES256' | 'RS256' | 'EdDSA', kid: string): Promise<KeyPair & { alg: string }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg }, kid, alg };
}
function jwksFile(name: string, keys: unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ keys }));
  return path;
}

let botKey: KeyPair & { alg: string };
let rsKey: KeyPair & { alg: string };
let otherKey: KeyPair & { alg: string };
let bot: { client_id: string; client_secret: string | null };
let rs: { client_id: string; client_secret: string | null };

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  [botKey, rsKey, otherKey] = await Promise.all([keyPair('ES256', 'bot-1'), keyPair('EdDSA', 'rs-1'), keyPair('ES256', 'other-1')]);
  bot = await t.cliJson('client', 'create', '--name', 'keyed-bot', '--grant', 'client_credentials', '--roles', 'data-scientist', '--jwks-file', jwksFile('bot.json', [botKey.publicJwk]));
  rs = await t.cliJson('client', 'create', '--name', 'keyed-api', '--resource', API, '--introspect', '--jwks-file', jwksFile('rs.json', [rsKey.publicJwk]));
  await t.server.policy.sync();
});
afterAll(() => t?.stop());

/** A client assertion as a client would make it, with `claims` and `header` overriding the good ones. */
function assertion(key: KeyPair & { alg: string }, clientId: string, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: clientId, sub: clientId, aud: t.issuer, jti: randomUUID(), iat: now, exp: now + 60, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .sign(key.privateKey);
}

const post = async (path: string, form: Record<string, string>) => {
  const res = await fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  const text = await res.text();
  return { status: res.status, body: (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, unknown>, headers: res.headers };
};
const tokenWith = (clientAssertion: string) =>
  post('/token', { grant_type: 'client_credentials', resource: API, client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion });
const introspectWith = (clientAssertion: string, token = 'x.y.z') =>
  post('/token/introspection', { token, client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion });

async function botToken(): Promise<string> {
  const res = await tokenWith(await assertion(botKey, bot.client_id));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return String(res.body.access_token);
}

const b64url = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

describe('registration', () => {
  it('gives a keyed client no secret, and shows how it authenticates', async () => {
    expect(bot.client_secret).toBeNull();
    const shown = await t.cli('client', 'show', bot.client_id);
    expect(shown.stdout).toContain('private_key_jwt (no secret; keys: bot-1)');
    const listed = await t.cliJson<{ clients: { client_id: string; token_endpoint_auth_method: string; public: boolean }[] }>('client', 'list');
    expect(listed.clients.find((c) => c.client_id === bot.client_id)).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', public: false });
    const disco = (await (await fetch(`${t.url}/.well-known/openid-configuration`)).json()) as Record<string, string[]>;
    expect(disco.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(disco.token_endpoint_auth_signing_alg_values_supported).toEqual(['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519']);
    expect(disco.introspection_endpoint_auth_methods_supported).toContain('private_key_jwt');
  });
});

describe('with openid-client', () => {
  it('client_credentials with PrivateKeyJwt', async () => {
    const config = await oidc.discovery(new URL(t.issuer), bot.client_id, undefined, oidc.PrivateKeyJwt({ key: botKey.privateKey, kid: botKey.kid }), { execute: [oidc.allowInsecureRequests] });
    const tokens = await oidc.clientCredentialsGrant(config, { resource: API, scope: 'ai.training.read' });
    expect(tokens.scope).toBe('ai.training.read');
    expect(decodeJwt(tokens.access_token).payload).toMatchObject({ sub: bot.client_id, client_id: bot.client_id, aud: API });
  });

  it('introspection with PrivateKeyJwt', async () => {
    const token = await botToken();
    const config = await oidc.discovery(new URL(t.issuer), rs.client_id, undefined, oidc.PrivateKeyJwt({ key: rsKey.privateKey, kid: rsKey.kid }), { execute: [oidc.allowInsecureRequests] });
    const result = await oidc.tokenIntrospection(config, token);
    expect(result).toMatchObject({ active: true, client_id: bot.client_id, aud: API });
  });
});

describe('refused assertions: 401 invalid_client at /token and at introspection', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: [string, () => Promise<string>, () => Promise<string>][] = [
    ['expired', () => assertion(botKey, bot.client_id, { iat: now() - 600, exp: now() - 300 }), () => assertion(rsKey, rs.client_id, { iat: now() - 600, exp: now() - 300 })],
    ['valid for an hour', () => assertion(botKey, bot.client_id, { exp: now() + 3600 }), () => assertion(rsKey, rs.client_id, { exp: now() + 3600 })],
    ['for another audience', () => assertion(botKey, bot.client_id, { aud: 'https://elsewhere.example' }), () => assertion(rsKey, rs.client_id, { aud: 'https://elsewhere.example' })],
    ['without jti', () => assertion(botKey, bot.client_id, { jti: undefined }), () => assertion(rsKey, rs.client_id, { jti: undefined })],
    ['iss of another client', () => assertion(botKey, bot.client_id, { iss: rs.client_id }), () => assertion(rsKey, rs.client_id, { iss: bot.client_id })],
    ['signed by another client’s key', () => assertion(otherKey, bot.client_id, {}, { kid: 'bot-1' }), () => assertion(otherKey, rs.client_id, {}, { kid: 'rs-1' })],
    ['with an unknown kid', () => assertion(botKey, bot.client_id, {}, { kid: 'nope' }), () => assertion(rsKey, rs.client_id, {}, { kid: 'nope' })],
    [
      'alg none',
      () => Promise.resolve(`${b64url({ alg: 'none' })}.${b64url({ iss: bot.client_id, sub: bot.client_id, aud: t.issuer, jti: randomUUID(), exp: now() + 60 })}.`),
      () => Promise.resolve(`${b64url({ alg: 'none' })}.${b64url({ iss: rs.client_id, sub: rs.client_id, aud: t.issuer, jti: randomUUID(), exp: now() + 60 })}.`),
    ],
    ['HS256 keyed with the public key', () => hs256WithPublicKey(botKey, bot.client_id), () => hs256WithPublicKey(rsKey, rs.client_id)],
    ['garbage', () => Promise.resolve('not-a-jwt'), () => Promise.resolve('a.b.c')],
  ];
  for (const [name, forToken, forIntrospection] of cases) {
    it(name, async () => {
      const atToken = await tokenWith(await forToken());
      expect(atToken.status, JSON.stringify(atToken.body)).toBe(name === 'garbage' ? 400 : 401);
      if (name !== 'garbage') expect(atToken.body.error).toBe('invalid_client');
      const atIntrospection = await introspectWith(await forIntrospection());
      expect(atIntrospection.status, JSON.stringify(atIntrospection.body)).toBe(401);
      expect(atIntrospection.body.error).toBe('invalid_client');
    });
  }

  function hs256WithPublicKey(key: KeyPair, clientId: string): Promise<string> {
    const signingInput = `${b64url({ alg: 'HS256', kid: key.kid })}.${b64url({ iss: clientId, sub: clientId, aud: t.issuer, jti: randomUUID(), exp: now() + 60 })}`;
    const mac = createHmac('sha256', JSON.stringify(key.publicJwk)).update(signingInput).digest('base64url');
    return Promise.resolve(`${signingInput}.${mac}`);
  }

  it('an assertion used once is refused the second time, wherever it is presented', async () => {
    const once = await assertion(botKey, bot.client_id);
    expect((await tokenWith(once)).status).toBe(200);
    const again = await tokenWith(once);
    expect(again.status).toBe(401);
    expect(again.body.error).toBe('invalid_client');

    const rsOnce = await assertion(rsKey, rs.client_id);
    expect((await introspectWith(rsOnce)).status).toBe(200);
    expect((await introspectWith(rsOnce)).status).toBe(401);
  });

  it('the same assertion presented many times at once authenticates once (RFC 7523 §3: the jti check is atomic)', async () => {
    const once = await assertion(botKey, bot.client_id);
    const results = await Promise.all(Array.from({ length: 8 }, () => tokenWith(once)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401, 401, 401]);
  });

  it('accepts the token endpoint URL as the audience too', async () => {
    expect((await tokenWith(await assertion(botKey, bot.client_id, { aud: `${t.issuer}/token` }))).status).toBe(200);
    expect((await introspectWith(await assertion(rsKey, rs.client_id, { aud: `${t.issuer}/token/introspection` }))).status).toBe(200);
  });

  it('a keyed client cannot fall back to a secret or to being public', async () => {
    const basic = `Basic ${Buffer.from(`${rs.client_id}:`).toString('base64')}`;
    const viaBasic = await fetch(`${t.url}/token/introspection`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=a.b.c' });
    expect(viaBasic.status).toBe(401);
    const revokeById = await post('/token/revocation', { token: 'a.b.c', client_id: bot.client_id });
    expect(revokeById.status).toBe(401);
    expect(revokeById.body.error).toBe('invalid_client');
    const twoMethods = await post('/token/introspection', { token: 'a.b.c', client_id: rs.client_id, client_secret: 'x', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(rsKey, rs.client_id) });
    expect(twoMethods.status).toBe(400);
  });

  it('revocation takes an assertion', async () => {
    const token = await botToken();
    const revoked = await post('/token/revocation', { token, client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(botKey, bot.client_id) });
    expect(revoked.status).toBe(200);
  });
});

describe('key rotation', () => {
  it('client update --jwks-file replaces the keys, audited', async () => {
    const next = await keyPair('RS256', 'bot-2');
    // Old and new together first, then the new alone.
    await t.cliJson('client', 'update', bot.client_id, '--jwks-file', jwksFile('both.json', [botKey.publicJwk, next.publicJwk]));
    await t.server.policy.sync();
    expect((await tokenWith(await assertion(botKey, bot.client_id))).status).toBe(200);
    expect((await tokenWith(await assertion(next, bot.client_id))).status).toBe(200);
    await t.cliJson('client', 'update', bot.client_id, '--jwks-file', jwksFile('next.json', [next.publicJwk]));
    await t.server.policy.sync();
    expect((await tokenWith(await assertion(botKey, bot.client_id))).status).toBe(401);
    expect((await tokenWith(await assertion(next, bot.client_id))).status).toBe(200);
    const audit = await t.cli('audit', 'tail', '--action', 'admin.client.rotate_keys', '--json');
    expect(audit.stdout).toContain('admin.client.rotate_keys');
    botKey = next;
  });

  it('a secret client has no keys to replace, and a keyed one no secret to rotate', async () => {
    const secretBot = await t.cliJson<{ client_id: string }>('client', 'create', '--name', 'secret-bot', '--grant', 'client_credentials');
    const r1 = await t.cli('client', 'update', secretBot.client_id, '--jwks-file', jwksFile('one.json', [otherKey.publicJwk]));
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toMatch(/keys can only be replaced on a private_key_jwt or self_signed_tls_client_auth client/);
    const r2 = await t.cli('client', 'rotate-secret', bot.client_id);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toMatch(/has no secret/);
  });
});

describe('hostile key registrations', () => {
  const create = (file: string) => t.cli('client', 'create', '--name', 'hostile', '--grant', 'client_credentials', '--jwks-file', file);
  it('refuses private keys, symmetric keys, weak or odd keys, garbage, and says why', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const rsaSmall = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const cases: [string, string, RegExp][] = [
      ['private.json', JSON.stringify({ keys: [await exportJWK(privateKey)] }), /private key material \(d\)/],
      ['oct.json', JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }), /private key material \(k\)|symmetric/],
      ['hs.json', JSON.stringify({ keys: [{ ...botKey.publicJwk, alg: 'HS256' }] }), /alg HS256 is not accepted/],
      ['rsa1024.json', JSON.stringify({ keys: [rsaSmall.publicKey.export({ format: 'jwk' })] }), /at least 2048 bits/],
      ['p384.json', JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-384', x: 'AA', y: 'AA' }] }), /P-256/],
      ['nokid.json', JSON.stringify({ keys: [{ ...rsKey.publicJwk, kid: undefined }, { ...otherKey.publicJwk, kid: undefined }] }), /every key needs a kid/],
      ['many.json', JSON.stringify({ keys: Array.from({ length: 6 }, (_, i) => ({ ...otherKey.publicJwk, kid: `k${i}` })) }), /at most 5 keys/],
      ['empty.json', JSON.stringify({ keys: [] }), /no keys/],
      ['garbage.json', '\u0000\u0001not json', /not valid JSON/],
      ['array.json', '[]', /expected a JWK Set/],
      ['enc.json', JSON.stringify({ keys: [{ ...otherKey.publicJwk, use: 'enc' }] }), /use must be "sig"/],
    ];
    for (const [name, text, message] of cases) {
      const path = join(dir, name);
      writeFileSync(path, text);
      const r = await create(path);
      expect(r.code, name).not.toBe(0);
      expect(r.stderr, name).toMatch(message);
      expect(r.stderr, name).not.toMatch(/\n\s+at /); // no stack trace
    }
    const missing = await create(join(dir, 'does-not-exist.json'));
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/cannot read --jwks-file/);
    const both = await t.cli('client', 'create', '--name', 'x', '--grant', 'authorization_code', '--redirect-uri', 'https://app.example/cb', '--public', '--jwks-file', jwksFile('ok.json', [otherKey.publicJwk]));
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/not public/);
  });
});

describe('admin API', () => {
  it('registers a keyed client, shows its method, replaces its keys, and refuses private keys with a 400', async () => {
    const { adminBot } = await createAdminBots(t);
    const token = await tokenFor(t.url, adminBot);
    const created = await callAdmin<{ client_id: string; client_secret: string | null }>(t.url, token, 'POST', '/clients', { name: 'api-keyed', grants: ['client_credentials'], jwks: { keys: [otherKey.publicJwk] } });
    expect(created.status).toBe(201);
    expect(created.body.client_secret).toBeNull();
    const shown = await callAdmin<{ client: { token_endpoint_auth_method: string; jwks: unknown } }>(t.url, token, 'GET', `/clients/${created.body.client_id}`);
    expect(shown.body.client).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [expect.objectContaining({ kid: 'other-1' })] } });
    const next = await keyPair('ES256', 'other-2');
    const patched = await callAdmin<{ client: { jwks: { keys: { kid: string }[] } } }>(t.url, token, 'PATCH', `/clients/${created.body.client_id}`, { jwks: { keys: [next.publicJwk] } });
    expect(patched.status).toBe(200);
    expect(patched.body.client.jwks.keys.map((k) => k.kid)).toEqual(['other-2']);
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    for (const jwks of [{ keys: [await exportJWK(privateKey)] }, { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, { keys: 'x' }, 'garbage']) {
      const refused = await callAdmin<{ error: string; error_description: string }>(t.url, token, 'POST', '/clients', { name: 'bad', grants: ['client_credentials'], jwks });
      expect(refused.status, JSON.stringify(jwks)).toBe(400);
      expect(refused.body.error).toBe('invalid_request');
    }
  });
});

describe('failure budget', () => {
  it('refused assertions spend the address\'s client-authentication failure budget, as wrong secrets do', async () => {
    const limited = await startTestServer({ env: { GOVAUTH_RATE_LIMIT_CLIENT_AUTH_FAILURES: '3' } });
    try {
      await limited.cliJson('init', '--demo');
      const key = await keyPair('ES256', 'k');
      const c = await limited.cliJson<{ client_id: string }>('client', 'create', '--name', 'b', '--grant', 'client_credentials', '--roles', 'data-scientist', '--jwks-file', jwksFile('limited.json', [key.publicJwk]));
      await limited.server.policy.sync();
      const bad = async () =>
        new SignJWT({ iss: c.client_id, sub: c.client_id, aud: 'https://elsewhere.example', jti: randomUUID(), exp: Math.floor(Date.now() / 1000) + 60 }).setProtectedHeader({ alg: 'ES256', kid: 'k' }).sign(key.privateKey);
      const send = async (path: string, a: string) => {
        const res = await fetch(`${limited.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'client_credentials', token: 'a.b.c', client_assertion_type: ASSERTION_TYPE, client_assertion: a }) });
        return { status: res.status, body: (await res.json()) as { error: string } };
      };
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await send('/token', await bad())).status);
      expect(statuses).toEqual([401, 401, 401]);
      const over = await send('/token', await bad());
      expect(over).toMatchObject({ status: 429, body: { error: 'slow_down' } });
      expect((await send('/token/introspection', await bad())).body.error).toBe('slow_down');
    } finally {
      await limited.stop();
    }
  });
});

// Changing a confidential client's authentication method after registration (PATCH
// /clients/{id} auth_method, `govauth client update --auth`), on two instances sharing one
// database: the next token request must use the new method on both (the change feed), the old
// credential is refused (a secret, with its rotation grace; keys; a certificate), tokens issued
// before stay active, a new secret is shown once, and contradictory or hostile changes are 4xx
// problems that change nothing.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { basic, waitFor, type ClientCreds } from '../helpers/oauth.ts';
import { API } from '../helpers/people.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { createTestPki, type Pem, type TestPki } from '../helpers/test-pki.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
let db: TestDatabase;
let a: TestServer;
let b: TestServer;
let token: string;
let auditorToken: string;
let rs: ClientCreds;
let pki: TestPki;
let botCert: Pem;
let selfSigned: Pem;
let key: { privateKey: CryptoKey; publicJwk: JWK };

type Err = { error: string; error_description: string };
interface ClientShown { client_id: string; auth_method: string; token_endpoint_auth_method: string; secret: { set_at: string; expires_at: string | null; previous_valid_until: string | null } | null; jwks: unknown; jwks_uri: string | null; tls_subject_dn: string | null; tls_san: string | null; certificate_bound_tokens: boolean }
type Patched = { client: ClientShown; client_secret?: string };

const admin = <B>(method: string, path: string, body?: unknown) => callAdmin<B>(a.url, token, method, path, body);
const patch = (id: string, body: unknown) => admin<Patched & Err>('PATCH', `/clients/${id}`, body);

async function post(s: TestServer, path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${s.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const cc = { grant_type: 'client_credentials', resource: API };
const bySecret = (s: TestServer, id: string, secret: string) => post(s, '/token', cc, { authorization: basic({ client_id: id, client_secret: secret }) });
const byCert = (s: TestServer, id: string, cert: Pem) => post(s, '/token', { ...cc, client_id: id }, { 'client-cert': cert.header });
async function byAssertion(s: TestServer, id: string) {
  const now = Math.floor(Date.now() / 1000);
  const jwt = await new SignJWT({ iss: id, sub: id, aud: s.issuer, jti: randomUUID(), iat: now, exp: now + 60 }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(key.privateKey);
  return post(s, '/token', { ...cc, client_assertion_type: ASSERTION_TYPE, client_assertion: jwt });
}
const active = async (accessToken: string): Promise<boolean> => (await post(a, '/token/introspection', { token: accessToken }, { authorization: basic(rs) })).body.active === true;
/** On both instances, `attempt` answers `status` (within the propagation bound). */
async function onBoth(attempt: (s: TestServer) => Promise<{ status: number }>, status: number): Promise<void> {
  for (const s of [a, b]) await waitFor(async () => ((await attempt(s)).status === status ? true : undefined), 3000);
}

const bot = async (name: string, extra: Record<string, unknown> = {}): Promise<{ client_id: string; client_secret: string | null }> => {
  const res = await admin<{ client_id: string; client_secret: string | null }>('POST', '/clients', { name, grants: ['client_credentials'], roles: ['data-scientist'], ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
};

beforeAll(async () => {
  pki = createTestPki();
  botCert = pki.issue('bot', '/O=Example/CN=bot', 'bot.example');
  selfSigned = pki.selfSigned('self', '/CN=self-bot');
  const pair = await generateKeyPair('ES256', { extractable: true });
  key = { privateKey: pair.privateKey, publicJwk: { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' } };
  db = await createTestDatabase({ migrated: true });
  const env = { GOVAUTH_TRUST_PROXY: 'true', GOVAUTH_TLS_CLIENT_CA: pki.caFile, GOVAUTH_POLICY_POLL_MS: '250' };
  a = await startTestServer({ db, env });
  b = await startTestServer({ db, env, masterKey: a.env.GOVAUTH_MASTER_KEY });
  await a.cliJson('init', '--demo');
  const bots = await createAdminBots(a);
  token = await tokenFor(a.url, bots.adminBot);
  auditorToken = await tokenFor(a.url, bots.auditorBot);
  rs = await a.cliJson<ClientCreds>('client', 'create', '--name', 'model-api', '--resource', API, '--introspect');
  await a.server.policy.sync();
}, 60_000);
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await db?.drop();
});

describe('changing how a client authenticates', () => {
  it('secret → private_key_jwt → a new secret shown once: each time the next token request must use the new method, on every instance', async () => {
    const c = await bot('switching-bot');
    const oldSecret = c.client_secret ?? '';
    await onBoth((s) => bySecret(s, c.client_id, oldSecret), 200);
    const issued = String((await bySecret(a, c.client_id, oldSecret)).body.access_token);

    const toKeys = await patch(c.client_id, { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    expect(toKeys.status, JSON.stringify(toKeys.body)).toBe(200);
    expect(toKeys.body.client_secret).toBeUndefined();
    expect(toKeys.body.client).toMatchObject({ auth_method: 'private_key_jwt', token_endpoint_auth_method: 'private_key_jwt', secret: null, jwks: { keys: [key.publicJwk] } });
    await onBoth((s) => bySecret(s, c.client_id, oldSecret), 401);
    for (const s of [a, b]) expect((await byAssertion(s, c.client_id)).status).toBe(200);
    // A token issued before the change is not affected by it.
    expect(await active(issued)).toBe(true);

    const toSecret = await patch(c.client_id, { auth_method: 'client_secret_basic', secret_expires: '90d' });
    expect(toSecret.status, JSON.stringify(toSecret.body)).toBe(200);
    const newSecret = toSecret.body.client_secret ?? '';
    expect(newSecret.length).toBeGreaterThan(20);
    expect(toSecret.body.client).toMatchObject({ auth_method: 'client_secret', jwks: null, jwks_uri: null });
    expect(toSecret.body.client.secret?.expires_at).toMatch(/^\d{4}-/);
    await onBoth((s) => byAssertion(s, c.client_id), 401);
    for (const s of [a, b]) {
      expect((await bySecret(s, c.client_id, newSecret)).status).toBe(200);
      expect((await bySecret(s, c.client_id, oldSecret)).status).toBe(401);
    }
    // Shown once: reading the client back never shows it; the audit records the change, not the secret.
    expect(JSON.stringify((await admin('GET', `/clients/${c.client_id}`)).body)).not.toContain(newSecret);
    const audit = await a.cliJson<{ events: { subject: string; detail: { before: { auth_method: string }; after: { auth_method: string }; secret_issued: boolean } }[] }>('audit', 'tail', '--action', 'admin.client.auth_method', '--limit', '50');
    const mine = audit.events.filter((e) => e.subject === c.client_id);
    expect(mine.map((e) => [e.detail.before.auth_method, e.detail.after.auth_method, e.detail.secret_issued])).toEqual([['client_secret', 'private_key_jwt', false], ['private_key_jwt', 'client_secret', true]]);
    expect(JSON.stringify(mine)).not.toContain(newSecret);
  });

  it('secret in a rotation grace → tls_client_auth → another subject → self_signed_tls_client_auth → private_key_jwt', async () => {
    const c = await bot('cert-bot');
    const rotated = await admin<{ client_secret: string }>('POST', `/clients/${c.client_id}/rotate-secret`, { grace: '24h' });
    await onBoth((s) => bySecret(s, c.client_id, c.client_secret ?? ''), 200); // the replaced secret, in its grace

    const toCert = await patch(c.client_id, { auth_method: 'tls_client_auth', tls_subject_dn: 'CN=bot,O=Example' });
    expect(toCert.status, JSON.stringify(toCert.body)).toBe(200);
    expect(toCert.body.client).toMatchObject({ auth_method: 'tls_client_auth', tls_subject_dn: 'CN=bot,O=Example', secret: null });
    // Neither the secret nor the one in its grace works any more: a client with a certificate keeps no secret.
    await onBoth((s) => bySecret(s, c.client_id, rotated.body.client_secret), 401);
    await onBoth((s) => bySecret(s, c.client_id, c.client_secret ?? ''), 401);
    await onBoth((s) => byCert(s, c.client_id, botCert), 200);

    // A tls_client_auth client's subject, replaced without naming the method again.
    const bySan = await patch(c.client_id, { tls_san: 'dns:bot.example' });
    expect(bySan.status, JSON.stringify(bySan.body)).toBe(200);
    expect(bySan.body.client).toMatchObject({ auth_method: 'tls_client_auth', tls_subject_dn: null, tls_san: 'dns:bot.example' });
    await onBoth((s) => byCert(s, c.client_id, botCert), 200);

    const toSelfSigned = await patch(c.client_id, { auth_method: 'self_signed_tls_client_auth', jwks: selfSigned.jwks });
    expect(toSelfSigned.status, JSON.stringify(toSelfSigned.body)).toBe(200);
    expect(toSelfSigned.body.client).toMatchObject({ auth_method: 'self_signed_tls_client_auth', certificate_bound_tokens: true, tls_san: null });
    await onBoth((s) => byCert(s, c.client_id, botCert), 401);
    await onBoth((s) => byCert(s, c.client_id, selfSigned), 200);

    // The certificate binding self_signed_tls_client_auth implied goes with it.
    const toKeys = await patch(c.client_id, { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    expect(toKeys.body.client).toMatchObject({ auth_method: 'private_key_jwt', certificate_bound_tokens: false });
    await onBoth((s) => byCert(s, c.client_id, selfSigned), 401);
    await onBoth((s) => byAssertion(s, c.client_id), 200);
  });

  it('refuses contradictory and hostile changes with a 4xx problem, and changes nothing', async () => {
    const c = await bot('steady-bot');
    const app = await admin<{ client_id: string }>('POST', '/clients', { name: 'public-app', grants: ['authorization_code'], redirect_uris: ['https://app.example/cb'], public: true });
    const resourceServer = await admin<{ client_id: string }>('POST', '/clients', { name: 'rs', grants: [], introspect_audience: API });
    const noX5c = { keys: selfSigned.jwks.keys.map(({ x5c: _x5c, ...k }) => k) };
    const cases: [string, string, unknown, number, RegExp][] = [
      ['a public client to a secret', app.body.client_id, { auth_method: 'client_secret' }, 409, /stays public/],
      ['a public client to keys', app.body.client_id, { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } }, 409, /stays public/],
      ['a confidential client to public', c.client_id, { auth_method: 'none' }, 400, /cannot be made public/],
      ['a secret for a secret client', c.client_id, { auth_method: 'client_secret' }, 400, /rotate-secret/],
      ['private_key_jwt without keys', c.client_id, { auth_method: 'private_key_jwt' }, 400, /contradicts/],
      ['tls_client_auth without a subject', c.client_id, { auth_method: 'tls_client_auth' }, 400, /contradicts/],
      ['a subject with keys', c.client_id, { auth_method: 'tls_client_auth', tls_subject_dn: 'CN=bot', jwks: { keys: [key.publicJwk] } }, 400, /one way/],
      ['keys given twice', c.client_id, { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, jwks_uri: 'https://keys.example/jwks' }, 400, /not both/],
      ['a DN and a SAN', c.client_id, { auth_method: 'tls_client_auth', tls_subject_dn: 'CN=bot', tls_san: 'dns:bot.example' }, 400, /not both/],
      ['self-signed without certificates', c.client_id, { auth_method: 'self_signed_tls_client_auth' }, 400, /needs the client certificate/],
      ['self-signed with keys lacking x5c', c.client_id, { auth_method: 'self_signed_tls_client_auth', jwks: noX5c }, 400, /x5c/],
      ['a symmetric key', c.client_id, { auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, 400, /private key material|symmetric/],
      ['keys at a loopback URL', c.client_id, { auth_method: 'private_key_jwt', jwks_uri: 'https://127.0.0.1/jwks' }, 400, /jwks_uri/],
      ['a subject without the method', c.client_id, { tls_subject_dn: 'CN=bot' }, 400, /name the method/],
      ['a secret expiry alone', c.client_id, { secret_expires: '90d' }, 400, /secret_expires/],
      ['a secret expiry for keys', c.client_id, { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, secret_expires: '90d' }, 400, /secret_expires/],
      ['an unknown method', c.client_id, { auth_method: 'kerberos' }, 400, /unknown authentication method/],
      ['a method that is not a string', c.client_id, { auth_method: 42 }, 400, /auth_method/],
      ['a malformed DN', c.client_id, { auth_method: 'tls_client_auth', tls_subject_dn: 'not a dn' }, 400, /RFC 4514/],
      ['a resource server by certificate', resourceServer.body.client_id, { auth_method: 'tls_client_auth', tls_subject_dn: 'CN=rs' }, 400, /introspection with a secret/],
      ['a resource server by fetched keys', resourceServer.body.client_id, { auth_method: 'private_key_jwt', jwks_uri: 'https://keys.example/jwks' }, 400, /jwks-uri applies to clients that obtain tokens/],
      ['an unknown client', 'cl_nobody', { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } }, 404, /no client/],
    ];
    const before = (await admin<{ client: ClientShown }>('GET', `/clients/${c.client_id}`)).body.client;
    for (const [why, id, body, status, message] of cases) {
      const res = await patch(id, body);
      expect(res.status, `${why}: ${JSON.stringify(res.body)}`).toBe(status);
      expect(res.body.error_description, why).toMatch(message);
    }
    const auditor = await callAdmin<Err>(a.url, auditorToken, 'PATCH', `/clients/${c.client_id}`, { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    expect(auditor.status).toBe(403);
    expect((await admin<{ client: ClientShown }>('GET', `/clients/${c.client_id}`)).body.client).toEqual(before);
    expect((await bySecret(a, c.client_id, c.client_secret ?? '')).status).toBe(200);
  });

  it('the CLI changes the method with --auth, printing a new secret once', async () => {
    const c = await bot('cli-bot');
    const file = join(mkdtempSync(join(tmpdir(), 'govauth-auth-')), 'keys.json');
    writeFileSync(file, JSON.stringify({ keys: [key.publicJwk] }));
    const keyed = await a.cliJson<{ client: ClientShown; client_secret?: string }>('client', 'update', c.client_id, '--auth', 'private_key_jwt', '--jwks-file', file);
    expect(keyed.client.auth_method).toBe('private_key_jwt');
    expect(keyed.client_secret).toBeUndefined();
    const text = await a.cli('client', 'update', c.client_id, '--auth', 'client_secret');
    expect(text.code, text.stderr).toBe(0);
    const secret = /client_secret: (\S+)/.exec(text.stdout)?.[1] ?? '';
    expect(text.stdout).toContain('not shown again');
    await onBoth((s) => bySecret(s, c.client_id, secret), 200);
    const refused = await a.cli('client', 'update', c.client_id, '--auth', 'tls_client_auth', '--tls-san-dns', 'bot.example', '--tls-san-ip', '10.0.0.1');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/one subject alternative name/);
  });
});

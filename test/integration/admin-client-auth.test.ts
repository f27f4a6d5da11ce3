// The admin API registers every authentication method the CLI does (client_secret,
// private_key_jwt, tls_client_auth by subject DN or SAN, self_signed_tls_client_auth) and the
// proof-of-possession requirement, shows them back, documents them in its OpenAPI document, and
// answers contradictory or malformed combinations with a 400 naming the problem, never a 500.
// Clients registered this way then authenticate for real (certificates in the RFC 9440 header).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { decodeJwt } from '../helpers/oauth.ts';
import { createTestPki, type Pem, type TestPki } from '../helpers/test-pki.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const API = 'https://models.example';
let t: TestServer;
let token: string;
let pki: TestPki;
let bot: Pem;
let selfSigned: Pem;

interface Created {
  client_id: string;
  client_secret: string | null;
}
type Err = { error: string; error_description: string };
type Shown = { client: Record<string, unknown> };

const admin = <B>(method: string, path: string, body?: unknown) => callAdmin<B>(t.url, token, method, path, body);
const issue = (clientId: string, cert: Pem) =>
  fetch(`${t.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'client-cert': cert.header },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: API, client_id: clientId }),
  }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }));

beforeAll(async () => {
  pki = createTestPki();
  bot = pki.issue('bot', '/O=Example/CN=bot', 'bot.example');
  selfSigned = pki.selfSigned('self', '/CN=self-bot');
  t = await startTestServer({ env: { GOVAUTH_TRUST_PROXY: 'true', GOVAUTH_TLS_CLIENT_CA: pki.caFile } });
  await t.cliJson('init', '--demo');
  const { adminBot } = await createAdminBots(t);
  token = await tokenFor(t.url, adminBot);
});
afterAll(() => t?.stop());

const bots = { grants: ['client_credentials'], roles: ['data-scientist'] };

describe('registering each authentication method through the admin API', () => {
  it('tls_client_auth by subject DN, certificate-bound: no secret, shown back, and it authenticates', async () => {
    const created = await admin<Created>('POST', '/clients', { name: 'dn-bot', ...bots, tls_subject_dn: 'CN=bot,O=Example', certificate_bound_tokens: true });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.client_secret).toBeNull();
    const shown = await admin<Shown>('GET', `/clients/${created.body.client_id}`);
    expect(shown.body.client).toMatchObject({ auth_method: 'tls_client_auth', token_endpoint_auth_method: 'tls_client_auth', tls_subject_dn: 'CN=bot,O=Example', tls_san: null, certificate_bound_tokens: true, public: false, secret: null });
    await t.server.policy.sync();
    const res = await issue(created.body.client_id, bot);
    expect(res.status).toBe(200);
    expect(decodeJwt(String(res.body.access_token)).payload.cnf).toEqual({ 'x5t#S256': bot.thumbprint });
  });

  it('tls_client_auth by SAN, given as shown (dns:…)', async () => {
    const created = await admin<Created>('POST', '/clients', { name: 'san-bot', ...bots, tls_san: 'dns:bot.example', auth_method: 'tls_client_auth' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const shown = await admin<Shown>('GET', `/clients/${created.body.client_id}`);
    expect(shown.body.client).toMatchObject({ auth_method: 'tls_client_auth', tls_subject_dn: null, tls_san: 'dns:bot.example', certificate_bound_tokens: false });
    await t.server.policy.sync();
    expect((await issue(created.body.client_id, bot)).status).toBe(200);
  });

  it('self_signed_tls_client_auth with its certificate in jwks: bound tokens; its keys replaced by PATCH, x5c still required', async () => {
    const created = await admin<Created>('POST', '/clients', { name: 'self-bot', ...bots, auth_method: 'self_signed_tls_client_auth', jwks: selfSigned.jwks });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.client_secret).toBeNull();
    const id = created.body.client_id;
    const shown = await admin<Shown>('GET', `/clients/${id}`);
    expect(shown.body.client).toMatchObject({ auth_method: 'self_signed_tls_client_auth', token_endpoint_auth_method: 'self_signed_tls_client_auth', certificate_bound_tokens: true, jwks: selfSigned.jwks });
    await t.server.policy.sync();
    const res = await issue(id, selfSigned);
    expect(res.status).toBe(200);
    expect(decodeJwt(String(res.body.access_token)).payload.cnf).toEqual({ 'x5t#S256': selfSigned.thumbprint });
    expect((await issue(id, bot)).status).toBe(401); // CA-issued, but not the registered certificate

    const next = pki.selfSigned('self-next', '/CN=self-bot');
    expect((await admin<Shown>('PATCH', `/clients/${id}`, { jwks: next.jwks })).status).toBe(200);
    const noX5c = await admin<Err>('PATCH', `/clients/${id}`, { jwks: { keys: next.jwks.keys.map(({ x5c: _x5c, ...k }) => k) } });
    expect(noX5c.status).toBe(400);
    expect(noX5c.body.error_description).toMatch(/at least one key with x5c/);
  });

  it('client_secret named as the registry does, with proof of possession required, and the requirement withdrawn', async () => {
    const created = await admin<Created>('POST', '/clients', { name: 'pop-bot', ...bots, auth_method: 'client_secret_post', require_pop: true });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.client_secret).toEqual(expect.any(String));
    const shown = await admin<Shown>('GET', `/clients/${created.body.client_id}`);
    expect(shown.body.client).toMatchObject({ auth_method: 'client_secret', token_endpoint_auth_method: 'client_secret_basic', require_pop: true });
    const patched = await admin<Shown>('PATCH', `/clients/${created.body.client_id}`, { require_pop: false });
    expect(patched.body.client.require_pop).toBe(false);
  });

  it('the OpenAPI document describes the method, the certificate fields and proof of possession', async () => {
    const doc = (await (await fetch(`${t.url}/admin/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, { description?: string }> } }> } }>> };
    const props = doc.paths['/clients']?.post?.requestBody?.content['application/json']?.schema.properties ?? {};
    for (const field of ['auth_method', 'jwks', 'tls_subject_dn', 'tls_san', 'certificate_bound_tokens', 'require_pop']) expect(props[field]?.description, field).toBeTruthy();
    expect(props.auth_method?.description).toMatch(/self_signed_tls_client_auth/);
    expect(JSON.stringify(doc)).toContain('self_signed_tls_client_auth');
  });
});

describe('hostile and contradictory registrations: 400 with a clear error, never a 500', () => {
  const noX5c = () => ({ keys: selfSigned.jwks.keys.map(({ x5c: _x5c, ...k }) => k) });
  const cases: [string, () => Record<string, unknown>, RegExp][] = [
    ['subject DN and SAN', () => ({ ...bots, tls_subject_dn: 'CN=bot', tls_san: 'dns:bot.example' }), /not both/],
    ['subject DN and jwks', () => ({ ...bots, tls_subject_dn: 'CN=bot', jwks: selfSigned.jwks }), /one way/],
    ['SAN on a public app', () => ({ grants: ['authorization_code'], redirect_uris: ['https://app.example/cb'], public: true, tls_san: 'dns:app.example' }), /one way|not public/],
    ['self-signed without jwks', () => ({ ...bots, auth_method: 'self_signed_tls_client_auth' }), /needs the client certificate/],
    ['self-signed with keys lacking x5c', () => ({ ...bots, auth_method: 'self_signed_tls_client_auth', jwks: noX5c() }), /at least one key with x5c/],
    ['x5c of another key', () => ({ ...bots, jwks: { keys: [{ ...selfSigned.jwks.keys[0], x5c: bot.jwks.keys[0]?.x5c }] } }), /certificate for another key/],
    ['x5c not a list', () => ({ ...bots, jwks: { keys: [{ ...selfSigned.jwks.keys[0], x5c: 'MIIB' }] } }), /x5c must be an array/],
    ['tls_client_auth without a subject', () => ({ ...bots, auth_method: 'tls_client_auth' }), /contradicts/],
    ['private_key_jwt with a certificate subject', () => ({ ...bots, auth_method: 'private_key_jwt', tls_subject_dn: 'CN=bot' }), /contradicts/],
    ['none for a confidential bot', () => ({ ...bots, auth_method: 'none' }), /contradicts/],
    ['an unknown method', () => ({ ...bots, auth_method: 'kerberos' }), /unknown authentication method/],
    ['a method that is not a string', () => ({ ...bots, auth_method: 42 }), /auth_method/],
    ['a malformed DN', () => ({ ...bots, tls_subject_dn: 'not a dn' }), /RFC 4514/],
    ['an empty DN', () => ({ ...bots, tls_subject_dn: '' }), /RFC 4514/],
    ['a SAN of an unknown kind', () => ({ ...bots, tls_san: 'ftp:bot.example' }), /kind one of dns, uri, ip, email/],
    ['a SAN without a kind', () => ({ ...bots, tls_san: 'bot.example' }), /<kind>:<value>/],
    ['a SAN without a value', () => ({ ...bots, tls_san: 'dns:' }), /without spaces/],
    ['a SAN with spaces', () => ({ ...bots, tls_san: 'dns:a b' }), /without spaces/],
    ['bound tokens as a string', () => ({ ...bots, certificate_bound_tokens: 'yes' }), /certificate_bound_tokens/],
    ['bound tokens for a resource server', () => ({ grants: [], introspect_audience: API, certificate_bound_tokens: true }), /applies to a client that obtains tokens/],
    ['a resource server by certificate', () => ({ grants: [], introspect_audience: API, tls_subject_dn: 'CN=rs' }), /introspection with a secret/],
    ['a resource server self-signed', () => ({ grants: [], introspect_audience: API, auth_method: 'self_signed_tls_client_auth', jwks: selfSigned.jwks }), /introspection with a secret or private_key_jwt/],
  ];
  it.each(cases)('%s', async (_why, body, message) => {
    const res = await admin<Err>('POST', '/clients', { name: 'hostile', ...body() });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).toMatch(message);
  });

  it('PATCH changes the method only when named (client-auth-change.test.ts), and replaces keys only on a keyed client', async () => {
    const created = await admin<Created>('POST', '/clients', { name: 'dn-bot-2', ...bots, tls_subject_dn: 'CN=bot,O=Example' });
    for (const body of [{ certificate_bound_tokens: true }, { tls_subject_dn: 'CN=other', jwks: selfSigned.jwks }, { secret_expires: '90d' }]) {
      const res = await admin<Err>('PATCH', `/clients/${created.body.client_id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const keys = await admin<Err>('PATCH', `/clients/${created.body.client_id}`, { jwks: selfSigned.jwks });
    expect(keys.status).toBe(400);
    expect(keys.body.error_description).toMatch(/keys can only be replaced on a private_key_jwt or self_signed_tls_client_auth client/);
  });
});

// The admin API over real HTTP against a real database, called the way an operations bot would:
// a client holding govauth-admin (or govauth-auditor) gets a client_credentials token for
// urn:govauth:admin and sends it as a bearer token. Every successful response is also checked
// against the route's declared (strict) response schema, so the OpenAPI document describes
// what is actually served.
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventView } from '../../src/audit/audit-query.ts';
import type { ReviewEntry } from '../../src/governance/access-review.ts';
import type { ResourceView, RoleView, ScopeView } from '../../src/governance/catalog.ts';
import type { ClientView } from '../../src/governance/client-registry.ts';
import type { RevocationView } from '../../src/governance/revocations.ts';
import type { RoleGrantView } from '../../src/governance/role-grants.ts';
import type { UserView } from '../../src/governance/user-registry.ts';
import { basic, decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { ADMIN, callAdmin, createAdminBots, tokenFor as tokenAt, type Answer, type CallOptions } from '../helpers/admin-http.ts';

const MODELS = 'https://models.example';

let t: TestServer;
let adminBot: ClientCreds;
let auditorBot: ClientCreds;
let adminToken: string;
let auditorToken: string;

/** Every field any admin response can have (each route's exact shape is checked in `call`). */
type Body = Partial<{
  scope: ScopeView; scopes: ScopeView[]; resource: ResourceView; resources: ResourceView[]; role: RoleView; roles: RoleView[];
  client: ClientView; clients: ClientView[]; client_id: string; client_secret: string | null;
  user: UserView; users: UserView[]; id: string; secret: string; otpauth_url: string; grants: RoleGrantView[];
  revocations: RevocationView[]; revoked: { kind: string; key: string; label: string }; events: AuditEventView[];
  ok: boolean; first: number; principals: ReviewEntry[]; unused_days: number; error: string; error_description: string;
}>;

const call = (token: string | undefined, method: string, path: string, body?: unknown, init?: CallOptions): Promise<Answer<Body>> => callAdmin<Body>(t.url, token, method, path, body, init);
const admin = (method: string, path: string, body?: unknown): Promise<Answer<Body>> => call(adminToken, method, path, body);
const tokenFor = (creds: ClientCreds, resource = ADMIN): Promise<string> => tokenAt(t.url, creds, resource);

async function introspect(token: string, rs: ClientCreds): Promise<Record<string, unknown>> {
  const res = await fetch(`${t.url}/token/introspection`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs) },
    body: new URLSearchParams({ token }),
  });
  return (await res.json()) as Record<string, unknown>;
}

const u = encodeURIComponent;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  ({ adminBot, auditorBot } = await createAdminBots(t));
  adminToken = await tokenFor(adminBot);
  auditorToken = await tokenFor(auditorBot);
});
afterAll(() => t?.stop());

describe('authentication and authorization (RFC 6750)', () => {
  it('refuses a request without a token: 401, a challenge without an error code', async () => {
    const r = await call(undefined, 'GET', '/scopes');
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Bearer realm="govauth"');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.body.error).toBe('invalid_token');
    const basicAuth = await call(undefined, 'GET', '/scopes', undefined, { headers: { authorization: basic(adminBot) } });
    expect(basicAuth.status).toBe(401);
    expect(basicAuth.headers.get('www-authenticate')).toBe('Bearer realm="govauth"');
  });

  it('refuses garbage and malformed tokens: 401 invalid_token', async () => {
    for (const header of ['Bearer garbage', 'Bearer a.b.c', 'Bearer ', 'Bearer two words', `Bearer ${'x'.repeat(9000)}`]) {
      const r = await call(undefined, 'GET', '/scopes', undefined, { headers: { authorization: header } });
      expect(r.status, header.slice(0, 20)).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="govauth", error="invalid_token"');
      expect(r.body.error).toBe('invalid_token');
    }
  });

  it('refuses a token for another audience', async () => {
    const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'model-bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
    await t.server.policy.sync();
    const r = await call(await tokenFor(bot, MODELS), 'GET', '/scopes');
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ error: 'invalid_token', error_description: expect.stringContaining(ADMIN) as string });
  });

  it('refuses a token its client revoked (RFC 7009)', async () => {
    const token = await tokenFor(adminBot);
    expect((await call(token, 'GET', '/scopes')).status).toBe(200);
    const res = await fetch(`${t.url}/token/revocation`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(adminBot) }, body: new URLSearchParams({ token }) });
    expect(res.status).toBe(200);
    const r = await call(token, 'GET', '/scopes');
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('follows live policy: a disabled admin client\'s token stops working at once', async () => {
    const created = await admin('POST', '/clients', { name: 'second-admin', grants: ['client_credentials'], roles: ['govauth-admin'], admin_access: true });
    const creds = created.body as ClientCreds;
    const token = await tokenFor(creds);
    expect((await call(token, 'GET', '/clients')).status).toBe(200);
    expect((await admin('POST', `/clients/${creds.client_id}/disable`)).body.client?.disabled).toBe(true);
    expect((await call(token, 'GET', '/clients')).status).toBe(401);
  });

  it('lets the auditor read and refuses its writes: 403 insufficient_scope, recorded', async () => {
    expect(decodeJwt(auditorToken).payload.scope).toBe('govauth.audit.read');
    for (const path of ['/scopes', '/clients', '/users', '/audit?limit=5', '/audit/verify', '/review', '/revocations']) {
      expect((await call(auditorToken, 'GET', path)).status, path).toBe(200);
    }
    const r = await call(auditorToken, 'POST', '/scopes', { name: 'auditor.write', description: 'should not exist' });
    expect(r.status).toBe(403);
    expect(r.headers.get('www-authenticate')).toBe('Bearer realm="govauth", error="insufficient_scope", scope="govauth.admin"');
    expect(r.body.error).toBe('insufficient_scope');
    expect((await admin('GET', '/scopes')).body.scopes?.map((s: { name: string }) => s.name)).not.toContain('auditor.write');
    await t.server.audit.flush();
    const denied = await admin('GET', `/audit?action=admin_api.denied&actor=${auditorBot.client_id}`);
    expect(denied.body.events?.at(-1)).toMatchObject({ actor_type: 'admin', outcome: 'denied', detail: { method: 'POST', path: '/admin/v1/scopes', required_scope: 'govauth.admin' } });
  });
});

describe('catalogue: scopes, resources, roles', () => {
  it('creates, lists and changes a scope; 409 for a duplicate, 404 for an unknown one', async () => {
    const created = await admin('POST', '/scopes', { name: 'datasets.read', description: 'Read datasets', sensitivity: 'medium', max_ttl: 600 });
    expect(created.status).toBe(201);
    expect(created.body.scope).toEqual({ name: 'datasets.read', description: 'Read datasets', sensitivity: 'medium', max_ttl: 600 });
    expect((await admin('POST', '/scopes', { name: 'datasets.read', description: 'again' })).status).toBe(409);
    const patched = await admin('PATCH', '/scopes/datasets.read', { max_ttl: null, description: 'Read any dataset' });
    expect(patched.body.scope).toMatchObject({ max_ttl: null, description: 'Read any dataset', sensitivity: 'medium' });
    expect((await admin('GET', '/scopes')).body.scopes).toContainEqual(patched.body.scope);
    expect((await admin('PATCH', '/scopes/no.such.scope', { description: 'x' })).status).toBe(404);
    expect(await admin('PATCH', '/scopes/datasets.read', {})).toMatchObject({ status: 400, body: { error_description: 'body: give at least one field to change' } });
  });

  it('registers a resource and changes it at its URL-encoded audience', async () => {
    const created = await admin('POST', '/resources', { audience: 'https://datasets.example', name: 'Dataset store', scopes: ['datasets.read'], token_ttl: 120 });
    expect(created.status).toBe(201);
    expect(created.body.resource).toEqual({ audience: 'https://datasets.example', name: 'Dataset store', scopes: ['datasets.read'], token_ttl: 120, require_pop: false });
    expect((await admin('POST', '/resources', { audience: 'https://datasets.example', name: 'again', scopes: [] })).status).toBe(409);
    const patched = await admin('PATCH', `/resources/${u('https://datasets.example')}`, { token_ttl: null, name: 'Datasets' });
    expect(patched.body.resource).toMatchObject({ name: 'Datasets', token_ttl: null });
    expect((await admin('GET', '/resources')).body.resources).toContainEqual(patched.body.resource);
    expect((await admin('PATCH', `/resources/${u('https://nowhere.example')}`, { name: 'x' })).status).toBe(404);
    const unknownScope = await admin('POST', '/resources', { audience: 'https://x.example', name: 'X', scopes: ['nope.scope'] });
    expect(unknownScope).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringContaining('nope.scope') as string } });
  });

  it('defines a role and changes its scopes', async () => {
    const created = await admin('POST', '/roles', { name: 'dataset-reader', scopes: ['datasets.read'] });
    expect(created).toMatchObject({ status: 201, body: { role: { name: 'dataset-reader', description: '', scopes: ['datasets.read'] } } });
    expect((await admin('POST', '/roles', { name: 'dataset-reader', scopes: [] })).status).toBe(409);
    const patched = await admin('PATCH', '/roles/dataset-reader', { description: 'Reads datasets', scopes: ['datasets.read', 'ai.prediction.run'] });
    expect(patched.body.role).toEqual({ name: 'dataset-reader', description: 'Reads datasets', scopes: ['ai.prediction.run', 'datasets.read'] });
    expect((await admin('GET', '/roles')).body.roles).toContainEqual(patched.body.role);
    expect((await admin('PATCH', '/roles/no-such-role', { description: 'x' })).status).toBe(404);
  });
});

describe('clients', () => {
  it('creates a bot whose secret works at /token, then renames, rotates, disables and enables it', async () => {
    const created = await admin('POST', '/clients', { name: 'Dataset bot', grants: ['client_credentials'], roles: ['dataset-reader'] });
    expect(created.status).toBe(201);
    const creds = created.body as ClientCreds;
    expect(created.headers.get('location')).toBe(`/admin/v1/clients/${creds.client_id}`);
    const first = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: 'https://datasets.example' }, { basic: creds });
    expect(first.status).toBe(200);
    expect(decodeJwt(String(first.body.access_token)).payload.scope).toBe('datasets.read');

    const shown = await admin('GET', `/clients/${creds.client_id}`);
    expect(shown.body.client).toMatchObject({ client_id: creds.client_id, name: 'Dataset bot', grant_types: ['client_credentials'], roles: [{ role: 'dataset-reader', expires_at: null }], disabled: false });
    expect((await admin('PATCH', `/clients/${creds.client_id}`, { name: 'Dataset bot 2' })).body.client?.name).toBe('Dataset bot 2');
    expect((await admin('GET', '/clients')).body.clients?.map((c: { client_id: string }) => c.client_id)).toContain(creds.client_id);

    const rotated = await admin('POST', `/clients/${creds.client_id}/rotate-secret`);
    expect(rotated.body.client_id).toBe(creds.client_id);
    expect(rotated.body.client_secret).not.toBe(creds.client_secret);
    expect((await tokenRequest(t.url, { grant_type: 'client_credentials', resource: 'https://datasets.example' }, { basic: creds })).status).toBe(401);
    const fresh = rotated.body as ClientCreds;
    expect((await tokenRequest(t.url, { grant_type: 'client_credentials', resource: 'https://datasets.example' }, { basic: fresh })).status).toBe(200);

    expect((await admin('POST', `/clients/${creds.client_id}/disable`)).body.client?.disabled).toBe(true);
    expect((await tokenRequest(t.url, { grant_type: 'client_credentials', resource: 'https://datasets.example' }, { basic: fresh })).status).toBe(401);
    expect((await admin('POST', `/clients/${creds.client_id}/enable`, {})).body.client?.disabled).toBe(false);
    expect((await tokenRequest(t.url, { grant_type: 'client_credentials', resource: 'https://datasets.example' }, { basic: fresh })).status).toBe(200);
  });

  it('creates a resource server client and an app, and says what is wrong with bad combinations', async () => {
    const rs = await admin('POST', '/clients', { name: 'model-api', grants: [], introspect_audience: MODELS });
    expect(rs.status).toBe(201);
    const app = await admin('POST', '/clients', { name: 'Studio', grants: ['authorization_code'], redirect_uris: ['https://app.example/cb'], public: true });
    expect(app.body.client_secret).toBeNull();
    const bad = await admin('POST', '/clients', { name: 'bad', grants: ['authorization_code'], roles: ['admin'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error_description).toContain('redirect_uris: an authorization_code client needs at least one');
    expect(bad.body.error_description).toContain('roles: apply to client_credentials clients');
    expect((await admin('POST', '/clients', { name: 'x', grants: ['implicit'] })).body.error_description).toMatch(/^grants\.0: /);
    expect((await admin('POST', '/clients', { name: 'rs', grants: [], introspect_audience: 'https://unknown.example' })).status).toBe(404);
  });

  it('answers 404 for an unknown client', async () => {
    for (const [method, path] of [['GET', '/clients/nope'], ['PATCH', '/clients/nope'], ['POST', '/clients/nope/rotate-secret'], ['POST', '/clients/nope/disable']] as const) {
      const r = await admin(method, path, method === 'PATCH' ? { name: 'x' } : undefined);
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.body.error).toBe('not_found');
    }
  });
});

describe('users', () => {
  it('creates a person, finds them by email, changes roles, disables, sets a password, enrols and resets MFA', async () => {
    const created = await admin('POST', '/users', { email: 'Ada@Example.com', password: 'correct horse battery staple', roles: ['data-scientist'] });
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^usr_/);
    expect(created.headers.get('location')).toBe(`/admin/v1/users/${u('ada@example.com')}`);
    expect((await admin('POST', '/users', { email: 'ada@example.com', password: 'another long password' })).status).toBe(409);

    const shown = await admin('GET', `/users/${u('ADA@example.com')}`);
    expect(shown.body.user).toMatchObject({ id: created.body.id, email: 'ada@example.com', disabled: false, mfa_enrolled: false, roles: [{ role: 'data-scientist', expires_at: null }] });
    expect((await admin('PATCH', `/users/${u('ada@example.com')}`, { roles: ['end-user'] })).body.user?.roles).toEqual([{ role: 'end-user', expires_at: null }]);
    expect((await admin('GET', '/users')).body.users?.map((x: { email: string }) => x.email)).toContain('ada@example.com');

    expect((await admin('POST', `/users/${u('ada@example.com')}/disable`)).body.user?.disabled).toBe(true);
    expect((await admin('POST', `/users/${u('ada@example.com')}/enable`)).body.user?.disabled).toBe(false);
    expect((await admin('PUT', `/users/${u('ada@example.com')}/password`, { password: 'a brand new passphrase' })).body).toEqual({ id: created.body.id, propagation: expect.objectContaining({ complete: true }) as unknown });
    const short = await admin('PUT', `/users/${u('ada@example.com')}/password`, { password: 'short' });
    expect(short).toMatchObject({ status: 400, body: { error_description: expect.stringMatching(/^password: /) as string } });

    const mfa = await admin('POST', `/users/${u('ada@example.com')}/mfa`);
    expect(mfa.body.secret).toMatch(/^[A-Z2-7]+=*$/);
    expect(mfa.body.otpauth_url).toMatch(/^otpauth:\/\/totp\/.*secret=/);
    expect((await admin('GET', `/users/${u('ada@example.com')}`)).body.user?.mfa_enrolled).toBe(true);
    expect((await admin('DELETE', `/users/${u('ada@example.com')}/mfa`)).body.user?.mfa_enrolled).toBe(false);
  });

  it('answers 404 for an unknown person and 400 for something that is not an email', async () => {
    expect((await admin('GET', `/users/${u('nobody@example.com')}`)).status).toBe(404);
    expect((await admin('POST', `/users/${u('nobody@example.com')}/mfa`)).status).toBe(404);
    expect((await admin('GET', '/users/not-an-email')).status).toBe(400);
    expect((await admin('POST', '/users', { email: 'not-an-email', password: 'correct horse battery staple' })).body.error_description).toMatch(/^email: /);
  });
});

describe('role grants (time-boxed access)', () => {
  it('grants a person a role for 8 hours, lists it, and removes it', async () => {
    const before = Date.now();
    const granted = await admin('POST', `/users/${u('ada@example.com')}/roles`, { role: 'dataset-reader', expires_in: '8h', reason: 'INC-42 investigation' });
    expect(granted.status).toBe(200);
    const grant = (granted.body.grants as { role: string; expires_at: string; reason: string }[]).find((g) => g.role === 'dataset-reader');
    expect(grant?.reason).toBe('INC-42 investigation');
    const expiresIn = Date.parse(grant?.expires_at ?? '') - before;
    expect(expiresIn).toBeGreaterThan(8 * 3600_000 - 60_000);
    expect(expiresIn).toBeLessThan(8 * 3600_000 + 60_000);
    const listed = await admin('GET', `/users/${u('ada@example.com')}/roles`);
    expect(listed.body.grants).toEqual(granted.body.grants);
    const removed = await admin('DELETE', `/users/${u('ada@example.com')}/roles/dataset-reader`);
    expect(removed.body.grants?.map((g: { role: string }) => g.role)).toEqual(['end-user']);
    expect((await admin('DELETE', `/users/${u('ada@example.com')}/roles/dataset-reader`)).status).toBe(404);
  });

  it('grants a client a role until a given time, and refuses bad expiries', async () => {
    const at = new Date(Date.now() + 3600_000).toISOString();
    const granted = await admin('POST', `/clients/${auditorBot.client_id}/roles`, { role: 'dataset-reader', expires_at: at });
    expect(granted.body.grants).toContainEqual(expect.objectContaining({ role: 'dataset-reader', expires_at: at }));
    expect((await admin('GET', `/clients/${auditorBot.client_id}/roles`)).body.id).toBe(auditorBot.client_id);
    expect((await admin('DELETE', `/clients/${auditorBot.client_id}/roles/dataset-reader`)).status).toBe(200);
    const both = await admin('POST', `/clients/${auditorBot.client_id}/roles`, { role: 'dataset-reader', expires_in: '1h', expires_at: at });
    expect(both.body.error_description).toBe('expires_at: give expires_in or expires_at, not both');
    const bad = await admin('POST', `/clients/${auditorBot.client_id}/roles`, { role: 'dataset-reader', expires_in: 'soon' });
    expect(bad.body.error_description).toMatch(/^expires_in: must look like 90s/);
    const past = await admin('POST', `/clients/${auditorBot.client_id}/roles`, { role: 'dataset-reader', expires_at: '2001-01-01T00:00:00Z' });
    expect(past).toMatchObject({ status: 400, body: { error_description: 'the expiry must be in the future' } });
    expect((await admin('POST', `/clients/${auditorBot.client_id}/roles`, { role: 'no-such-role' })).status).toBe(404);
    expect((await admin('GET', '/clients/nope/roles')).status).toBe(404);
  });
});

describe('revocations', () => {
  it("revokes a client: its earlier token turns inactive at introspection, and the revocation is listed", async () => {
    const bot = (await admin('POST', '/clients', { name: 'doomed-bot', grants: ['client_credentials'], roles: ['data-scientist'] })).body as ClientCreds;
    const rs = (await admin('POST', '/clients', { name: 'models-rs', grants: [], introspect_audience: MODELS })).body as ClientCreds;
    const token = await tokenFor(bot, MODELS);
    expect((await introspect(token, rs)).active).toBe(true);
    const revoked = await admin('POST', '/revocations', { client: bot.client_id, reason: 'key leaked in a public repo' });
    expect(revoked.status).toBe(201);
    expect(revoked.body.revoked).toMatchObject({ kind: 'client', key: bot.client_id, label: bot.client_id });
    expect(await introspect(token, rs)).toEqual({ active: false });
    const listed = await admin('GET', '/revocations');
    expect(listed.body.revocations).toContainEqual(expect.objectContaining({ kind: 'client', key: bot.client_id, reason: 'key leaked in a public repo', actor: adminBot.client_id }));
  });

  it('names exactly one principal', async () => {
    expect((await admin('POST', '/revocations', { user: 'ada@example.com', role: 'admin' })).body.error_description).toBe('body: name exactly one of user, client, role, grant');
    expect((await admin('POST', '/revocations', { reason: 'nothing' })).status).toBe(400);
    expect((await admin('POST', '/revocations', { user: 'ghost@example.com' })).status).toBe(404);
    expect((await admin('POST', '/revocations', { grant: 'not a grant id!' })).body.error_description).toMatch(/^grant: /);
  });
});

describe('input validation', () => {
  it('lists every problem: wrong types, unknown fields, missing fields', async () => {
    const r = await admin('POST', '/scopes', { name: 5, description: true, max_ttl: 'long', sensitivity: 'extreme', colour: 'red' });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_request');
    const problems = String(r.body.error_description).split('; ');
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/^name: .*expected string/), expect.stringMatching(/^description: /), expect.stringMatching(/^max_ttl: /), expect.stringMatching(/^sensitivity: /), 'colour: unknown field']));
    expect((await admin('POST', '/scopes', {})).body.error_description).toBe('name: is required; description: is required');
    expect((await admin('POST', '/scopes', [])).body.error_description).toMatch(/^body: /);
    expect((await admin('POST', '/roles', { name: 'r', scopes: ['ok.scope', 'bad scope'] })).body.error_description).toMatch(/^scopes\.1: invalid scope name "bad scope"/);
    expect((await admin('POST', '/scopes', { name: 'openid', description: 'reserved' })).body.error_description).toBe('name: scope name openid is reserved by OpenID Connect');
    expect((await admin('POST', '/scopes', { name: 'x'.repeat(200), description: 'too long' })).status).toBe(400);
  });

  it('refuses bodies that are malformed, too large (declared or chunked), not JSON, or unexpected', async () => {
    const malformed = await call(adminToken, 'POST', '/scopes', undefined, { headers: { 'content-type': 'application/json' }, raw: '{"name": ' });
    expect(malformed).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(malformed.body.error_description).toMatch(/^body: malformed JSON/);
    const big = await admin('POST', '/scopes', { name: 'big.scope', description: 'x'.repeat(17 * 1024) });
    expect(big.status).toBe(413);
    const chunk = new TextEncoder().encode(' '.repeat(1024));
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 20; i++) c.enqueue(chunk);
        c.close();
      },
    });
    const chunked = await fetch(`${t.url}/admin/v1/scopes`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: stream, duplex: 'half' });
    expect(chunked.status).toBe(413);
    expect(((await chunked.json()) as { error: string }).error).toBe('invalid_request');
    const form = await call(adminToken, 'POST', '/scopes', undefined, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, raw: 'name=form.scope&description=x' });
    expect(form.status).toBe(415);
    const latin1 = await call(adminToken, 'POST', '/scopes', undefined, { headers: { 'content-type': 'application/json; charset=iso-8859-1' }, raw: '{}' });
    expect(latin1.status).toBe(415);
    expect((await admin('POST', `/clients/${adminBot.client_id}/enable`, { force: true })).body.error_description).toBe('force: unknown field');
  });

  it('refuses unknown and repeated query parameters and out-of-range values', async () => {
    expect((await admin('GET', '/scopes?page=2')).body.error_description).toBe('page: unknown parameter');
    expect((await admin('GET', '/audit?limit=1&limit=2')).body.error_description).toBe('limit: given more than once');
    expect((await admin('GET', '/audit?limit=0')).status).toBe(400);
    expect((await admin('GET', '/audit?limit=1001')).status).toBe(400);
    expect((await admin('GET', '/audit?limit=ten')).body.error_description).toBe('limit: must be a whole number');
    expect((await admin('GET', '/audit?since=yesterday')).body.error_description).toMatch(/^since: must be an ISO 8601 time/);
    expect((await admin('GET', '/review?unused_days=0')).status).toBe(400);
  });

  it('answers 404 for unknown routes and 405 with Allow for a wrong method', async () => {
    expect((await admin('GET', '/nothing')).status).toBe(404);
    expect((await call(undefined, 'GET', '/')).status).toBe(404);
    const r = await admin('DELETE', '/scopes');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, POST, HEAD');
    const options = await fetch(`${t.url}/admin/v1/scopes/x.y`, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('PATCH');
    const head = await call(adminToken, 'HEAD', '/scopes');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('stores Unicode and SQL-looking text verbatim, and refuses control characters (NUL included)', async () => {
    const description = `Lecture seule 📊 — «données» 数据 مرحبا Ǆ\u0301'; DROP TABLE "Scope"; -- OR 1=1 /* */ \\x00`;
    const created = await admin('POST', '/scopes', { name: 'intl.read', description });
    expect(created.status).toBe(201);
    expect(created.body.scope?.description).toBe(description);
    expect((await admin('GET', '/scopes')).body.scopes).toContainEqual(expect.objectContaining({ name: 'intl.read', description }));
    const role = await admin('POST', '/roles', { name: "robert'); drop table role;--", scopes: [] });
    expect(role.body.error_description).toMatch(/^name: invalid role name/);

    const refused: [string, unknown, RegExp][] = [
      ['/scopes', { name: 'nul.desc', description: 'before\u0000after' }, /^description: must not contain control characters/],
      ['/scopes', { name: 'bell\u0007scope', description: 'x' }, /^name: invalid scope name/],
      ['/roles', { name: 'line\nbreak', scopes: [] }, /^name: invalid role name/],
      ['/resources', { audience: 'https://ctl.example', name: 'tab\tname', scopes: [] }, /^name: must not contain control characters/],
      ['/users', { email: 'nul\u0000@example.com', password: 'correct horse battery staple' }, /^email: /],
      ['/clients', { name: 'esc\u001b[31m', grants: ['client_credentials'] }, /^name: must not contain control characters/],
    ];
    for (const [path, body, message] of refused) {
      const r = await admin('POST', path, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error_description).toMatch(message);
    }
    expect((await admin('GET', '/scopes')).body.scopes?.map((s: { name: string }) => s.name)).not.toContain('nul.desc');
  });
});

describe('audit trail', () => {
  it('records every change with the bot as admin actor and before/after, and the chain verifies', async () => {
    const r = await call(auditorToken, 'GET', `/audit?action=${u('admin.*')}&actor=${adminBot.client_id}&limit=1000`);
    const events = r.body.events as { action: string; actor_type: string; actor: string; subject: string; request_id: string | null; detail: { before: unknown; after: unknown } }[];
    const actions = new Set(events.map((e) => e.action));
    for (const action of ['admin.scope.create', 'admin.scope.update', 'admin.resource.create', 'admin.resource.update', 'admin.role.create', 'admin.role.update', 'admin.client.create', 'admin.client.update', 'admin.client.rotate_secret', 'admin.client.disable', 'admin.client.enable', 'admin.user.create', 'admin.user.set_roles', 'admin.user.set_password', 'admin.user.mfa_enroll', 'admin.user.mfa_reset', 'admin.role_grant.create', 'admin.role_grant.remove']) {
      expect(actions, action).toContain(action);
    }
    for (const e of events) {
      expect(e).toMatchObject({ actor_type: 'admin', actor: adminBot.client_id });
      expect(e.request_id).toBeTruthy();
      expect(e.detail).toHaveProperty('before');
      expect(e.detail).toHaveProperty('after');
    }
    const update = events.find((e) => e.action === 'admin.scope.update' && e.subject === 'datasets.read');
    expect(update?.detail).toMatchObject({ before: { max_ttl: 600, description: 'Read datasets' }, after: { max_ttl: null, description: 'Read any dataset' } });
    const serialized = JSON.stringify(events);
    for (const secret of ['correct horse battery staple', 'a brand new passphrase']) expect(serialized).not.toContain(secret);

    const revocation = await admin('GET', `/audit?action=${u('revocation.*')}`);
    expect(revocation.body.events?.at(-1)).toMatchObject({ action: 'revocation.client', actor_type: 'admin', actor: adminBot.client_id });
    const since = await admin('GET', `/audit?since=1h&until=${u(new Date(Date.now() + 60_000).toISOString())}&limit=3`);
    expect(since.body.events).toHaveLength(3);

    expect((await call(auditorToken, 'GET', '/audit/verify')).body).toMatchObject({ ok: true, first: 1 });
  });

  it('serves the access review', async () => {
    const r = await call(auditorToken, 'GET', '/review?unused_days=30&findings_only=false');
    expect(r.body.unused_days).toBe(30);
    expect(r.body.principals?.map((p: { id: string }) => p.id)).toContain(adminBot.client_id);
  });
});

describe('OpenAPI document', () => {
  const EXPECTED = [
    'GET /scopes', 'POST /scopes', 'PATCH /scopes/{name}',
    'GET /resources', 'POST /resources', 'PATCH /resources/{audience}',
    'GET /roles', 'POST /roles', 'PATCH /roles/{name}', 'DELETE /roles/{name}',
    'GET /roles/{name}/hierarchy', 'PUT /roles/{name}/includes/{included}', 'DELETE /roles/{name}/includes/{included}', 'GET /exclusive-role-sets', 'POST /exclusive-role-sets', 'DELETE /exclusive-role-sets/{name}',
    'PUT /roles/{name}/required-factor', 'PUT /scopes/{name}/required-acr', 'GET /users/{email}/factors',
    'GET /clients', 'POST /clients', 'GET /clients/{id}', 'PATCH /clients/{id}', 'POST /clients/{id}/rotate-secret', 'POST /clients/{id}/disable', 'POST /clients/{id}/enable',
    'GET /users', 'POST /users', 'GET /users/{email}', 'PATCH /users/{email}', 'POST /users/{email}/disable', 'POST /users/{email}/enable', 'PUT /users/{email}/password', 'POST /users/{email}/mfa', 'DELETE /users/{email}/mfa',
    'GET /users/{email}/sessions', 'DELETE /users/{email}/sessions/{id}',
    'GET /users/{email}/roles', 'POST /users/{email}/roles', 'DELETE /users/{email}/roles/{role}',
    'GET /clients/{id}/roles', 'POST /clients/{id}/roles', 'DELETE /clients/{id}/roles/{role}',
    'GET /users/{email}/delegations', 'GET /clients/{id}/delegations', 'DELETE /delegations/standing/{delegation_id}',
    'GET /delegation-policies', 'POST /delegation-policies', 'GET /delegation-policies/{policy_id}', 'DELETE /delegation-policies/{policy_id}',
    'GET /access-policies', 'PUT /access-policies/{role}', 'DELETE /access-policies/{role}',
    'POST /access-requests', 'GET /access-requests', 'GET /access-requests/{id}', 'POST /access-requests/{id}/approve', 'POST /access-requests/{id}/deny', 'POST /access-requests/{id}/cancel', 'GET /audit/approvals',
    'GET /scope-access-policies', 'PUT /scope-access-policies', 'DELETE /scope-access-policies',
    'GET /users/{email}/scope-grants', 'DELETE /users/{email}/scope-grants', 'GET /clients/{id}/scope-grants', 'DELETE /clients/{id}/scope-grants',
    'POST /my/access-requests', 'GET /my/access-requests', 'POST /my/access-requests/{id}/cancel',
    'GET /revocations', 'POST /revocations',
    'GET /keys', 'POST /keys/rotate', 'POST /keys/{kid}/withdraw',
    'GET /notifications', 'POST /notifications/{event_id}/retry',
    'GET /audit', 'GET /audit/verify', 'GET /audit/access', 'GET /audit/delegations', 'POST /audit/prune', 'GET /review',
    'GET /openapi.json',
    // Attribute-based access control (src/admin/abac-routes.ts).
    'GET /users/{email}/attributes', 'PATCH /users/{email}/attributes', 'DELETE /users/{email}/attributes/{key}',
    'GET /clients/{id}/attributes', 'PATCH /clients/{id}/attributes', 'DELETE /clients/{id}/attributes/{key}',
    'GET /resources/{audience}/labels', 'PATCH /resources/{audience}/labels', 'DELETE /resources/{audience}/labels/{key}',
    'GET /scopes/{name}/labels', 'PATCH /scopes/{name}/labels', 'DELETE /scopes/{name}/labels/{key}',
    'GET /policies', 'POST /policies', 'POST /policies/validate', 'GET /policies/{version}', 'PUT /policies/active', 'POST /policies/rollback', 'POST /policies/explain',
    'GET /policy-zones', 'PUT /policy-zones/{name}', 'DELETE /policy-zones/{name}',
    'GET /self-registration/policy', 'PATCH /self-registration/policy', 'GET /self-registration/clients',
    'POST /self-registration/clients/{id}/approve', 'POST /self-registration/clients/{id}/block', 'POST /self-registration/clients/{id}/reset',
    'POST /self-registration/clients/{id}/restrict', 'GET /self-registration/tokens', 'POST /self-registration/tokens', 'POST /self-registration/tokens/{id}/revoke',
  ];

  it('is served without authentication, cacheable, valid OpenAPI 3.1, and lists every route', async () => {
    const res = await fetch(`${t.url}/admin/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { security: unknown[]; responses: Record<string, unknown> }>>; components: { securitySchemes: Record<string, { type: string; scheme?: string; bearerFormat?: string; flows?: { clientCredentials: { scopes: Record<string, string> } } }> }; servers: { url: string }[] };
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    const result = await new Validator().validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);

    const listed = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(listed.sort()).toEqual([...EXPECTED].sort());
    expect(doc.servers[0]?.url).toBe(`${t.issuer}/admin/v1`);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(Object.keys(doc.components.securitySchemes.clientCredentials?.flows?.clientCredentials.scopes ?? {}).sort()).toEqual(['govauth.admin', 'govauth.audit.read', 'govauth.requests']);
    expect(doc.paths['/scopes']?.post?.security).toEqual([{ bearerAuth: ['govauth.admin'] }]);
    expect(doc.paths['/scopes']?.get?.security).toEqual([{ bearerAuth: ['govauth.audit.read'] }, { bearerAuth: ['govauth.admin'] }]);
    expect(doc.paths['/my/access-requests']?.post?.security).toEqual([{ bearerAuth: ['govauth.requests'] }, { bearerAuth: ['govauth.admin'] }]);
    expect(Object.keys(doc.paths['/scopes']?.post?.responses ?? {}).sort()).toEqual(['201', '400', '401', '403', '409', '413', '415']);
    expect(JSON.stringify(doc.paths['/scopes']?.post)).toContain('"additionalProperties":false');
  });
});

describe('token expiry', () => {
  // Last: it moves the server's clock past every token issued so far.
  it('refuses an expired token', async () => {
    t.advance(16 * 60_000); // govauth.admin tokens live at most 15 minutes
    const r = await call(adminToken, 'GET', '/scopes');
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: 'invalid_token', error_description: 'the access token has expired' });
  });
});

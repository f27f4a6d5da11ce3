// Hostile HTTP input against a real server: oversized, malformed and duplicated requests,
// control characters, lone surrogates and SQL-looking text. Every refusal is an exact 4xx with
// a stable error code; nothing is a 5xx, stored text comes back verbatim, the server keeps serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const FORM = 'application/x-www-form-urlencoded';
const MODELS = 'https://models.example';
let t: TestServer;
let bot: ClientCreds, rs: ClientCreds, app: ClientCreds;
let adminToken: string;
let before: { scopes: number; roles: number; resources: number };

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  rs = await t.cliJson<ClientCreds>('client', 'create', '--name', 'model-api', '--resource', MODELS, '--introspect');
  app = await t.cliJson<ClientCreds>('client', 'create', '--name', 'app', '--grant', 'authorization_code', '--redirect-uri', 'http://127.0.0.1:9/cb');
  const ops = await t.cliJson<ClientCreds>('client', 'create', '--name', 'ops', '--grant', 'client_credentials', '--roles', 'govauth-admin', '--admin-access');
  await t.server.policy.sync();
  adminToken = String((await tokenRequest(t.url, { grant_type: 'client_credentials', resource: 'urn:govauth:admin' }, { basic: ops })).body.access_token);
  before = { scopes: (await listed('/scopes', 'scopes', 'name')).length, roles: (await listed('/roles', 'roles', 'name')).length, resources: (await listed('/resources', 'resources', 'audience')).length };
});
afterAll(() => t?.stop());

interface Answer { status: number; text: string; json: Record<string, unknown> | undefined; headers: Headers }

async function send(path: string, init: RequestInit & { duplex?: 'half' } = {}): Promise<Answer> {
  const res = await fetch(`${t.url}${path}`, { redirect: 'manual', ...init, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  const json = /^[{[]/.test(text) ? (JSON.parse(text) as Record<string, unknown>) : undefined; // a 5xx page would throw here: fine
  return { status: res.status, text, json, headers: res.headers };
}
const post = (path: string, body: NonNullable<RequestInit['body']>, headers: Record<string, string> = {}): Promise<Answer> =>
  send(path, { method: 'POST', headers: { 'content-type': FORM, ...headers }, body, ...(body instanceof ReadableStream && { duplex: 'half' as const }) });
const admin = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
  send(`/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json', ...headers },
    ...(body !== undefined && { body: typeof body === 'string' || body instanceof ReadableStream ? body : JSON.stringify(body) }),
    ...(body instanceof ReadableStream && { duplex: 'half' as const }),
  });
/** A body sent with Transfer-Encoding: chunked (no Content-Length for the size check to see). */
const chunked = (text: string): ReadableStream<Uint8Array> =>
  new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(text)), c.close()) });
const expectError = (r: Answer, status: number, error: string, description?: RegExp): void => {
  expect(r.status, r.text.slice(0, 300)).toBe(status);
  expect(r.json?.error).toBe(error);
  if (description) expect(r.json?.error_description).toMatch(description);
};
const stillServes = async (): Promise<void> => {
  expect((await send('/healthz')).status).toBe(200);
  expect((await tokenRequest(t.url, { grant_type: 'client_credentials', resource: MODELS }, { basic: bot })).status).toBe(200);
};
const TOO_LARGE = /^request body exceeds 16384 bytes$/;

describe('oversized requests', () => {
  it('refuses a 64 KiB form at /token before reading it: 413 invalid_request', async () => {
    const r = await post('/token', `grant_type=client_credentials&scope=${'a'.repeat(64 * 1024)}`, { authorization: basic(bot) });
    expectError(r, 413, 'invalid_request', TOO_LARGE);
    expect(r.headers.get('cache-control')).toBe('no-store');
  });
  it('refuses a 64 KiB form at /token/introspection: 413 invalid_request', async () => {
    expectError(await post('/token/introspection', `token=${'a'.repeat(64 * 1024)}`, { authorization: basic(rs) }), 413, 'invalid_request', TOO_LARGE);
  });
  it('caps a chunked form at /token/introspection while streaming: 413 invalid_request', async () => {
    expectError(await post('/token/introspection', chunked(`token=${'a'.repeat(30_000)}`), { authorization: basic(rs) }), 413, 'invalid_request', TOO_LARGE);
  });
  it('caps a chunked form past oidc-provider\'s own 56 KiB parser limit at /token: 400 invalid_request, not a 5xx', async () => {
    const r = await post('/token', chunked(`grant_type=client_credentials&scope=${'a'.repeat(70_000)}`), { authorization: basic(bot) });
    expectError(r, 400, 'invalid_request', /^failed to parse the request body$/);
  });
  it('refuses a JSON body past the limit at /admin/v1: 413 invalid_request', async () => {
    expectError(await admin('POST', '/scopes', { name: 'big.one', description: 'a'.repeat(20_000) }), 413, 'invalid_request', TOO_LARGE);
  });
  it('caps a chunked JSON body at /admin/v1 while streaming: 413 invalid_request, nothing stored', async () => {
    expectError(await admin('POST', '/scopes', chunked(JSON.stringify({ name: 'big.two', description: 'a'.repeat(20_000) }))), 413, 'invalid_request', TOO_LARGE);
    expect((await admin('GET', '/scopes')).text).not.toContain('big.two');
  });
  it('answers a 64 kB Cookie header with 431, and keeps serving', async () => {
    const r = await post('/token', 'grant_type=client_credentials', { authorization: basic(bot), cookie: `a=${'x'.repeat(64 * 1024)}` });
    expect(r.status).toBe(431);
    await stillServes();
  });
  it('answers a 64 kB Authorization header with 431, and keeps serving', async () => {
    expect((await post('/token/introspection', 'token=x', { authorization: `Basic ${'QUFB'.repeat(16 * 1024)}` })).status).toBe(431);
    await stillServes();
  });
  it('answers a 100 kB scope in an /auth query string with 431, and keeps serving', async () => {
    expect((await send(`/auth?client_id=${app.client_id}&response_type=code&scope=${'a'.repeat(100_000)}`)).status).toBe(431);
    await stillServes();
  });
  it('refuses 10 000 scope values at /token by size: 413 invalid_request', async () => {
    const scope = Array.from({ length: 10_000 }, (_, i) => `s${i}`).join(' ');
    expectError(await post('/token', new URLSearchParams({ grant_type: 'client_credentials', scope }), { authorization: basic(bot) }), 413, 'invalid_request', TOO_LARGE);
  });
  it('refuses 8 000 unknown scope values within the limit: 400 invalid_scope', async () => {
    const scope = Array.from({ length: 8000 }, () => 'a').join(' ');
    expectError(await post('/token', new URLSearchParams({ grant_type: 'client_credentials', scope }), { authorization: basic(bot) }), 400, 'invalid_scope');
  });
  it('refuses 600 repeated scope parameters within the limit: 400 invalid_request', async () => {
    const body = `grant_type=client_credentials&${Array.from({ length: 600 }, () => 'scope=ai.training.read').join('&')}`;
    expectError(await post('/token', body, { authorization: basic(bot) }), 400, 'invalid_request', /'scope' parameter must not be provided twice/);
  });
});

describe('malformed requests', () => {
  it('refuses malformed JSON at /admin/v1: 400 invalid_request naming the body', async () => {
    expectError(await admin('POST', '/scopes', '{"name": "x",'), 400, 'invalid_request', /^body: malformed JSON/);
  });
  it('refuses a field given twice in one JSON object at /admin/v1 (two meanings at once): 400, nothing stored', async () => {
    // JSON.parse would keep the last value; a reviewer or proxy reading the body may take the first.
    expectError(await admin('POST', '/roles', '{"name":"dup-role","scopes":["ai.training.read"],"scopes":["ai.deploy.manage"]}'), 400, 'invalid_request', /^body: field "scopes" appears twice/);
    expectError(await admin('PATCH', `/clients/${bot.client_id}`, '{"roles":["auditor"],"\\u0072oles":["admin"]}'), 400, 'invalid_request', /^body: field "roles" appears twice/);
    const roles = (await admin('GET', '/roles')).json?.roles as { name: string }[];
    expect(roles.map((r) => r.name)).not.toContain('dup-role');
    const clients = (await admin('GET', '/clients')).json?.clients as { client_id: string; roles: unknown }[];
    const held = JSON.stringify(clients.find((c) => c.client_id === bot.client_id)?.roles);
    expect(held).toContain('data-scientist');
    expect(held).not.toMatch(/auditor|admin/);
  });
  it('refuses JSON that is not UTF-8 at /admin/v1: 400 invalid_request', async () => {
    const raw = await send('/admin/v1/scopes', { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]) });
    expectError(raw, 400, 'invalid_request', /^body: not valid UTF-8$/);
  });
  it('refuses JSON sent as text/plain at /admin/v1: 415 unsupported_media_type', async () => {
    expectError(await admin('POST', '/scopes', '{"name":"a.b","description":"x"}', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
  });
  it('refuses a JSON body at /token: 400 invalid_request (forms only)', async () => {
    const r = await post('/token', '{"grant_type":"client_credentials"}', { 'content-type': 'application/json', authorization: basic(bot) });
    expectError(r, 400, 'invalid_request', /only application\/x-www-form-urlencoded/);
  });
  it('refuses a JSON body at /token/introspection: 415 unsupported_media_type', async () => {
    expectError(await post('/token/introspection', '{"token":"x"}', { 'content-type': 'application/json', authorization: basic(rs) }), 415, 'unsupported_media_type');
  });
  it('answers /token errors in JSON even to a client that asks for HTML (RFC 6749 §5.2)', async () => {
    const r = await post('/token', 'grant_type=nope', { authorization: basic(bot), accept: 'text/html' });
    expectError(r, 400, 'unsupported_grant_type');
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  });
  it('refuses JSON nested 10 000 deep at /admin/v1 by size: 413', async () => {
    expectError(await admin('POST', '/roles', `{"name":"deep","scopes":${'['.repeat(10_000)}${']'.repeat(10_000)}}`), 413, 'invalid_request', TOO_LARGE);
  });
  it('refuses JSON nested 8 000 deep within the limit: 400 naming the field, no stack overflow', async () => {
    expectError(await admin('POST', '/roles', `{"name":"deep","scopes":${'['.repeat(8000)}${']'.repeat(8000)}}`), 400, 'invalid_request', /^scopes\.0: /);
    expectError(await admin('POST', '/scopes', `${'{"a":'.repeat(2700)}1${'}'.repeat(2700)}`), 400, 'invalid_request', /a: unknown field/);
  });
  it('refuses a __proto__ key at /admin/v1 (prototype pollution): 400, Object.prototype untouched', async () => {
    expectError(await admin('POST', '/scopes', '{"name":"proto.a","description":"d","__proto__":{"polluted":true}}'), 400, 'invalid_request', /^__proto__: unknown field$/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await admin('GET', '/scopes')).text).not.toContain('proto.a');
  });
  it('refuses constructor.prototype keys at /admin/v1: 400, Object.prototype untouched', async () => {
    const r = await admin('POST', '/scopes', '{"name":"proto.b","description":"d","constructor":{"prototype":{"polluted":true}}}');
    expectError(r, 400, 'invalid_request', /^constructor: unknown field$/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
  it('refuses a __proto__[…] query parameter at /admin/v1: 400 unknown parameter', async () => {
    expectError(await admin('GET', '/scopes?__proto__[polluted]=1'), 400, 'invalid_request', /^__proto__\[polluted\]: unknown parameter$/);
  });
  it('ignores __proto__ and constructor form fields at /token: a normal token, Object.prototype untouched', async () => {
    const r = await post('/token', 'grant_type=client_credentials&__proto__[polluted]=1&constructor[prototype][polluted]=1&__proto__=x', { authorization: basic(bot) });
    expect(r.status).toBe(200);
    expect(typeof r.json?.access_token).toBe('string');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await post('/token/introspection', '__proto__=x&constructor=y&token=abc', { authorization: basic(rs) })).json).toEqual({ active: false });
  });
  it('refuses malformed percent-encoding in a /token form: 400 with the OAuth code', async () => {
    expectError(await post('/token', 'grant_type=client_credentials&scope=%E0%A4%A', { authorization: basic(bot) }), 400, 'invalid_scope');
    expectError(await post('/token', 'grant_type=client%ZZcredentials', { authorization: basic(bot) }), 400, 'unsupported_grant_type');
  });
  it('refuses a malformed percent-encoded client_id at /token/introspection: 401 invalid_client', async () => {
    expectError(await post('/token/introspection', 'token=abc&client_id=%ZZ&client_secret=x'), 401, 'invalid_client');
  });
  const badBasic: [string, string][] = [
    ['not base64', 'Basic !!!'],
    ['without a colon', `Basic ${Buffer.from('nocolon').toString('base64')}`],
    ['with an empty client_id', `Basic ${Buffer.from(':secret').toString('base64')}`],
    ['with bad percent-encoding', `Basic ${Buffer.from('%ZZ:x').toString('base64')}`],
  ];
  it.each(badBasic)('refuses a Basic header %s at /token: 401 invalid_client with a challenge (RFC 6749 §5.2)', async (_, header) => {
    const r = await post('/token', 'grant_type=client_credentials', { authorization: header });
    expectError(r, 401, 'invalid_client', /^client authentication is required/);
    expect(r.headers.get('www-authenticate')).toBe('Basic realm="govauth", error="invalid_client"');
  });
  it.each(badBasic)('refuses a Basic header %s at /token/introspection and /token/revocation: 401 invalid_client with a challenge', async (_, header) => {
    for (const path of ['/token/introspection', '/token/revocation']) {
      const r = await post(path, 'token=abc', { authorization: header });
      expectError(r, 401, 'invalid_client', /^malformed Authorization header/);
      expect(r.headers.get('www-authenticate')).toBe('Basic realm="govauth", error="invalid_client"');
    }
  });
});

describe('duplicate parameters (parameter pollution)', () => {
  it.each(['grant_type', 'scope', 'client_id', 'client_secret'])('refuses a repeated %s at /token: 400 invalid_request', async (name) => {
    const form = new URLSearchParams({ grant_type: 'client_credentials', scope: 'ai.training.read', client_id: bot.client_id, client_secret: bot.client_secret });
    form.append(name, form.get(name) ?? '');
    expectError(await post('/token', form), 400, 'invalid_request', new RegExp(`'${name}' parameter must not be provided twice`));
  });
  it.each(['/token/introspection', '/token/revocation'])('refuses a repeated token or token_type_hint at %s: 400 invalid_request', async (path) => {
    const creds = path.endsWith('introspection') ? rs : bot;
    expectError(await post(path, 'token=a&token=b', { authorization: basic(creds) }), 400, 'invalid_request', /^field token was sent more than once$/);
    expectError(await post(path, 'token=a&token_type_hint=x&token_type_hint=x', { authorization: basic(creds) }), 400, 'invalid_request', /^field token_type_hint/);
  });
  const authorize = (extra: string): Promise<Answer> =>
    send(`/auth?${new URLSearchParams({ client_id: app.client_id, response_type: 'code', redirect_uri: 'http://127.0.0.1:9/cb', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 's' }).toString()}&${extra}`);
  it('refuses a repeated client_id at /auth: a 400 error page saying invalid_request', async () => {
    const r = await authorize(`client_id=${app.client_id}`);
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.text).toContain('Error code: <code>invalid_request</code>');
  });
  it.each(['scope=openid', 'redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb', 'code_challenge=x'])('refuses a repeated parameter at /auth (%s): invalid_request sent back to the app', async (extra) => {
    const r = await authorize(extra);
    expect(r.status).toBe(303);
    const location = new URL(r.headers.get('location') ?? '');
    expect(location.origin + location.pathname).toBe('http://127.0.0.1:9/cb');
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/must not be provided twice/);
  });
});

// Every free-text or identifier field of the admin API: how to send a value in it, the field
// its refusal names, why it refuses control characters, and (for text kept as given) where the
// stored value is read back.
interface Field { label: string; key: string; because: RegExp; send: (v: string, name?: string) => Promise<Answer>; stored?: () => Promise<unknown[]> }
let n = 0;
const listed = async (path: string, key: string, pick: string): Promise<unknown[]> =>
  ((await admin('GET', path)).json?.[key] as Record<string, unknown>[]).map((x) => x[pick]);
const TEXT = /must not contain control characters/;
const FIELDS: Field[] = [
  { label: 'scope name', key: 'name', because: /invalid scope name/, send: (v) => admin('POST', '/scopes', { name: v, description: 'x' }) },
  { label: 'scope description', key: 'description', because: TEXT, send: (v) => admin('POST', '/scopes', { name: `f.scope${++n}`, description: v }), stored: () => listed('/scopes', 'scopes', 'description') },
  { label: 'scope description (update)', key: 'description', because: TEXT, send: (v) => admin('PATCH', '/scopes/ai.training.read', { description: v }), stored: () => listed('/scopes', 'scopes', 'description') },
  { label: 'resource name', key: 'name', because: TEXT, send: (v) => admin('POST', '/resources', { audience: `https://r${++n}.example`, name: v, scopes: [] }), stored: () => listed('/resources', 'resources', 'name') },
  { label: 'role name', key: 'name', because: /invalid role name/, send: (v) => admin('POST', '/roles', { name: v, scopes: [] }) },
  { label: 'role description', key: 'description', because: TEXT, send: (v) => admin('POST', '/roles', { name: `f-role${++n}`, description: v, scopes: [] }), stored: () => listed('/roles', 'roles', 'description') },
  { label: 'client name', key: 'name', because: TEXT, send: (v) => admin('POST', '/clients', { name: v, grants: ['client_credentials'] }), stored: () => listed('/clients', 'clients', 'name') },
  { label: 'client name (update)', key: 'name', because: TEXT, send: (v) => admin('PATCH', `/clients/${bot.client_id}`, { name: v }), stored: () => listed('/clients', 'clients', 'name') },
  { label: 'user email', key: 'email', because: /is not an email address/, send: (v) => admin('POST', '/users', { email: v, password: 'correct horse battery staple' }) },
  { label: 'revocation reason', key: 'reason', because: TEXT, send: (v) => admin('POST', '/revocations', { role: 'auditor', reason: v }), stored: () => listed('/revocations', 'revocations', 'reason') },
];
const STORED = FIELDS.filter((f) => f.stored).map((f) => [f.label, f] as const);
const CONTROL: [string, string][] = [['NUL', '\u0000'], ['BEL', '\u0007'], ['ESC', '\u001b[31m'], ['LF', '\n'], ['DEL', '\u007f'], ['C1 NEL', '\u0085']];

describe('control characters and Unicode in every admin API input', () => {
  it.each(FIELDS.flatMap((f) => CONTROL.map(([name, c]) => [f.label, name, f, c] as const)))('refuses a %s containing %s: 400 invalid_request naming the field', async (_, __, field, c) => {
    const r = await field.send(`before${c}after@x.example`);
    expectError(r, 400, 'invalid_request', new RegExp(`^${field.key}: .*${field.because.source}`));
  });
  it.each(FIELDS.map((f) => [f.label, f] as const))('refuses a %s holding a lone surrogate (a JSON escape): 400 naming the field, not a 500', async (_, field) => {
    expectError(await field.send('Mod\ud83ele@x.example'), 400, 'invalid_request', new RegExp(`^${field.key}: must be well-formed Unicode`));
  });
  it.each(STORED)('stores valid Unicode in a %s verbatim', async (_, field) => {
    const value = `Modèle 🧪 数据 \u202e مرحبا Ǆ\u0301 ${++n}`;
    expect((await field.send(value)).status).toBeLessThan(300);
    expect(await field.stored?.()).toContain(value);
  });
  it('stores a Unicode email verbatim (already NFC and lowercase) and finds it by it', async () => {
    const email = 'modèle.数据@exemple.fr';
    expect((await admin('POST', '/users', { email, password: 'correct horse battery staple' })).status).toBe(201);
    expect((await admin('GET', `/users/${encodeURIComponent(email)}`)).json?.user).toMatchObject({ email });
  });
  it.each([FIELDS[0], FIELDS[4]].map((f) => [f!.label, f!] as const))('refuses Unicode in a %s (an identifier): 400 naming the field', async (_, field) => {
    expectError(await field.send('modèle-数据'), 400, 'invalid_request', new RegExp(`^${field.key}: ${field.because.source}`));
  });
});

const SQL = [`'; DROP TABLE "Client"; --`, `" OR 1=1 --`, String.raw`\x00`, `Robert'); DELETE FROM "Scope" WHERE '1'='1`];

describe('SQL-looking input through the admin API', () => {
  it.each(STORED.flatMap(([label, f]) => SQL.map((s) => [label, s, f] as const)))('stores SQL-looking text in a %s verbatim: %s', async (_, sql, field) => {
    const value = `${sql} ${++n}`;
    expect((await field.send(value)).status).toBeLessThan(300);
    expect(await field.stored?.()).toContain(value);
  });
  it.each([`';drop/**/table/**/"user";--@x.example`, `"or"1=1--@x.example`, String.raw`\x00'--@x.example`])('stores an SQL-looking (lowercase) email verbatim and finds it by it: %s', async (email) => {
    expect((await admin('POST', '/users', { email, password: 'correct horse battery staple' })).status).toBe(201);
    expect((await admin('GET', `/users/${encodeURIComponent(email)}`)).json?.user).toMatchObject({ email });
  });
  it('matches SQL-looking audit filters and path parameters literally: nothing found, nothing broken', async () => {
    for (const sql of SQL) {
      expect((await admin('GET', `/audit?actor=${encodeURIComponent(sql)}`)).json).toEqual({ events: [] });
      expect((await admin('GET', `/audit?subject=${encodeURIComponent(sql)}`)).json).toEqual({ events: [] });
      expectError(await admin('GET', `/clients/${encodeURIComponent(sql)}`), 404, 'not_found');
      expectError(await admin('PATCH', `/scopes/${encodeURIComponent(sql)}`, { description: 'x' }), 404, 'not_found');
    }
  });
  it('leaves the database intact: every list still answers with everything created, and the audit chain verifies', async () => {
    // One with Unicode and one per SQL-looking text were created of each: nothing refused was stored.
    expect(await listed('/scopes', 'scopes', 'name')).toHaveLength(before.scopes + 1 + SQL.length);
    expect(await listed('/clients', 'clients', 'client_id')).toHaveLength(4 + 1 + SQL.length); // 4 from the CLI
    expect(await listed('/users', 'users', 'email')).toContain('modèle.数据@exemple.fr');
    expect(await listed('/roles', 'roles', 'name')).toHaveLength(before.roles + 1 + SQL.length);
    expect(await listed('/resources', 'resources', 'audience')).toHaveLength(before.resources + 1 + SQL.length);
    await t.server.audit.flush();
    expect((await admin('GET', '/audit/verify')).json).toMatchObject({ ok: true, first: 1 });
    await stillServes();
  });
});

// The admin API's body limits on a real server and database (SQLite, or PostgreSQL with
// DATABASE_URL): the two routes that take a Cedar policy set have a limit of their own, derived
// from POLICY_LIMITS, so a realistic set (and one at the limits, however its JSON is written)
// is stored; just past it, a declared or chunked body is refused 413 before or while reading;
// every other route keeps the 16 KiB default, which the larger limit does not leak to.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminOperation } from '../../src/admin/perform.ts';
import { bodyLimitOf } from '../../src/admin/route.ts';
import { POLICY_LIMITS } from '../../src/governance/abac/cedar-policy-set.ts';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let token: string;
const LIMIT = bodyLimitOf(adminOperation('applyPolicies'));

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  token = await tokenFor(t.url, (await createAdminBots(t)).adminBot);
}, 60_000);
afterAll(() => t?.stop());

interface Answer { status: number; json: { error?: string; error_description?: string } & Record<string, unknown>; headers: Headers }

/** POSTs `body` as is (a string, or a stream sent chunked without Content-Length). */
async function post(path: string, body: string | ReadableStream<Uint8Array>, auth = true): Promise<Answer> {
  const res = await fetch(`${t.url}/admin/v1${path}`, {
    method: 'POST',
    headers: { ...(auth && { authorization: `Bearer ${token}` }), 'content-type': 'application/json' },
    body,
    ...(body instanceof ReadableStream && { duplex: 'half' as const }),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, json: (await res.json()) as Answer['json'], headers: res.headers };
}

/** A body of `total` bytes sent chunked (64 KiB at a time, as the consumer pulls): no Content-Length. */
function chunkedBody(head: string, total: number): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode(' '.repeat(64 * 1024));
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent === 0) {
        c.enqueue(new TextEncoder().encode(head));
        sent += head.length;
      } else if (sent < total) {
        c.enqueue(chunk);
        sent += chunk.length;
      } else {
        c.close();
      }
    },
  });
}

/** Declares a Content-Length of `declared` bytes, sends only the first few, and reads the answer: it must come without the rest. */
function declareOnly(path: string, declared: number, method = 'POST'): Promise<{ status: number; json: Answer['json'] }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${t.url}/admin/v1${path}`);
    const req = request(url, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(declared) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Answer['json'] });
      });
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer before the body was sent: the limit was not checked before reading')));
    req.write('{"files":{');
  });
}

/** A realistic policy: an id, a reason, a comment, a condition on the scope the catalogue has. */
const policy = (file: number, n: number): string =>
  `// ${file}-${n}: reviewed by the platform team; exceptions go through the access-request flow (GOV-${1000 + n}).\n` +
  `@id("f${file}-p${n}")\n@reason("Clients of team ${n % 17} do not deploy models on their own")\n` +
  `forbid(principal is Client, action == Action::"ai.deploy.manage", resource)\nwhen { context has zones && context.zones.contains("quarantine-${n}") };\n\n`;

describe('a policy set through the admin API', () => {
  it('stores and activates a realistic set of ~300 KiB in several files (far past the 16 KiB default)', async () => {
    // A baseline that permits what roles grant (the admin token's own scope among them), and forbids.
    const files: Record<string, string> = { 'baseline.cedar': '@id("baseline")\npermit(principal, action, resource);\n' };
    for (let f = 1; f <= 6; f++) {
      let text = '';
      for (let n = 1; Buffer.byteLength(text) < 50 * 1024; n++) text += policy(f, n);
      files[`team-${f}.cedar`] = text;
    }
    const body = JSON.stringify({ files });
    expect(body.length).toBeGreaterThan(300 * 1024);
    expect(body.length).toBeLessThan(320 * 1024);
    const stored = await callAdmin<{ version: number; activated: boolean; report: { valid: boolean; policies: unknown[] } }>(t.url, token, 'POST', '/policies', { files });
    expect(stored.status, JSON.stringify(stored.body).slice(0, 300)).toBe(201);
    expect(stored.body).toMatchObject({ activated: true, report: { valid: true } });
    expect(stored.body.report.policies.length).toBeGreaterThan(900);
    const listed = await callAdmin<{ versions: { version: number; active: boolean }[] }>(t.url, token, 'GET', '/policies');
    expect(listed.body.versions.find((v) => v.active)?.version).toBe(stored.body.version);
    const shown = await callAdmin<{ sources: Record<string, string> }>(t.url, token, 'GET', `/policies/${stored.body.version}`);
    expect(shown.body.sources).toEqual(files);
    // Validation takes the same set at the same limit.
    expect((await callAdmin<{ valid: boolean }>(t.url, token, 'POST', '/policies/validate', { files })).body.valid).toBe(true);
  });

  it('takes a set at POLICY_LIMITS with every character written as \\uXXXX, the most JSON can grow it', async () => {
    // 200 files with 100-character names holding 1 MiB of text together; every character of the
    // names and the text escaped (JSON.stringify does so for control characters, Python's
    // json.dumps for every non-ASCII one): six bytes per byte.
    const escape = (s: string): string => `"${[...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`;
    const share = Math.floor(POLICY_LIMITS.setBytes / POLICY_LIMITS.files);
    const entries: string[] = [];
    let total = 0;
    for (let i = 0; i < POLICY_LIMITS.files; i++) {
      const name = `${String(i).padStart(3, '0')}-${'n'.repeat(POLICY_LIMITS.fileNameLength - 10)}.cedar`;
      const head = 'permit(principal, action, resource);\n// ';
      const size = i === POLICY_LIMITS.files - 1 ? POLICY_LIMITS.setBytes - total : share;
      const text = head + '\u0001'.repeat(size - head.length); // control characters in a comment: Cedar takes them
      total += text.length;
      entries.push(`${escape(name)}:${escape(text)}`);
    }
    expect(total).toBe(POLICY_LIMITS.setBytes);
    const body = `{"files":{${entries.join(',')}},"activate":false}`;
    expect(body.length).toBeGreaterThan(6 * POLICY_LIMITS.setBytes);
    expect(body.length).toBeLessThanOrEqual(LIMIT);
    const r = await post('/policies', body);
    expect(r.status, JSON.stringify(r.json).slice(0, 300)).toBe(201);
    expect(r.json).toMatchObject({ activated: false, report: { valid: true } });
    // One byte more than the text allows is a problem the report names, not a 413.
    const part = 'permit(principal, action, resource);\n//' + 'x'.repeat(POLICY_LIMITS.setBytes / 4 - 39);
    const over = JSON.stringify({ files: { 'a.cedar': part, 'b.cedar': part, 'c.cedar': part, 'd.cedar': part, 'e.cedar': '\n' } });
    const report = await post('/policies/validate', over);
    expect(report.status).toBe(200);
    expect(report.json).toMatchObject({ valid: false, problems: [{ message: expect.stringMatching(/^the files together are larger than 1048576 bytes/) as unknown }] });
  });

  it('refuses a body just over the route’s limit: 413 naming the limit, before reading (declared) and while reading (chunked)', async () => {
    expect(LIMIT).toBe(bodyLimitOf(adminOperation('validatePolicies')));
    const tooLarge = new RegExp(`^request body exceeds ${LIMIT} bytes$`);
    for (const path of ['/policies', '/policies/validate']) {
      const declared = await declareOnly(path, LIMIT + 1);
      expect(declared.status).toBe(413);
      expect(declared.json).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(tooLarge) as unknown });
      const streamed = await post(path, chunkedBody('{"files":{"a.cedar":"', LIMIT + 64 * 1024));
      expect(streamed.status).toBe(413);
      expect(streamed.json).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(tooLarge) as unknown });
    }
    // A whole body one byte over, sent in full: the same answer.
    const full = await post('/policies', `{"files":{}}${' '.repeat(LIMIT - 11)}`);
    expect(full).toMatchObject({ status: 413, json: { error: 'invalid_request', error_description: expect.stringMatching(tooLarge) as unknown } });
    expect((await callAdmin<{ versions: unknown[] }>(t.url, token, 'GET', '/policies')).body.versions).toHaveLength(2);
  });

  it('leaves every other route, and every path that only looks like the policy routes, at 16 KiB', async () => {
    const tooLarge = /^request body exceeds 16384 bytes$/;
    const big = JSON.stringify({ name: 'big.scope', description: 'x'.repeat(17 * 1024) });
    expect(await post('/scopes', big)).toMatchObject({ status: 413, json: { error_description: expect.stringMatching(tooLarge) as unknown } });
    expect(await post('/scopes', chunkedBody('{"name":"big.scope","description":"', 17 * 1024))).toMatchObject({ status: 413, json: { error_description: expect.stringMatching(tooLarge) as unknown } });
    expect((await declareOnly('/scopes', 17 * 1024)).status).toBe(413);
    for (const path of ['/policies/', '/Policies', '/policies/rollback', '/policies/explain', '/policies/%2e%2e/scopes', '/policies/validate/x']) {
      expect((await declareOnly(path, 17 * 1024)).status, path).toBe(413);
    }
    // The policy route's method only: a GET of the same path keeps the default.
    expect((await declareOnly('/policies', 17 * 1024, 'PUT')).status).toBe(413);
    expect((await declareOnly('/policies', 17 * 1024, 'GET')).status).toBe(413);
  });

  it('reads nothing for a caller without a token: 401 before the body, however large it is declared', async () => {
    const r = await fetch(`${t.url}/admin/v1/policies`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ files: { 'a.cedar': 'x'.repeat(400 * 1024) } }) });
    expect(r.status).toBe(401);
    expect(await post('/policies', chunkedBody('{"files":{"a.cedar":"', LIMIT + 64 * 1024), false)).toMatchObject({ status: 401 });
  });

  it('answers JSON nested millions deep within the limit with 400, not a crash', async () => {
    const depth = 2_000_000;
    const r = await post('/policies/validate', `{"files":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('invalid_request');
    expect((await callAdmin(t.url, token, 'GET', '/policies')).status).toBe(200);
  });
});

describe('the OpenAPI document', () => {
  it('states each body limit on its request body', async () => {
    const doc = (await (await fetch(`${t.url}/admin/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { requestBody?: { description?: string } }>> };
    expect(doc.paths['/policies']?.post?.requestBody?.description).toBe(`At most ${LIMIT} bytes`);
    expect(doc.paths['/policies/validate']?.post?.requestBody?.description).toBe(`At most ${LIMIT} bytes`);
    expect(doc.paths['/scopes']?.post?.requestBody?.description).toBe('At most 16384 bytes');
  });
});

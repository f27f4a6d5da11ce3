// Hostile input at POST /resource-usage: malformed and oversized bodies, wrong types, control
// characters, impossible times, wrong or missing credentials, clients that are not resource
// servers, floods. Every refusal is a clear 4xx with a stable error code, never a 5xx, and
// nothing refused reaches the audit trail. Also the status list routes under junk paths.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, type ClientCreds } from '../helpers/oauth.ts';
import { createResourceServer } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let rs: ClientCreds;
let bot: ClientCreds;

beforeAll(async () => {
  t = await startTestServer({ env: { GOVAUTH_RATE_LIMIT_RESOURCE_USAGE: '1000000' } });
  await t.cliJson('init', '--demo');
  rs = await createResourceServer(t);
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'end-user');
  await t.server.policy.sync();
});
afterAll(() => t?.stop());

interface Answer {
  status: number;
  json: Record<string, unknown> | undefined;
  headers: Headers;
}
async function send(body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}, method = 'POST'): Promise<Answer> {
  const init: RequestInit & { duplex?: 'half' } = {
    method,
    headers: { 'content-type': 'application/json', authorization: basic(rs), ...headers },
    ...(method !== 'GET' && { body }),
    ...(body instanceof ReadableStream && { duplex: 'half' as const }),
    signal: AbortSignal.timeout(5000),
  };
  const res = await fetch(`${t.url}/resource-usage`, init);
  const text = await res.text();
  return { status: res.status, json: /^[{[]/.test(text) ? (JSON.parse(text) as Record<string, unknown>) : undefined, headers: res.headers };
}
const event = (over: Record<string, unknown> = {}) => ({ jti: null, route: '/v1/predict', decision: 'allowed', status: 200, at: Date.now(), ...over });
const events = (...list: unknown[]) => JSON.stringify({ events: list });
function expectError(r: Answer, status: number, error: string, description?: RegExp): void {
  expect(r.status, JSON.stringify(r.json)).toBe(status);
  expect(r.json?.error).toBe(error);
  if (description) expect(String(r.json?.error_description)).toMatch(description);
}
const recorded = () => t.server.db.prisma.auditEvent.count({ where: { action: 'resource.request' } });

describe('malformed bodies', () => {
  it('refuses bad JSON, a non-object, another media type, duplicate fields and a GET', async () => {
    const before = await recorded();
    expectError(await send('{"events": ['), 400, 'invalid_request', /malformed JSON/);
    expectError(await send('[]'), 400, 'invalid_request', /must be a JSON object/);
    expectError(await send('null'), 400, 'invalid_request');
    expectError(await send(events(event()), { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    expectError(await send('{"events": [], "events": []}'), 400, 'invalid_request', /appears twice/);
    const get = await send('', {}, 'GET');
    expectError(get, 400, 'invalid_request', /only accepts POST/);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await recorded()).toBe(before);
  });

  it('refuses wrong types and missing fields, naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ events: 'all' }, /^body\.events: /],
      [{}, /^body\.events: /],
      [{ events: [event({ status: '200' })] }, /^body\.events\[0\]\.status: /],
      [{ events: [event({ status: 200.5 })] }, /^body\.events\[0\]\.status: /],
      [{ events: [event({ status: 99 })] }, /^body\.events\[0\]\.status: /],
      [{ events: [event({ decision: 'maybe' })] }, /^body\.events\[0\]\.decision: /],
      [{ events: [event(), event({ at: '2026-01-01' })] }, /^body\.events\[1\]\.at: /],
      [{ events: [event({ jti: 5 })] }, /^body\.events\[0\]\.jti: /],
      [{ events: [event({ jti: '' })] }, /^body\.events\[0\]\.jti: /],
      [{ events: [event({ route: undefined })] }, /^body\.events\[0\]\.route: /],
      [{ events: [event({ scope: 'ai.prediction.run' })] }, /^body\.events\[0\]\.scope: /],
      [{ events: [event({ scope: ['two words'] })] }, /^body\.events\[0\]\.scope\[0\]: /],
      [{ events: [event({ reason: 42 })] }, /^body\.events\[0\]\.reason: /],
      [{ events: [null] }, /^body\.events\[0\]: /],
    ];
    for (const [body, message] of cases) expectError(await send(JSON.stringify(body)), 400, 'invalid_request', message);
  });

  it('refuses too many events, huge strings and oversized bodies', async () => {
    expectError(await send(events(...Array.from({ length: 501 }, () => event()))), 400, 'invalid_request', /^body\.events: /);
    expectError(await send(events(event({ route: `/${'a'.repeat(200)}` }))), 400, 'invalid_request', /^body\.events\[0\]\.route: /);
    expectError(await send(events(event({ jti: 'j'.repeat(257) }))), 400, 'invalid_request', /^body\.events\[0\]\.jti: /);
    expectError(await send(events(event({ reason: 'r'.repeat(201) }))), 400, 'invalid_request', /^body\.events\[0\]\.reason: /);
    expectError(await send(events(event({ scope: Array.from({ length: 51 }, (_, i) => `s${i}`) }))), 400, 'invalid_request', /^body\.events\[0\]\.scope: /);
    const huge = events(event({ route: 'x'.repeat(300_000) }));
    expectError(await send(huge), 413, 'invalid_request', /exceeds 262144 bytes/);
    const stream = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(huge)), c.close()) });
    expectError(await send(stream), 413, 'invalid_request', /exceeds 262144 bytes/);
    // 500 ordinary events fit.
    expect((await send(events(...Array.from({ length: 500 }, (_, i) => event({ route: `/v1/models/${i}/predict`, scope: ['ai.prediction.run'] }))))).status).toBe(202);
  });

  it('refuses control and format characters, lone surrogates and impossible times', async () => {
    for (const route of ['/a\nb', '/a\u0000', '/a\u001b[31m', '/a\u202eb', '/a\u200bb']) {
      expectError(await send(events(event({ route }))), 400, 'invalid_request', /^body\.events\[0\]\.route: must not contain control or format characters/);
    }
    expectError(await send(events(event({ reason: 'x\r\ny' }))), 400, 'invalid_request', /^body\.events\[0\]\.reason: /);
    expectError(await send(events(event({ jti: 'a b' }))), 400, 'invalid_request', /^body\.events\[0\]\.jti: /);
    expectError(await send('{"events":[{"jti":null,"route":"/\\ud800","decision":"allowed","status":200,"at":1}]}'), 400, 'invalid_request', /lone surrogate/);
    expectError(await send(events(event({ at: Date.now() + 120_000 }))), 400, 'invalid_request', /^body\.events\[0\]\.at: /);
    expectError(await send(events(event(), event({ at: Date.now() - 2 * 86_400_000 }))), 400, 'invalid_request', /^body\.events\[1\]\.at: /);
    expect((await send(events(event({ route: '/modèles/é🚀' })))).status).toBe(202); // Unicode itself is fine
  });
});

describe('who may report', () => {
  it('refuses no, wrong, unknown and doubled credentials, and clients that are not resource servers', async () => {
    const before = await recorded();
    const body = events(event());
    for (const authorization of ['', 'Bearer abc', basic({ client_id: rs.client_id, client_secret: 'wrong' }), basic({ client_id: 'cl_nobody', client_secret: 'x' }), basic(bot)]) {
      const r = await send(body, { authorization });
      expectError(r, 401, 'invalid_client');
      expect(r.headers.get('www-authenticate')).toMatch(/^Basic /);
    }
    expectError(await send(JSON.stringify({ client_id: rs.client_id, client_secret: rs.client_secret, events: [] })), 400, 'invalid_request', /one mechanism/);
    expectError(await send(JSON.stringify({ client_id: 7, events: [] }), { authorization: '' }), 400, 'invalid_request', /strings/);
    expect(await recorded()).toBe(before);
  });

  it('never answers 5xx to arbitrary JSON', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.option(fc.array(fc.anything(), { maxLength: 3 }), { nil: undefined }), async (value, list) => {
        const body = list === undefined ? JSON.stringify(value) : JSON.stringify({ events: list.map((x) => (typeof x === 'object' && x !== null ? x : event({ route: String(x) }))) });
        const r = await send(body ?? 'null');
        expect([202, 400, 413]).toContain(r.status);
      }),
      { numRuns: 60, seed: 20 },
    );
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });
});

describe('a flood of reports', () => {
  it('is limited per resource server: 429 slow_down with Retry-After', async () => {
    const limited = await startTestServer({ env: { GOVAUTH_RATE_LIMIT_RESOURCE_USAGE: '3' } });
    try {
      await limited.cliJson('init', '--demo');
      const server = await createResourceServer(limited);
      await limited.server.policy.sync();
      const post = () => fetch(`${limited.url}/resource-usage`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic(server) }, body: events(event()) });
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await post()).status);
      expect(statuses).toEqual([202, 202, 202, 429, 429]);
      const refused = await post();
      expect(await refused.json()).toMatchObject({ error: 'slow_down' });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await limited.stop();
    }
  });
});

describe('status list paths', () => {
  it('answer junk with 4xx', async () => {
    for (const path of ['/statuslists/%00', '/statuslists/1%2F2', '/statuslists/1e3', '/statuslists/ 1', '/statuslists/0x1']) {
      const res = await fetch(`${t.url}${path}`);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
    }
    const post = await fetch(`${t.url}/statuslists`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(400);
  });
});

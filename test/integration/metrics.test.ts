// Prometheus metrics of one server, scraped over real HTTP after real token, refusal,
// introspection and rate-limited requests: the counters and histograms move with the right
// labels, and /metrics on the main port answers only to GOVAUTH_METRICS_TOKEN.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { API, createResourceServer } from '../helpers/people.ts';
import { scrape, samples, total, type Sample } from '../helpers/metrics-text.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const TOKEN = randomBytes(32).toString('hex');
let t: TestServer;
let bot: ClientCreds;
let rs: ClientCreds;
let m: Sample[];

const introspect = async (token: string): Promise<Record<string, unknown>> => {
  const res = await fetch(`${t.url}/token/introspection`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs) },
    body: new URLSearchParams({ token }),
  });
  return (await res.json()) as Record<string, unknown>;
};

beforeAll(async () => {
  // A budget of 4 token requests a minute for the client, so the fifth is rate limited.
  t = await startTestServer({ env: { GOVAUTH_METRICS_TOKEN: TOKEN, GOVAUTH_RATE_LIMIT_TOKEN: '4' } });
  await t.cliJson('init', '--demo');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  rs = await createResourceServer(t);
  await t.server.policy.sync();

  const cc = { grant_type: 'client_credentials', resource: API };
  const issued = [];
  for (let i = 0; i < 3; i++) issued.push(await tokenRequest(t.url, cc, { basic: bot }));
  expect(issued.map((r) => r.status)).toEqual([200, 200, 200]);
  expect((await tokenRequest(t.url, { ...cc, scope: 'no.such.scope' }, { basic: bot })).body.error).toBe('invalid_scope');
  expect((await tokenRequest(t.url, cc, { basic: bot })).status).toBe(429); // the fifth this minute
  expect((await tokenRequest(t.url, cc, { basic: { ...bot, client_secret: 'wrong' } })).body.error).toBe('invalid_client');
  expect((await tokenRequest(t.url, cc, { basic: { client_id: 'cli_nobody', client_secret: 'x' } })).body.error).toBe('invalid_client');
  expect((await introspect(String(issued[0]?.body.access_token))).active).toBe(true);
  expect((await introspect('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.x')).active).toBe(false);
  // Introspection records are written without the answer waiting for them (audit-writer.ts):
  // wait for their commit, or the batch-size figures below race the scrape.
  await t.server.audit.flush();
  m = await scrape(`${t.url}/metrics`, TOKEN);
});
afterAll(() => t?.stop());

describe('metrics', () => {
  it('counts issued tokens and refusals by grant type, client and error', () => {
    expect(samples(m, 'govauth_tokens_issued_total')).toEqual([{ name: 'govauth_tokens_issued_total', labels: { grant_type: 'client_credentials', client_id: bot.client_id }, value: 3 }]);
    const refused = (client_id: string, error: string) => total(m, 'govauth_token_refusals_total', { grant_type: 'client_credentials', client_id, error });
    expect(refused(bot.client_id, 'invalid_scope')).toBe(1);
    expect(refused(bot.client_id, 'slow_down')).toBe(1);
    // A registered client with a wrong secret is named (a rotated secret shows up here); a
    // client_id nobody registered is not, or anyone could add series at will.
    expect(refused(bot.client_id, 'invalid_client')).toBe(1);
    expect(refused('unknown', 'invalid_client')).toBe(1);
    expect(total(m, 'govauth_token_refusals_total')).toBe(4);
  });

  it('counts rate-limit refusals by limit', () => {
    expect(samples(m, 'govauth_rate_limit_refusals_total')).toEqual([{ name: 'govauth_rate_limit_refusals_total', labels: { limit: 'token-client' }, value: 1 }]);
  });

  it('times requests per route template, method and status class', () => {
    const count = (route: string, status: string) => total(m, 'govauth_http_request_duration_seconds_count', { route, method: 'POST', status });
    expect(count('/token', '2xx')).toBe(3);
    expect(count('/token', '4xx')).toBe(4);
    expect(count('/token/introspection', '2xx')).toBe(2);
    expect(total(m, 'govauth_http_request_duration_seconds_sum', { route: '/token' })).toBeGreaterThan(0);
    expect(total(m, 'govauth_http_request_duration_seconds_bucket', { route: '/token', status: '2xx', le: '+Inf' })).toBe(3);
  });

  it('counts introspection results by token kind, result and reason', () => {
    expect(total(m, 'govauth_introspections_total', { token_kind: 'access_token', active: 'true', reason: 'active' })).toBe(1);
    expect(total(m, 'govauth_introspections_total', { token_kind: 'access_token', active: 'false' })).toBe(1);
  });

  it('times audit commits and records their batch sizes', () => {
    // 3 issued + 4 refusals + 2 introspections, at least (the CLI's records are its own process's).
    expect(total(m, 'govauth_audit_batch_records_sum')).toBeGreaterThanOrEqual(8);
    expect(total(m, 'govauth_audit_commit_duration_seconds_count', { result: 'committed' })).toBe(total(m, 'govauth_audit_batch_records_count'));
    expect(total(m, 'govauth_audit_commit_duration_seconds_count', { result: 'committed' })).toBeGreaterThan(0);
    expect(total(m, 'govauth_database_errors_total')).toBe(0);
  });

  it('reports pool use, the signing key age and the change-feed lag of this instance', async () => {
    expect(total(m, 'govauth_db_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
    const age = total(m, 'govauth_signing_key_age_seconds');
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(600);
    // Commands return once every live instance applied their change: no lag left (the lag
    // arithmetic itself is in test/unit/metrics.test.ts).
    await t.cliJson('scope', 'create', 'lag.probe', '--description', 'probe');
    const after = await scrape(`${t.url}/metrics`, TOKEN);
    expect(samples(after, 'govauth_change_feed_lag')).toEqual([{ name: 'govauth_change_feed_lag', labels: { instance: t.server.instance.id }, value: 0 }]);
  });

  it('serves /metrics on the main port only with the bearer token', async () => {
    const none = await fetch(`${t.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="govauth-metrics"');
    // The last character changed for sure (a fixed '0' equalled the real token one run in 16).
    const wrong = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}${TOKEN.endsWith('0') ? '1' : '0'}` } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect(await wrong.text()).not.toMatch(/govauth_/);
    const ok = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});

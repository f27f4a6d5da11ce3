// The metrics listener as deployed (node src/main.ts): on its own port, apart from the main one
// (where /metrics does not exist without GOVAUTH_METRICS_TOKEN), and with GOVAUTH_WORKERS=2 one
// scrape, of the listener or of the main port, covers both workers.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { API } from '../helpers/people.ts';
import { scrape, samples, total } from '../helpers/metrics-text.ts';
import { cliProcess, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

const TOKEN = randomBytes(32).toString('hex');
let tdb: TestDatabase;
let env: Record<string, string>;
let bot: ClientCreds;

const metricsUrl = (server: ServerProcess): string => {
  const url = /"msg":"metrics listening".*?"url":"([^"]+)"/.exec(server.output())?.[1];
  if (!url) throw new Error(`no metrics listener:\n${server.output()}`);
  return url;
};
const issue = (server: ServerProcess) => tokenRequest(server.url, { grant_type: 'client_credentials', resource: API }, { basic: bot });

beforeAll(async () => {
  tdb = await createTestDatabase();
  env = { NODE_ENV: 'test', DATABASE_URL: tdb.url, GOVAUTH_DATA_DIR: tdb.dataDir, GOVAUTH_MASTER_KEY: randomBytes(32).toString('base64'), GOVAUTH_PORT: '0', GOVAUTH_METRICS_LISTEN: '127.0.0.1:0' };
  expect((await cliProcess(env, 'init', '--demo')).code).toBe(0);
  bot = JSON.parse((await cliProcess(env, 'client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist', '--json')).stdout) as ClientCreds;
});
afterAll(async () => {
  await tdb?.drop();
});

describe('metrics listener, one process', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess(env);
  });
  afterAll(() => server?.stop('SIGKILL'));

  it('serves /metrics on its own port; the main port has none without a token', async () => {
    const url = metricsUrl(server);
    expect(new URL(url).port).not.toBe(new URL(server.url).port);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    expect((await fetch(new URL('/', url))).status).toBe(404); // the listener answers /metrics only
    for (let i = 0; i < 2; i++) expect((await issue(server)).status).toBe(200);
    expect(total(await scrape(url), 'govauth_tokens_issued_total', { client_id: bot.client_id })).toBe(2);
  });
});

describe('metrics listener, GOVAUTH_WORKERS=2', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({ ...env, GOVAUTH_WORKERS: '2', GOVAUTH_METRICS_TOKEN: TOKEN });
  });
  afterAll(() => server?.stop('SIGKILL'));

  it('answers one scrape for the whole process group, on the listener and on the main port', async () => {
    const n = 40;
    const results = await Promise.all(Array.from({ length: n }, () => issue(server)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const fromListener = await scrape(metricsUrl(server));
    // Each worker reports its own change-feed lag: two instances, so both registries are in it.
    expect(new Set(samples(fromListener, 'govauth_change_feed_lag').map((s) => s.labels.instance)).size).toBe(2);
    expect(total(fromListener, 'govauth_tokens_issued_total', { client_id: bot.client_id })).toBe(n);
    expect(total(fromListener, 'govauth_http_request_duration_seconds_count', { route: '/token', status: '2xx' })).toBe(n);
    // The same group through whichever worker takes a main-port scrape.
    for (let i = 0; i < 4; i++) {
      const fromMainPort = await scrape(`${server.url}/metrics`, TOKEN);
      expect(total(fromMainPort, 'govauth_tokens_issued_total', { client_id: bot.client_id })).toBe(n);
      expect(samples(fromMainPort, 'govauth_change_feed_lag')).toHaveLength(2);
    }
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  });
});

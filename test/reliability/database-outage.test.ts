// The database becomes unreachable mid-run and comes back: endpoints that need it answer 503
// with Retry-After (never a 500, never a token that could not be audited), /readyz tells the
// truth, keys and discovery are still served, and the server recovers by itself.
// PostgreSQL (reached through a TCP proxy that the test cuts); the embedded SQLite file has no
// network to lose.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, tokenRequest, waitFor, type ClientCreds } from '../helpers/oauth.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { parseMetrics, total } from '../helpers/metrics-text.ts';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let db: TestDatabase;
let proxy: TcpProxy;
let t: TestServer;
let bot: ClientCreds;
let rs: ClientCreds;

describe.skipIf(!onPostgres())('database outage (PostgreSQL)', () => {
  beforeAll(async () => {
    db = await createTestDatabase();
    const direct = new URL(db.url);
    proxy = new TcpProxy(direct.hostname, Number(direct.port || 5432));
    const port = await proxy.start();
    direct.host = `127.0.0.1:${port}`;
    t = await startTestServer({ db: { ...db, url: direct.href } });
    await t.cliJson('init', '--demo');
    bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
    rs = await t.cliJson<ClientCreds>('client', 'create', '--name', 'model-api', '--resource', 'https://models.example', '--introspect');
    await t.server.policy.sync();
  });
  afterAll(async () => {
    await proxy?.restore();
    await t?.stop();
    await proxy?.close();
    await db?.drop();
  });

  it('answers 503 while the database is away, keeps serving what needs no database, and recovers by itself', async () => {
    const before = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: 'https://models.example' }, { basic: bot });
    expect(before.status).toBe(200);

    await proxy.cut();
    const during = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: 'https://models.example' }, { basic: bot });
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBeTruthy();
    expect(during.body).toMatchObject({ error: 'temporarily_unavailable' });
    expect(JSON.stringify(during.body)).not.toMatch(/at .*\.(ts|js):\d+|ECONN|prisma/i);

    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { database: 'unreachable', signing_key: 'ok' } });
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${t.url}/jwks`)).status).toBe(200);
    expect((await fetch(`${t.url}/.well-known/openid-configuration`)).status).toBe(200);
    // Introspection needs no database: state is in memory.
    const intro = await fetch(`${t.url}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs) },
      body: new URLSearchParams({ token: String(before.body.access_token) }),
    });
    expect(await intro.json()).toMatchObject({ active: true });
    // Admin writes need the database: 503, not 500.
    const cli = await t.cli('scope', 'create', 'during.outage', '--description', 'x');
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).not.toMatch(/\n\s+at /);

    await proxy.restore();
    const { ms } = await waitFor(async () => {
      const r = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: 'https://models.example' }, { basic: bot });
      return r.status === 200 ? true : undefined;
    }, 15_000, 200);
    expect(ms).toBeLessThan(15_000);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    // The outage shows in the metrics: database errors, and token refusals that said so.
    const m = parseMetrics(await t.server.metrics.registry.metrics());
    expect(total(m, 'govauth_database_errors_total')).toBeGreaterThan(0);
    expect(total(m, 'govauth_token_refusals_total', { grant_type: 'client_credentials', error: 'temporarily_unavailable' })).toBeGreaterThan(0);
  });
});

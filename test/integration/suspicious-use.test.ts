// Suspicious use of a client credential, as an operator sees it: real servers, real
// client_credentials requests over HTTP, source addresses varied the way a proxy reports them
// (GOVAUTH_TRUST_PROXY + X-Forwarded-For), the audit trail read through `govauth audit`, the
// metrics scraped. A new source network is reported once, across instances sharing a database
// too; a known one never; a burst against a client's own baseline once per cool-down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, type ClientCreds } from '../helpers/oauth.ts';
import { scrape, total } from '../helpers/metrics-text.ts';
import { API } from '../helpers/people.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const METRICS_TOKEN = 'suspicious-use-metrics-token-0123456789abcdef';
const ENV = { GOVAUTH_TRUST_PROXY: 'true', GOVAUTH_METRICS_TOKEN: METRICS_TOKEN };

interface AuditView {
  action: string;
  client_id: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
}

async function token(t: TestServer, bot: ClientCreds, address: string): Promise<void> {
  const res = await fetch(`${t.url}/token`, {
    method: 'POST',
    // What an appending proxy passes on: whatever the client claimed, then the address it saw.
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `10.9.9.9, ${address}`, authorization: basic(bot) },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: API }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(body)).toBe(200);
  expect(body.access_token).toBeTypeOf('string');
}

/** Every record of `action` for the client, oldest first, through the CLI an operator uses. */
async function events(t: TestServer, action: string, bot: ClientCreds, ...servers: TestServer[]): Promise<AuditView[]> {
  for (const s of [t, ...servers]) {
    await s.server.suspiciousUse.settled();
    await s.server.audit.flush();
  }
  const { events: rows } = await t.cliJson<{ events: AuditView[] }>('audit', 'tail', '--action', action, '--actor', bot.client_id, '--limit', '1000');
  return rows;
}

const metric = async (t: TestServer, name: string, labels: Record<string, string>): Promise<number> => total(await scrape(`${t.url}/metrics`, METRICS_TOKEN), name, labels);

async function newBot(t: TestServer, name: string): Promise<ClientCreds> {
  const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', name, '--grant', 'client_credentials', '--roles', 'data-scientist');
  await t.server.policy.sync();
  return bot;
}

describe('a token from a source network the client never used', () => {
  let db: TestDatabase;
  let t: TestServer;
  let other: TestServer;
  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestServer({ db, env: ENV });
    await t.cliJson('init', '--demo');
    // A second instance behind the same load balancer, sharing the database.
    other = await startTestServer({ db, masterKey: t.env.GOVAUTH_MASTER_KEY, env: { ...ENV, GOVAUTH_ISSUER: t.issuer } });
  });
  afterAll(async () => {
    await other?.stop();
    await t?.stop();
    await db?.drop();
  });

  it('records the first network as first use, each new one once, a known one never', async () => {
    const bot = await newBot(t, 'nightly-trainer');
    await token(t, bot, '198.51.100.7');
    await token(t, bot, '198.51.100.200'); // the same /24
    await token(t, bot, '198.51.100.7');
    let seen = await events(t, 'client.new_network', bot);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ client_id: bot.client_id, ip: '198.51.100.7', detail: { client_id: bot.client_id, network: '198.51.100.0/24', grant_type: 'client_credentials', first_use: true } });

    // The credential used somewhere else: reported, with the address the proxy saw.
    for (let i = 0; i < 3; i++) await token(t, bot, `203.0.113.${50 + i}`);
    await token(t, bot, '2001:db8:7:1::9');
    await token(t, bot, '2001:db8:7:ffff::1'); // the same /48
    seen = await events(t, 'client.new_network', bot);
    expect(seen.map((e) => [e.detail.network, e.detail.first_use, e.ip])).toEqual([
      ['198.51.100.0/24', true, '198.51.100.7'],
      ['203.0.113.0/24', false, '203.0.113.50'],
      ['2001:db8:7::/48', false, '2001:db8:7:1::9'],
    ]);
    expect(await metric(t, 'govauth_client_new_networks_total', { client_id: bot.client_id, first_use: 'false' })).toBe(2);
    expect(await metric(t, 'govauth_client_new_networks_total', { client_id: bot.client_id, first_use: 'true' })).toBe(1);

    // `govauth audit` finds them by family and exports them for a SIEM.
    const family = await t.cliJson<{ events: AuditView[] }>('audit', 'tail', '--action', 'client.*', '--actor', bot.client_id);
    expect(family.events.map((e) => e.action)).toEqual(['client.new_network', 'client.new_network', 'client.new_network']);
    const exported = await t.cli('audit', 'export', '--action', 'client.new_network', '--actor', bot.client_id);
    expect(exported.code).toBe(0);
    expect(exported.stdout.trim().split('\n').map((l) => (JSON.parse(l) as AuditView).detail.network)).toEqual(['198.51.100.0/24', '203.0.113.0/24', '2001:db8:7::/48']);
  });

  it('remembers known networks across a restart', async () => {
    const bot = await newBot(t, 'restart-bot');
    await token(t, bot, '192.0.2.10');
    await events(t, 'client.new_network', bot);
    const restarted = await t.restart();
    t = restarted;
    await restarted.server.policy.sync();
    await token(restarted, bot, '192.0.2.11');
    await token(restarted, bot, '192.0.2.12');
    expect((await events(restarted, 'client.new_network', bot)).map((e) => e.detail.network)).toEqual(['192.0.2.0/24']);
  });

  it('is recorded once when two instances see the new network at the same moment', async () => {
    const bot = await newBot(t, 'shared-bot');
    await other.server.policy.sync();
    await token(t, bot, '198.51.100.1'); // its first network
    await events(t, 'client.new_network', bot, other);
    // The leaked credential used from a new network against both instances at once, repeatedly.
    await Promise.all([0, 1, 2, 3].flatMap((i) => [token(t, bot, `100.64.7.${i}`), token(other, bot, `100.64.7.${10 + i}`)]));
    const seen = await events(t, 'client.new_network', bot, other);
    expect(seen.map((e) => [e.detail.network, e.detail.first_use])).toEqual([
      ['198.51.100.0/24', true],
      ['100.64.7.0/24', false],
    ]);
    // Known on the other instance too, without a second event.
    await token(other, bot, '198.51.100.99');
    expect(await events(t, 'client.new_network', bot, other)).toHaveLength(2);
    expect((await metric(t, 'govauth_client_new_networks_total', { client_id: bot.client_id, first_use: 'false' })) + (await metric(other, 'govauth_client_new_networks_total', { client_id: bot.client_id, first_use: 'false' }))).toBe(1);
    // First and last use are kept in the database.
    const rows = await t.server.db.prisma.clientNetwork.findMany({ where: { clientId: bot.client_id }, orderBy: { firstSeenAt: 'asc' } });
    expect(rows.map((r) => r.network)).toEqual(['198.51.100.0/24', '100.64.7.0/24']);
    for (const r of rows) expect(r.lastSeenAt.getTime()).toBeGreaterThanOrEqual(r.firstSeenAt.getTime());
  });
});

describe("a sudden rise in a client's token rate", () => {
  let t: TestServer;
  const MINUTE = 60_000;
  beforeAll(async () => {
    // Reported when a minute has at least 5 tokens and more than 3× the client's baseline; then
    // quiet for 2 minutes.
    t = await startTestServer({ env: { ...ENV, GOVAUTH_SUSPICIOUS_RATE_FLOOR: '5', GOVAUTH_SUSPICIOUS_RATE_MULTIPLIER: '3', GOVAUTH_SUSPICIOUS_RATE_COOLDOWN: '120' } });
    await t.cliJson('init', '--demo');
  });
  afterAll(() => t?.stop());

  it('fires once after a burst against a driven baseline, respects the cool-down, and fires again after it', async () => {
    const bot = await newBot(t, 'steady-bot');
    const calm = await newBot(t, 'calm-bot');
    // Eleven quiet minutes: one token each, the client's baseline (govauth's clock moves, no sleeping).
    for (let m = 0; m < 11; m++) {
      await token(t, bot, '198.51.100.7');
      await token(t, calm, '198.51.100.8');
      t.advance(MINUTE);
    }
    expect(await events(t, 'client.rate_anomaly', bot)).toEqual([]);

    // The burst: the fifth token of the minute passes both the floor and 3× the baseline.
    for (let i = 0; i < 12; i++) await token(t, bot, '198.51.100.7');
    let seen = await events(t, 'client.rate_anomaly', bot);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ client_id: bot.client_id, detail: { client_id: bot.client_id, instance: t.server.instance.id, observed_per_minute: 5, baseline_per_minute: 1, multiplier: 3, floor: 5, cooldown_seconds: 120 } });
    expect(await metric(t, 'govauth_client_rate_anomalies_total', { client_id: bot.client_id })).toBe(1);

    // Still bursting a minute later: inside the cool-down, nothing more.
    t.advance(MINUTE);
    for (let i = 0; i < 12; i++) await token(t, bot, '198.51.100.7');
    expect(await events(t, 'client.rate_anomaly', bot)).toHaveLength(1);

    // After the cool-down a burst well above the (now higher) baseline is reported again.
    t.advance(MINUTE);
    for (let i = 0; i < 30; i++) await token(t, bot, '198.51.100.7');
    seen = await events(t, 'client.rate_anomaly', bot);
    expect(seen).toHaveLength(2);
    expect(seen[1]?.detail.baseline_per_minute).toBeGreaterThan(1);
    expect(await metric(t, 'govauth_client_rate_anomalies_total', { client_id: bot.client_id })).toBe(2);
    // The other client kept its pace: nothing about it.
    expect(await events(t, 'client.rate_anomaly', calm)).toEqual([]);
    expect(await metric(t, 'govauth_client_rate_anomalies_total', { client_id: calm.client_id })).toBe(0);
  });
});

// The suspicious-use checks with fakes for the database, the audit trail and the clock: what a
// token costs (a known pair: nothing but memory), and that a failure never reaches issuance and
// never loses an event for good.
import { describe, expect, it } from 'vitest';
import type { AuditInput } from '../../src/db/audit-record.ts';
import type { ClientNetworks } from '../../src/db/client-networks.ts';
import { createSuspiciousUse } from '../../src/governance/suspicious-use.ts';
import { createLogger } from '../../src/log/logger.ts';

const CONFIG = { networks: true, ipv4Prefix: 24, ipv6Prefix: 48, rate: true, rateMultiplier: 10, rateFloor: 60, rateCooldownSeconds: 900 };

function fakeNetworks(): ClientNetworks & { rows: Map<string, { first: number; last: number }>; calls: string[] } {
  const rows = new Map<string, { first: number; last: number }>();
  const calls: string[] = [];
  const key = (c: string, n: string): string => `${c} ${n}`;
  return {
    rows,
    calls,
    async known(c, n) {
      await Promise.resolve(); // a database answers later
      calls.push('known');
      return rows.has(key(c, n));
    },
    async add(c, n, at) {
      await Promise.resolve(); // a database answers later
      calls.push('add');
      if (rows.has(key(c, n))) return false;
      rows.set(key(c, n), { first: at.getTime(), last: at.getTime() });
      return true;
    },
    async count(c) {
      await Promise.resolve(); // a database answers later
      calls.push('count');
      return [...rows.keys()].filter((k) => k.startsWith(`${c} `)).length;
    },
    async remove(c, n) {
      await Promise.resolve(); // a database answers later
      calls.push('remove');
      rows.delete(key(c, n));
    },
    async seen(c, n, at) {
      await Promise.resolve(); // a database answers later
      calls.push('seen');
      const row = rows.get(key(c, n));
      if (row && row.last < at.getTime()) row.last = at.getTime();
    },
  };
}

function setup(options: { failRecords?: number } = {}) {
  let now = Date.UTC(2026, 11, 5, 8);
  let failures = options.failRecords ?? 0;
  const records: AuditInput[] = [];
  const counted: string[] = [];
  const notified: { type: string; data: Record<string, unknown> }[] = [];
  const networks = fakeNetworks();
  const watch = createSuspiciousUse({
    config: CONFIG,
    networks,
    record(input) {
      if (failures > 0) {
        failures--;
        return Promise.reject(new Error('database unreachable'));
      }
      records.push(input);
      return Promise.resolve();
    },
    signals: {
      clientNewNetwork: (clientId, firstUse) => void counted.push(`network ${clientId} ${firstUse}`),
      clientRateAnomaly: (clientId) => void counted.push(`rate ${clientId}`),
    },
    notify: (event) => void notified.push({ type: event.type, data: { ...event.data } }),
    log: createLogger({ level: 'silent' }),
    now: () => now,
  });
  const use = (ip: string, clientId = 'cl_bot') => watch.observe({ clientId, ip, grantType: 'client_credentials', requestId: 'req' });
  return { watch, networks, records, counted, notified, use, advance: (ms: number) => void (now += ms) };
}

describe('suspicious-use checks', () => {
  it('asks the database once per pair and process; a known pair then costs no query', async () => {
    const { watch, networks, records, counted, use } = setup();
    use('198.51.100.7');
    await watch.settled();
    expect(networks.calls).toEqual(['known', 'add', 'count']);
    expect(records.map((r) => r.detail)).toEqual([{ client_id: 'cl_bot', network: '198.51.100.0/24', grant_type: 'client_credentials', first_use: true }]);
    networks.calls.length = 0;
    for (let i = 0; i < 1000; i++) use(`198.51.100.${i % 250}`);
    await watch.settled();
    expect(networks.calls).toEqual([]);
    expect(counted).toEqual(['network cl_bot true']);
  });

  it('notifies (the webhook outbox) of a new network after the first, and of a rate anomaly; never of the first network', async () => {
    const { watch, notified, use, advance } = setup();
    use('198.51.100.7');
    await watch.settled();
    expect(notified).toEqual([]);
    use('203.0.113.9');
    await watch.settled();
    expect(notified).toEqual([{ type: 'client.new_network', data: { client_id: 'cl_bot', network: '203.0.113.0/24', grant_type: 'client_credentials' } }]);
    // A quiet baseline of one token a minute for 20 minutes, then a burst of 100 in one minute.
    for (let m = 0; m < 20; m++) {
      advance(60_000);
      use('203.0.113.9');
    }
    advance(60_000);
    for (let i = 0; i < 100; i++) use('203.0.113.9');
    await watch.settled();
    expect(notified.map((n) => n.type)).toEqual(['client.new_network', 'client.rate_anomaly']);
    expect(notified[1]?.data).toMatchObject({ client_id: 'cl_bot', observed_per_minute: expect.any(Number) as number });
  });

  it('checks a burst from a new network once, not per token', async () => {
    const { watch, networks, records, use } = setup();
    for (let i = 0; i < 50; i++) use('203.0.113.9');
    await watch.settled();
    expect(networks.calls.filter((c) => c === 'known')).toHaveLength(1);
    expect(records).toHaveLength(1);
  });

  it('a pair another process recorded is known here without an event, and its last use moves forward', async () => {
    const { watch, networks, records, use } = setup();
    await networks.add('cl_bot', '192.0.2.0/24', new Date(0));
    use('192.0.2.1');
    await watch.settled();
    expect(records).toEqual([]);
    expect(networks.rows.get('cl_bot 192.0.2.0/24')?.last).toBeGreaterThan(0);
  });

  it('writes last use at most hourly per pair', async () => {
    const { watch, networks, use, advance } = setup();
    use('192.0.2.1');
    await watch.settled();
    networks.calls.length = 0;
    advance(30 * 60_000);
    use('192.0.2.1');
    advance(29 * 60_000);
    use('192.0.2.1');
    await watch.settled();
    expect(networks.calls).toEqual([]);
    advance(2 * 60_000);
    use('192.0.2.1');
    use('192.0.2.1');
    await watch.settled();
    expect(networks.calls).toEqual(['seen']);
  });

  it('never throws into issuance; a lost record leaves the pair unknown, so the next token reports it', async () => {
    const { watch, networks, records, counted, use } = setup({ failRecords: 1 });
    expect(() => use('198.51.100.7')).not.toThrow();
    await watch.settled();
    expect(records).toEqual([]);
    expect(counted).toEqual([]);
    expect(networks.rows.size).toBe(0);
    use('198.51.100.8');
    await watch.settled();
    expect(records).toHaveLength(1);
    expect(counted).toEqual(['network cl_bot true']);
  });

  it('a database failure after the insert also leaves the pair unknown', async () => {
    const { watch, networks, records, use } = setup();
    const count = networks.count.bind(networks);
    networks.count = () => Promise.reject(new Error('connection reset'));
    use('198.51.100.7');
    await watch.settled();
    expect(networks.rows.size).toBe(0);
    networks.count = count;
    use('198.51.100.7');
    await watch.settled();
    expect(records).toHaveLength(1);
  });

  it('ignores what is not an address, and keeps clients apart', async () => {
    const { watch, records, use } = setup();
    use('not-an-address');
    use('198.51.100.7', 'cl_a');
    use('198.51.100.7', 'cl_b');
    await watch.settled();
    expect(records.map((r) => [r.clientId, r.detail?.first_use])).toEqual([
      ['cl_a', true],
      ['cl_b', true],
    ]);
  });
});

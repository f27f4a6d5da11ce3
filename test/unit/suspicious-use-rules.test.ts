// The pure parts of suspicious-use detection: which network an address belongs to, a client's
// token-rate baseline (EWMA) and when a minute passes it, and the settings checked at start.
// Time is a parameter here: minutes pass without sleeping.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { createRateBaselines, WARM_UP_MINUTES } from '../../src/governance/rate-baseline.ts';
import { sourceNetwork } from '../../src/governance/source-network.ts';

const DEFAULTS = { ipv4Prefix: 24, ipv6Prefix: 48 };
const MINUTE = 60_000;

describe('sourceNetwork', () => {
  it('reduces IPv4 to its /24 and IPv6 to its /48 by default', () => {
    expect(sourceNetwork('203.0.113.7', DEFAULTS)).toBe('203.0.113.0/24');
    expect(sourceNetwork(' 203.0.113.255 ', DEFAULTS)).toBe('203.0.113.0/24');
    expect(sourceNetwork('2001:db8:1:2:3:4:5:6', DEFAULTS)).toBe('2001:db8:1::/48');
    expect(sourceNetwork('2001:DB8:0001::9', DEFAULTS)).toBe('2001:db8:1::/48');
    expect(sourceNetwork('::1', DEFAULTS)).toBe('::/48');
    expect(sourceNetwork('fe80::1%eth0', DEFAULTS)).toBe('fe80::/48');
  });

  it('honours other prefix lengths, across group and octet boundaries', () => {
    expect(sourceNetwork('198.51.100.77', { ipv4Prefix: 32, ipv6Prefix: 48 })).toBe('198.51.100.77/32');
    expect(sourceNetwork('198.51.100.77', { ipv4Prefix: 20, ipv6Prefix: 48 })).toBe('198.51.96.0/20');
    expect(sourceNetwork('198.51.100.77', { ipv4Prefix: 8, ipv6Prefix: 48 })).toBe('198.0.0.0/8');
    expect(sourceNetwork('255.255.255.255', { ipv4Prefix: 31, ipv6Prefix: 48 })).toBe('255.255.255.254/31');
    expect(sourceNetwork('2001:db8:abcd:ef12::1', { ipv4Prefix: 24, ipv6Prefix: 56 })).toBe('2001:db8:abcd:ef00::/56');
    expect(sourceNetwork('2001:db8:abcd:ef12::1', { ipv4Prefix: 24, ipv6Prefix: 64 })).toBe('2001:db8:abcd:ef12::/64');
    expect(sourceNetwork('2001:db8::ffff:1', { ipv4Prefix: 24, ipv6Prefix: 128 })).toBe('2001:db8::ffff:1/128');
  });

  it('gives an IPv4 client of a dual-stack listener (::ffff:a.b.c.d) its IPv4 network', () => {
    expect(sourceNetwork('::ffff:192.0.2.44', DEFAULTS)).toBe('192.0.2.0/24');
    expect(sourceNetwork('::ffff:c000:22c', DEFAULTS)).toBe('192.0.2.0/24');
    expect(sourceNetwork('::ffff:127.0.0.1', DEFAULTS)).toBe(sourceNetwork('127.0.0.1', DEFAULTS));
  });

  it('refuses anything that is not an address', () => {
    for (const junk of ['', 'unknown', '203.0.113', '203.0.113.7:443', '1.2.3.256', '2001:db8::g', '::ffff:1.2.3', '../..', 'a'.repeat(5000)]) {
      expect(sourceNetwork(junk, DEFAULTS), junk).toBeUndefined();
    }
  });
});

describe('rate baselines', () => {
  const rule = { multiplier: 5, floor: 20, cooldownMs: 15 * MINUTE };
  /** `perMinute` tokens in each of `minutes` minutes from `start`; returns the anomalies and the next minute's start. */
  const steady = (b: ReturnType<typeof createRateBaselines>, start: number, minutes: number, perMinute: number) => {
    const anomalies = [];
    for (let m = 0; m < minutes; m++) for (let i = 0; i < perMinute; i++) anomalies.push(b.count('bot', start + m * MINUTE + i));
    return { anomalies: anomalies.filter(Boolean), next: start + minutes * MINUTE };
  };

  it('learns a steady rate as the baseline and reports nothing while the rate holds', () => {
    const b = createRateBaselines(rule);
    const { anomalies, next } = steady(b, 0, 90, 4);
    expect(anomalies).toEqual([]);
    expect(b.baseline('bot', next)).toBeCloseTo(4, 5);
  });

  it('reports the minute that passes both the multiple and the floor, once, at the token that crosses', () => {
    const b = createRateBaselines(rule);
    const { next } = steady(b, 0, 30, 5); // baseline 5/min: the multiple is 25
    const seen = [];
    for (let i = 1; i <= 40; i++) seen.push([i, b.count('bot', next + i)] as const);
    const reported = seen.filter(([, a]) => a);
    expect(reported).toHaveLength(1);
    const [count, anomaly] = reported[0] ?? [];
    expect(count).toBe(26);
    expect(anomaly?.observed).toBe(26);
    expect(anomaly?.baseline).toBeCloseTo(5, 5);
  });

  it('needs the absolute floor too: a quiet client tripling its rate is not news', () => {
    const b = createRateBaselines(rule);
    const { next } = steady(b, 0, 30, 1);
    expect(steady(b, next, 1, 19).anomalies).toEqual([]); // 19× its baseline, under the floor of 20
    const c = createRateBaselines(rule);
    const later = steady(c, 0, 30, 1).next;
    expect(steady(c, later, 1, 20).anomalies).toHaveLength(1);
  });

  it('judges nobody during the warm-up: a restart does not report every busy client', () => {
    const b = createRateBaselines(rule);
    steady(b, 0, 1, 1);
    expect(b.baseline('bot', MINUTE)).toBeUndefined();
    expect(steady(b, MINUTE, WARM_UP_MINUTES - 1, 500).anomalies).toEqual([]);
    expect(b.baseline('bot', WARM_UP_MINUTES * MINUTE)).toBeGreaterThan(0);
  });

  it('reports at most once per cool-down, and again after it', () => {
    const b = createRateBaselines(rule);
    let { next } = steady(b, 0, 20, 1);
    expect(steady(b, next, 1, 100).anomalies).toHaveLength(1);
    next += MINUTE;
    // Still bursting within the cool-down: nothing more, though each minute is far above.
    const within = steady(b, next, 13, 100);
    expect(within.anomalies).toEqual([]);
    // The cool-down (15 min from the first report) is over: the next anomalous minute reports.
    next = within.next + MINUTE;
    expect(steady(b, next, 1, 2000).anomalies).toHaveLength(1);
  });

  it('forgets idle minutes: after a quiet hour a burst stands out, and clients are apart', () => {
    const b = createRateBaselines(rule);
    const { next } = steady(b, 0, 60, 10); // baseline 10/min
    const quiet = next + 5 * 60 * MINUTE; // five idle hours: the baseline decays towards 0
    expect(b.baseline('bot', quiet)).toBeLessThan(1);
    expect(b.count('other', quiet)).toBeUndefined(); // another client starts warming up
    expect(steady(b, quiet, 1, 25).anomalies).toHaveLength(1);
  });

  it('counts a clock step backwards into the current minute', () => {
    const b = createRateBaselines(rule);
    const { next } = steady(b, 0, 30, 2);
    b.count('bot', next);
    expect(b.count('bot', next - 10 * MINUTE)).toBeUndefined();
    expect(b.baseline('bot', next)).toBeCloseTo(2, 5);
  });
});

describe('GOVAUTH_SUSPICIOUS_* settings', () => {
  it('watch networks (/24, /48) and rates (10× and at least 60 a minute, one event per 15 minutes) by default', () => {
    expect(loadConfig({}).suspiciousUse).toEqual({ networks: true, ipv4Prefix: 24, ipv6Prefix: 48, rate: true, rateMultiplier: 10, rateFloor: 60, rateCooldownSeconds: 900 });
    const off = loadConfig({ GOVAUTH_SUSPICIOUS_NETWORKS: 'false', GOVAUTH_SUSPICIOUS_RATE: 'off' }).suspiciousUse;
    expect([off.networks, off.rate]).toEqual([false, false]);
    expect(loadConfig({ GOVAUTH_SUSPICIOUS_IPV4_PREFIX: '16', GOVAUTH_SUSPICIOUS_IPV6_PREFIX: '64' }).suspiciousUse).toMatchObject({ ipv4Prefix: 16, ipv6Prefix: 64 });
  });

  it('refuses prefixes, multiples, floors and cool-downs out of range, each with its fix', () => {
    const bad: Record<string, RegExp> = {
      GOVAUTH_SUSPICIOUS_IPV4_PREFIX: /between 8 and 32/,
      GOVAUTH_SUSPICIOUS_IPV6_PREFIX: /between 16 and 128/,
      GOVAUTH_SUSPICIOUS_RATE_MULTIPLIER: /between 2 and 1000/,
      GOVAUTH_SUSPICIOUS_RATE_FLOOR: /between 1 and/,
      GOVAUTH_SUSPICIOUS_RATE_COOLDOWN: /between 60 and 86400/,
    };
    for (const [name, message] of Object.entries(bad)) {
      for (const value of ['0', '-1', '1.5', 'x', '99999999999']) {
        expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(new RegExp(`${name}=.*${message.source}`));
      }
    }
    expect(() => loadConfig({ GOVAUTH_SUSPICIOUS_NETWORKS: 'maybe' })).toThrow(/GOVAUTH_SUSPICIOUS_NETWORKS=.*true or false/);
  });

  it('refuses a floor no client can reach under the per-client token limit', () => {
    expect(() => loadConfig({ GOVAUTH_RATE_LIMIT_TOKEN: '100', GOVAUTH_SUSPICIOUS_RATE_FLOOR: '101' })).toThrow(/GOVAUTH_SUSPICIOUS_RATE_FLOOR=101 is above GOVAUTH_RATE_LIMIT_TOKEN=100/);
    expect(loadConfig({ GOVAUTH_RATE_LIMIT_TOKEN: '100', GOVAUTH_SUSPICIOUS_RATE_FLOOR: '100' }).suspiciousUse.rateFloor).toBe(100);
    // Unset, the floor follows a lower token limit instead of refusing to start.
    expect(loadConfig({ GOVAUTH_RATE_LIMIT_TOKEN: '4' }).suspiciousUse.rateFloor).toBe(4);
    expect(loadConfig({ GOVAUTH_RATE_LIMIT_TOKEN: '0', GOVAUTH_SUSPICIOUS_RATE_FLOOR: '5000' }).suspiciousUse.rateFloor).toBe(5000);
    expect(loadConfig({ GOVAUTH_RATE_LIMIT_TOKEN: '100', GOVAUTH_SUSPICIOUS_RATE_FLOOR: '5000', GOVAUTH_SUSPICIOUS_RATE: 'false' }).suspiciousUse.rate).toBe(false);
  });
});

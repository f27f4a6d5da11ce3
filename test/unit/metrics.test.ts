// The metrics module on its own: bounded labels, and the scrape-time gauges computed from
// their sources (fakes here; test/integration/metrics.test.ts scrapes a real server).
import { describe, expect, it } from 'vitest';
import { createMetrics, errorLabel, grantTypeLabel, type MetricSources } from '../../src/metrics/metrics.ts';
import { parseMetrics, samples, total } from '../helpers/metrics-text.ts';

const sources = (over: Partial<MetricSources> = {}): MetricSources => ({
  pool: () => ({ total: 3, idle: 1, waiting: 2 }),
  signingKeyActivatedAt: () => 1_000_000,
  now: () => 1_000_000 + 90_000,
  latestChange: () => Promise.resolve(7),
  appliedChange: () => 4,
  instance: () => 'ab12cd34',
  isKnownClient: (id) => id === 'cli_known',
  ...over,
});

describe('metrics', () => {
  it('keeps labels bounded: unknown grant types, malformed errors and unregistered clients collapse', async () => {
    expect(grantTypeLabel('client_credentials')).toBe('client_credentials');
    expect(grantTypeLabel('urn:x:whatever')).toBe('other');
    expect(grantTypeLabel(undefined)).toBe('none');
    expect(errorLabel('invalid_grant')).toBe('invalid_grant');
    expect(errorLabel('<script>')).toBe('other');
    const m = createMetrics({ defaultMetrics: false });
    m.bind(sources());
    m.tokenIssued('client_credentials', 'cli_known');
    for (let i = 0; i < 500; i++) m.tokenRefused(`grant-${i}`, `cli_${i}`, `error_${i}`);
    const all = parseMetrics(await m.registry.metrics());
    expect(samples(all, 'govauth_tokens_issued_total')[0]?.labels).toEqual({ grant_type: 'client_credentials', client_id: 'cli_known' });
    expect(samples(all, 'govauth_token_refusals_total')).toEqual([{ name: 'govauth_token_refusals_total', labels: { grant_type: 'other', client_id: 'unknown', error: 'other' }, value: 500 }]);
  });

  it('computes pool use, key age and change-feed lag at scrape time', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.bind(sources());
    const all = parseMetrics(await m.registry.metrics());
    expect(total(all, 'govauth_db_pool_connections', { state: 'total' })).toBe(3);
    expect(total(all, 'govauth_db_pool_connections', { state: 'waiting' })).toBe(2);
    expect(total(all, 'govauth_signing_key_age_seconds')).toBe(90);
    expect(samples(all, 'govauth_change_feed_lag')).toEqual([{ name: 'govauth_change_feed_lag', labels: { instance: 'ab12cd34' }, value: 3 }]);
  });

  it('drops the lag rather than report a stale one when the database cannot be read', async () => {
    let down = false;
    const m = createMetrics({ defaultMetrics: false });
    m.bind(sources({ latestChange: () => (down ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve(7)) }));
    expect(samples(parseMetrics(await m.registry.metrics()), 'govauth_change_feed_lag')).toHaveLength(1);
    down = true;
    expect(samples(parseMetrics(await m.registry.metrics()), 'govauth_change_feed_lag')).toHaveLength(0);
  });

  it('counts a failed audit batch as a database error, not as a batch size', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.auditCommit(0.002, 12, true);
    m.auditCommit(0.5, 3, false);
    const all = parseMetrics(await m.registry.metrics());
    expect(total(all, 'govauth_audit_batch_records_sum')).toBe(12);
    expect(total(all, 'govauth_audit_commit_duration_seconds_count', { result: 'failed' })).toBe(1);
    expect(total(all, 'govauth_database_errors_total', { where: 'audit_commit' })).toBe(1);
  });
});

// The parts of notification delivery a unit can pin down: the backoff schedule (exponential,
// capped, jittered into [0.5, 1) of the step) and the non-transactional emit, which must never
// fail or delay its caller (src/notifications/).
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import type { Logger } from '../../src/log/logger.ts';
import { retryDelayMs } from '../../src/notifications/notification-deliverer.ts';
import { emitNotification } from '../../src/notifications/notification-event.ts';

function capture(): { log: Logger; lines: { msg: string; fields?: Record<string, unknown> }[] } {
  const lines: { msg: string; fields?: Record<string, unknown> }[] = [];
  const log: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (msg, fields) => void lines.push({ msg, fields }),
    child: () => log,
    enabled: () => true,
  };
  return { log, lines };
}

describe('retry backoff', () => {
  it('doubles from 10 s, stops growing at an hour, and jitters each wait into [0.5, 1) of its step', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, () => 0))).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect(retryDelayMs(1, () => 0.999_999)).toBeLessThanOrEqual(10_000);
    expect(retryDelayMs(20, () => 0)).toBe(1_800_000);
    expect(retryDelayMs(30, () => 0.999_999)).toBeLessThanOrEqual(3_600_000);
  });
});

describe('emitNotification (no transaction)', () => {
  it('returns at once and only logs when the outbox insert fails', async () => {
    const { log, lines } = capture();
    let inserted: unknown;
    const down = { now: () => 0, prisma: { notification: { create: (arg: unknown) => ((inserted = arg), Promise.reject(new Error('database down'))) } } } as unknown as Database;
    expect(emitNotification(down, { type: 'client.rate_anomaly', data: { client_id: 'cl_x' } }, log)).toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    expect(inserted).toMatchObject({ data: { type: 'client.rate_anomaly' } });
    expect(lines).toEqual([{ msg: 'notification lost: the outbox insert failed', fields: { id: expect.stringMatching(/^evt_/) as string, type: 'client.rate_anomaly', err: 'database down' } }]);
  });

  it('logs, never throws, for a malformed type or oversize data', () => {
    const { log, lines } = capture();
    const db = { now: () => 0 } as unknown as Database;
    emitNotification(db, { type: 'Client Disabled', data: {} }, log);
    emitNotification(db, { type: 'client.huge', data: { blob: 'x'.repeat(20_000) } }, log);
    expect(lines.map((l) => l.fields?.err)).toEqual([expect.stringMatching(/must look like area\.what_happened/), expect.stringMatching(/larger than 16384 bytes/)]);
  });
});

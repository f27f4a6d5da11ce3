// Rate limits shared by every worker and instance through the database, without a database
// round trip per request. Each process counts requests in memory and, every FLUSH_MS, adds
// its new counts to the shared row of each (key, window), learning the total from all
// processes in the same statement. A key's total is also re-read when it is older than
// STALE_MS at the moment a request needs it. So:
//  - one process (the embedded default) enforces its limits exactly;
//  - several processes enforce them approximately: together they can admit at most what each
//    admits in FLUSH_MS + STALE_MS over the limit before they see each other's counts.
// Keys are hashed: the table holds no client ids, emails or addresses (db/rate-limit-counters.ts).
import { createHash } from 'node:crypto';
import { pruneRateLimitCounters as pruneCounters, type RateLimitCounters } from '../db/rate-limit-counters.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../time/clock.ts';
import { admits, retryAfterSeconds, type WindowCounts } from './sliding-window.ts';

const FLUSH_MS = 200;
const STALE_MS = 1000;

export interface RateRule {
  /** Names the limit in keys and logs: `token`, `signin-account`, … */
  readonly name: string;
  /** Requests per window; 0 turns the rule off. */
  readonly limit: number;
  readonly windowSeconds: number;
}

type Verdict =
  | {
      readonly allowed: true;
      /** Un-counts this request, when it turns out not to count (e.g. failed client authentication). */
      refund(): void;
    }
  | {
      readonly allowed: false;
      readonly retryAfterSeconds: number;
      /** The first refusal for this key in this window (in this process): audit and log it once. */
      readonly first: boolean;
    };

export interface RateLimiter {
  /** Counts one request for `key` under `rule` if it fits, or refuses it. */
  take(rule: RateRule, key: string): Promise<Verdict>;
  /** Pushes local counts to the database now. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

interface Slot {
  readonly key: string;
  readonly windowStart: number; // epoch seconds
  readonly windowSeconds: number;
  shared: number; // the database total when last read, including our flushed counts
  pending: number; // counted here, not yet added to the database
  readAt: number; // when `shared` was read (ms); 0 = never
  reading: Promise<void> | undefined;
  refused: boolean;
}

export function createRateLimiter(deps: { counters: RateLimitCounters; log: Logger; now: Clock }): RateLimiter {
  const { now } = deps;
  const slots = new Map<string, Slot>();
  const hashed = (rule: RateRule, key: string): string => createHash('sha256').update(`${rule.name}\0${key}`).digest('base64url').slice(0, 32);

  const slot = (key: string, windowStart: number, windowSeconds: number): Slot => {
    const id = `${key}@${windowStart}`;
    let s = slots.get(id);
    if (!s) {
      s = { key, windowStart, windowSeconds, shared: 0, pending: 0, readAt: 0, reading: undefined, refused: false };
      slots.set(id, s);
    }
    return s;
  };

  // Reads the shared totals of both windows of a key in one query (coalesced per key).
  const refresh = async (prev: Slot, curr: Slot, at: number): Promise<void> => {
    if (curr.reading) return curr.reading;
    const reading = deps.counters
      .read(curr.key, [prev.windowStart, curr.windowStart])
      .then((counts) => {
        for (const s of [prev, curr]) {
          // Never below what we already know: our own flushed counts are in it.
          s.shared = Math.max(s.shared, counts.get(s.windowStart) ?? 0);
          s.readAt = at;
        }
      })
      .catch((err: unknown) => {
        // Without the database this process still enforces the limit on its own counts.
        deps.log.warn('rate limit counters could not be read; limiting on local counts', { err: (err as Error).message });
        curr.readAt = prev.readAt = at;
      })
      .finally(() => {
        curr.reading = undefined;
      });
    curr.reading = reading;
    return reading;
  };

  let flushing: Promise<void> | undefined;
  const flushOnce = async (): Promise<void> => {
    const due = [...slots.values()].filter((s) => s.pending !== 0);
    if (due.length) {
      const sent = due.map((s) => s.pending);
      try {
        const totals = await deps.counters.add(due.map((s, i) => ({ key: s.key, windowStart: s.windowStart, count: sent[i] ?? 0 })));
        const at = now();
        for (const [i, s] of due.entries()) {
          s.pending -= sent[i] ?? 0;
          s.shared = totals[i] ?? s.shared;
          s.readAt = at;
        }
      } catch (err) {
        deps.log.warn('rate limit counters could not be shared; will retry', { err: (err as Error).message });
      }
    }
    // A window stops mattering once it is neither the current nor the previous one.
    const nowSec = now() / 1000;
    for (const [id, s] of slots) if (s.windowStart + 2 * s.windowSeconds <= nowSec) slots.delete(id);
  };
  const flush = (): Promise<void> => {
    flushing ??= flushOnce().finally(() => {
      flushing = undefined;
    });
    return flushing;
  };
  const timer = setInterval(() => void flush(), FLUSH_MS);
  timer.unref();

  const windowsOf = (rule: RateRule, key: string, at: number): { prev: Slot; curr: Slot; counts: () => WindowCounts } => {
    const w = rule.windowSeconds;
    const start = Math.floor(at / 1000 / w) * w;
    const id = hashed(rule, key);
    const prev = slot(id, start - w, w);
    const curr = slot(id, start, w);
    const counts = (): WindowCounts => ({
      previous: prev.shared + prev.pending,
      current: curr.shared + curr.pending,
      elapsed: (at / 1000 - start) / w,
    });
    return { prev, curr, counts };
  };

  return {
    async take(rule, key) {
      if (rule.limit <= 0) return { allowed: true, refund: () => undefined };
      const at = now();
      const { prev, curr, counts } = windowsOf(rule, key, at);
      if (at - curr.readAt > STALE_MS) await refresh(prev, curr, at);
      const c = counts();
      if (admits(c, rule.limit)) {
        curr.pending++;
        let refunded = false;
        return {
          allowed: true,
          refund() {
            if (refunded) return;
            refunded = true;
            curr.pending--;
          },
        };
      }
      const first = !curr.refused;
      curr.refused = true;
      return { allowed: false, retryAfterSeconds: retryAfterSeconds(c, rule.limit, rule.windowSeconds), first };
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}

/** Deletes counters of windows that ended long ago (maintenance; windows are at most an hour). */
export async function pruneRateLimitCounters(db: Pick<Database, 'sql'>, now: number): Promise<number> {
  return pruneCounters(db, Math.floor(now / 1000) - 2 * 3600);
}

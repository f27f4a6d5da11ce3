// Rate-limit counters shared by every process through the database (src/ratelimit/rate-limiter.ts
// decides; this keeps the rows). Keys arrive hashed: the table holds no client ids, emails or
// addresses.
import type { Database } from './database.ts';

const UPSERT =
  'INSERT INTO "RateLimitCounter" ("key", "windowStart", "count") VALUES (?, ?, ?) ' +
  'ON CONFLICT ("key", "windowStart") DO UPDATE SET "count" = "RateLimitCounter"."count" + excluded."count" RETURNING "count"';

interface CounterAdd {
  readonly key: string;
  /** Epoch seconds. */
  readonly windowStart: number;
  readonly count: number;
}

export interface RateLimitCounters {
  /** The shared counts of `key` in the given windows (a window with no row is absent). */
  read(key: string, windowStarts: readonly [number, number]): Promise<Map<number, number>>;
  /** Adds each count to its row in one transaction; returns the totals, in order. */
  add(adds: readonly CounterAdd[]): Promise<number[]>;
}

export function rateLimitCounters(db: Pick<Database, 'sql'>): RateLimitCounters {
  return {
    async read(key, [first, second]) {
      const rows = await db.sql.query<{ windowStart: unknown; count: unknown }>('SELECT "windowStart", "count" FROM "RateLimitCounter" WHERE "key" = ? AND "windowStart" IN (?, ?)', [
        key,
        first,
        second,
      ]);
      return new Map(rows.map((r) => [Number(r.windowStart), Number(r.count ?? 0)]));
    },
    add: (adds) =>
      db.sql.transaction(async (tx) => {
        const out: number[] = [];
        for (const a of adds) {
          const [row] = await tx.query<{ count: unknown }>(UPSERT, [a.key, a.windowStart, a.count]);
          out.push(Number(row?.count ?? 0));
        }
        return out;
      }),
  };
}

/** Deletes counters of windows that started before `before` (epoch seconds). */
export async function pruneRateLimitCounters(db: Pick<Database, 'sql'>, before: number): Promise<number> {
  return db.sql.execute('DELETE FROM "RateLimitCounter" WHERE "windowStart" < ?', [before]);
}

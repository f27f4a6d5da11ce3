// The console overview's token counts (TokenRollup): written with each request-path audit batch
// (src/audit/token-rollup-records.ts counts the batch), read by the overview, pruned by the
// server's maintenance. Buckets are minutes since the epoch (UTC) of a size per dimension
// (BUCKET_MINUTES): every minute for the time series and the grant types, whole hours for scopes
// (a catalogue's worth of keys), six hours for clients, so 24 hours read at most 1,440 rows per
// grant type, 25 per scope and 5 per client, however many tokens were issued. Clients are the
// dimension that grows: measured with 10,000 clients active every hour, summing their hourly
// rows (240,000) for the top ten took 115–380 ms on the 2-core machine, on either database.
import type { Database } from './database.ts';
import type { SqlStatement } from './audit-log.ts';

/** grant: keyed by grant type; client: by client id; scope: by scope (issued tokens only). */
export type RollupDimension = 'grant' | 'client' | 'scope';

/** Each dimension's bucket, in minutes. The migration's backfill uses the same sizes. */
const BUCKET_MINUTES: Readonly<Record<RollupDimension, number>> = { grant: 1, scope: 60, client: 360 };

/** The start of the `dimension` bucket holding `minute` (minutes since the epoch). */
export const bucketOf = (dimension: RollupDimension, minute: number): number => minute - (((minute % BUCKET_MINUTES[dimension]) + BUCKET_MINUTES[dimension]) % BUCKET_MINUTES[dimension]);

export interface RollupRow {
  readonly dimension: RollupDimension;
  /** The bucket's start, minutes since the epoch (UTC). */
  readonly minute: number;
  /** The grant type, client id or scope; '' when the record names none. */
  readonly key: string;
  readonly issued: number;
  readonly refused: number;
}

export interface MinuteCount {
  /** The minute, ISO 8601 without seconds (UTC): 2026-12-05T10:20 */
  readonly minute: string;
  readonly issued: number;
  readonly refused: number;
}

export interface KeyedCount {
  readonly key: string;
  readonly issued: number;
  readonly refused: number;
}

/** Rows older than the overview shows (24 h, from the start of a bucket: up to 30 h) go after this long. */
export const TOKEN_ROLLUP_KEEP_MS = 48 * 3_600_000;
/** At most this many rows per delete: each is a short write, however far behind pruning is. */
const PRUNE_CHUNK = 5000;

/**
 * Adds `rows` (distinct keys: one statement may not touch a row twice) to their buckets. Several
 * instances add to the same row at once; each addition is atomic (INSERT … ON CONFLICT DO UPDATE,
 * the same on both databases), so none is lost.
 */
export function addToTokenRollup(rows: readonly RollupRow[]): SqlStatement | undefined {
  if (!rows.length) return undefined;
  return {
    sql: `INSERT INTO "TokenRollup" ("dimension", "minute", "key", "issued", "refused") VALUES ${rows.map(() => '(?, ?, ?, ?, ?)').join(', ')}
     ON CONFLICT ("dimension", "minute", "key") DO UPDATE SET "issued" = "TokenRollup"."issued" + excluded."issued", "refused" = "TokenRollup"."refused" + excluded."refused"`,
    params: rows.flatMap((r) => [r.dimension, r.minute, r.key, r.issued, r.refused]),
  };
}

type Summed = { k: unknown; i: unknown; r: unknown };
const counted = (r: Summed): KeyedCount => ({ key: String(r.k), issued: Number(r.i), refused: Number(r.r) });
const isoMinute = (minute: number): string => new Date(minute * 60_000).toISOString().slice(0, 16);

/** Tokens issued and refused per minute from `sinceMinute` (minutes without any are absent). */
export async function tokensPerMinute(db: Pick<Database, 'sql'>, sinceMinute: number): Promise<MinuteCount[]> {
  const rows = await db.sql.query<Summed>(
    `SELECT "minute" AS "k", SUM("issued") AS "i", SUM("refused") AS "r" FROM "TokenRollup" WHERE "dimension" = 'grant' AND "minute" >= ? GROUP BY "minute" ORDER BY "minute"`,
    [sinceMinute],
  );
  return rows.map((r) => ({ minute: isoMinute(Number(r.k)), issued: Number(r.i), refused: Number(r.r) }));
}

/**
 * Issued and refused from `sinceMinute` per grant type, client or scope (scopes: issued only), the
 * largest `limit` by total, ties by key.
 */
export async function tokensBy(db: Pick<Database, 'sql'>, dimension: RollupDimension, sinceMinute: number, limit: number): Promise<KeyedCount[]> {
  if (!Number.isSafeInteger(limit)) throw new TypeError('limit must be an integer');
  const rows = await db.sql.query<Summed>(
    `SELECT "key" AS "k", SUM("issued") AS "i", SUM("refused") AS "r" FROM "TokenRollup" WHERE "dimension" = ? AND "minute" >= ? GROUP BY "key" ORDER BY SUM("issued") + SUM("refused") DESC, "key" LIMIT ${limit}`,
    [dimension, sinceMinute],
  );
  return rows.map(counted);
}

/**
 * Deletes buckets that started before `beforeMinute`, a bounded chunk per statement (each its
 * own short transaction, so SQLite's writer is never held long and instances pruning at once
 * only find less to delete). Returns how many rows went.
 */
export async function pruneTokenRollup(db: Pick<Database, 'sql'>, beforeMinute: number, maxRounds = 20): Promise<number> {
  let removed = 0;
  for (const dimension of ['grant', 'client', 'scope'] as const) {
    for (let round = 0; round < maxRounds; round++) {
      const n = await db.sql.execute(
        `DELETE FROM "TokenRollup" WHERE ("dimension", "minute", "key") IN (SELECT "dimension", "minute", "key" FROM "TokenRollup" WHERE "dimension" = ? AND "minute" < ? LIMIT ${PRUNE_CHUNK})`,
        [dimension, beforeMinute],
      );
      removed += n;
      if (n < PRUNE_CHUNK) break;
    }
  }
  return removed;
}

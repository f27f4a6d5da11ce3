// The console overview's token counts (TokenRollup): written with each request-path audit batch
// (src/audit/token-rollup-records.ts counts the batch), read by the overview, pruned by the
// server's maintenance. Buckets are minutes since the epoch (UTC): every minute for the time
// series and the grant types, whole hours for clients and scopes, so 24 hours read at most 1,440
// rows per grant type and 24 per client or scope, however many tokens were issued.
import type { Database } from './database.ts';
import type { SqlStatement } from './audit-log.ts';

/** grant: per minute, keyed by grant type; client and scope: per hour. */
export type RollupDimension = 'grant' | 'client' | 'scope';

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

/** Rows older than the overview shows (24 h, read from whole hours) go after this long. */
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

// Token status list indices (draft-ietf-oauth-status-list-20 §6: a token's place in a list):
// one counter, shared by every process and instance on the database, from which each reserves
// whole blocks. The counter is a row of Meta; a reservation is one short transaction serialized
// with every other (an advisory lock on PostgreSQL, the write lock on SQLite), so no index is
// ever handed out twice (the draft's "double allocation", §13.3). Issuance takes indices from
// its block in memory: one write per block, never one per token.
import type { Database } from './database.ts';

const NEXT_INDEX_META = 'status_list_next_index';
const STATUS_INDEX_LOCK = 0x67617534; // "gau4": an arbitrary constant shared by every govauth process

const readCounter = (value: unknown): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`Meta ${NEXT_INDEX_META} holds ${JSON.stringify(value)}, not an index`);
  return n;
};

/**
 * Reserves `size` consecutive indices, aligned on `size` and inside one list of `listSize`
 * indices (a block never straddles two lists), and returns the first.
 */
export async function reserveStatusIndices(db: Pick<Database, 'sql'>, size: number, listSize: number): Promise<number> {
  if (!Number.isSafeInteger(size) || size < 1 || listSize % size !== 0) throw new TypeError('a block must be a positive divisor of the list size');
  return db.sql.transaction(
    async (tx) => {
      const [row] = await tx.query<{ value: unknown }>('SELECT "value" FROM "Meta" WHERE "key" = ?', [NEXT_INDEX_META]);
      const next = row ? readCounter(row.value) : 0;
      const start = Math.ceil(next / size) * size;
      const value = String(start + size);
      if (row) await tx.execute('UPDATE "Meta" SET "value" = ? WHERE "key" = ?', [value, NEXT_INDEX_META]);
      else await tx.execute('INSERT INTO "Meta" ("key", "value") VALUES (?, ?)', [NEXT_INDEX_META, value]);
      return start;
    },
    { advisoryLock: STATUS_INDEX_LOCK },
  );
}

/** One past the highest index any process has reserved (0: none yet). */
export async function statusIndexHighWater(db: Pick<Database, 'sql'>): Promise<number> {
  const [row] = await db.sql.query<{ value: unknown }>('SELECT "value" FROM "Meta" WHERE "key" = ?', [NEXT_INDEX_META]);
  return row ? readCounter(row.value) : 0;
}

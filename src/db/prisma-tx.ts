// A Prisma interactive transaction presented as the plain-SQL seam's RawTx, so statements
// written once for the hot path (the audit append) also run inside the administrative
// transactions Prisma opens (change feed, retention, checkpoints, key rotation), with the
// dialect's placeholders, time encoding and lock.
import type { Tx } from './database.ts';
import type { Dialect } from './dialect.ts';
import type { RawTx } from './raw-sql.ts';

export interface LockingTx extends RawTx {
  /** Serializes the rest of this transaction with every other naming `key` (Dialect.lockStatement). */
  lock(key: number): Promise<void>;
}

export function rawTxOf(tx: Tx, dialect: Dialect): LockingTx {
  return {
    query: <T>(sql: string, params: readonly unknown[] = []) => tx.$queryRawUnsafe<T[]>(dialect.placeholders(sql), ...params),
    execute: (sql: string, params: readonly unknown[] = []) => tx.$executeRawUnsafe(dialect.placeholders(sql), ...params),
    time: dialect.time,
    async lock(key: number) {
      const statement = dialect.lockStatement(key);
      if (statement !== undefined) await tx.$executeRawUnsafe(statement);
    },
  };
}

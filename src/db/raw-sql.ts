// Plain SQL on the database's own driver, for the one hot write path where Prisma's per-query
// cost matters: audit appends (measured: a one-record audit batch with its scope-usage upserts
// took 11 ms through Prisma, mostly main-thread CPU, against well under 1 ms of SQL). Statements
// use `?` placeholders and double-quoted identifiers, valid on both databases; PostgreSQL gets
// them renumbered. Timestamps are written the way Prisma writes them, so Prisma reads them back.
import pg from 'pg';
import type { Client as LibsqlClient } from '@libsql/client';
import type { DatabaseTarget } from './database.ts';
import { createSqliteClient } from './sqlite-client.ts';

export interface RawTx {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** A timestamp as the database stores it (Prisma's encoding). */
  time(date: Date): unknown;
}

export interface RawSql {
  readonly kind: DatabaseTarget['kind'];
  transaction<T>(work: (tx: RawTx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const toPg = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

export function createRawSql(target: DatabaseTarget, options: { lockWaitMs?: number; poolSize?: number } = {}): RawSql {
  if (target.kind === 'sqlite') {
    const client: LibsqlClient = createSqliteClient({ url: target.url }, { busyTimeoutMs: 10, retryDeadlineMs: options.lockWaitMs ?? 5000 });
    // One long-lived connection driving BEGIN IMMEDIATE … COMMIT itself: libsql's
    // transaction() hands its connection away and opens a fresh one afterwards, which cost
    // ~0.6 ms per audit batch in connection setup and statement preparation. Transactions on
    // this client never overlap (its only user, the audit writer, runs one batch at a time).
    let busy: Promise<unknown> = Promise.resolve();
    return {
      kind: 'sqlite',
      transaction(work) {
        const run = async () => {
          await client.execute('BEGIN IMMEDIATE'); // the write lock, up front (retried on BUSY)
          try {
            const result = await work({
              async query<T>(sql: string, params: readonly unknown[] = []) {
                return (await client.execute({ sql, args: params as never })).rows as unknown as T[];
              },
              time: (date) => date.toISOString().replace('Z', '+00:00'),
            });
            await client.execute('COMMIT');
            return result;
          } catch (err) {
            await client.execute('ROLLBACK').catch(() => undefined);
            throw err;
          }
        };
        const next = busy.then(run, run);
        busy = next.catch(() => undefined);
        return next;
      },
      close: () => Promise.resolve(client.close()),
    };
  }
  const pool = new pg.Pool({ connectionString: target.url, max: options.poolSize ?? 2 });
  pool.on('error', () => undefined); // idle-client errors surface on the next query instead
  return {
    kind: 'postgresql',
    async transaction(work) {
      const conn = await pool.connect();
      try {
        await conn.query('BEGIN');
        const result = await work({
          async query<T>(sql: string, params: readonly unknown[] = []) {
            return (await conn.query(toPg(sql), params as unknown[])).rows as T[];
          },
          // timestamp(3) without time zone holds UTC wall time, as Prisma writes it.
          time: (date) => date.toISOString().replace('Z', ''),
        });
        await conn.query('COMMIT');
        return result;
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        conn.release();
      }
    },
    close: () => pool.end(),
  };
}

// Plain SQL on the database's own driver, for the hot paths where Prisma's per-query cost
// matters: audit appends and oidc-provider's storage (measured: a one-record audit batch with
// its scope-usage upserts took 11 ms through Prisma, mostly main-thread CPU, against well under
// 1 ms of SQL; Prisma's upsert also opens a transaction, and libsql a fresh connection, each
// time). Statements use `?` placeholders and double-quoted identifiers, valid on both
// databases; the dialect (dialect.ts) renumbers them for PostgreSQL and writes timestamps the
// way Prisma does, so Prisma reads them back. One instance per process (Database.sql): on SQLite that is
// one libsql connection with prepared statements (sqlite-raw.ts) whose statements are queued,
// so this process never contends with itself for the write lock.
import pg from 'pg';
import type { DatabaseTarget } from './database.ts';
import { dialectOf, sqlitePath, type Dialect } from './dialect.ts';
import { createSqliteRawSql } from './sqlite-raw.ts';
import { traceRawSql } from './traced-sql.ts';
import type { Tracing } from '../tracing/tracing.ts';

export interface RawTx {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a statement; returns the number of rows it changed. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
  /** A timestamp as the database stores it (Prisma's encoding: Dialect.time). */
  time(date: Date): unknown;
}

export interface RawSql extends RawTx {
  readonly dialect: Dialect;
  /**
   * Runs `work` in one transaction. `advisoryLock` serializes it with every other transaction
   * naming the same key, in any process: on PostgreSQL a transaction-scoped advisory lock taken
   * with BEGIN (one round trip), on SQLite the database write lock BEGIN IMMEDIATE takes anyway.
   */
  transaction<T>(work: (tx: RawTx) => Promise<T>, options?: { advisoryLock?: number }): Promise<T>;
  /** Connections of this pool now: open, idle, and callers waiting for one (metrics). */
  poolStats(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

/**
 * The process's one PostgreSQL pool, shared by Prisma (database.ts) and the plain-SQL seam.
 * Fails fast when the database is unreachable (pg waits forever by default): requests answer
 * 503 and the pool reconnects by itself when it is back.
 */
export function openPgPool(url: string, size: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: size, connectionTimeoutMillis: 3000, query_timeout: 15_000 });
  pool.on('error', () => undefined); // idle-client errors surface on the next query instead
  return pool;
}

export interface RawSqlOptions {
  readonly lockWaitMs?: number;
  readonly poolSize?: number;
  readonly tracing?: Tracing;
  /** PostgreSQL: the process's pool (openPgPool), which the caller owns and ends; else one of its own. */
  readonly pool?: pg.Pool;
}

export function createRawSql(target: DatabaseTarget, options: RawSqlOptions = {}): RawSql {
  const sql = openRawSql(target, options);
  // Only when tracing is on: otherwise the statements run unwrapped, as before.
  return options.tracing?.enabled ? traceRawSql(sql, options.tracing) : sql;
}

function openRawSql(target: DatabaseTarget, options: RawSqlOptions): RawSql {
  if (target.kind === 'sqlite') {
    // A short synchronous lock wait on the request path: libsql blocks the event loop for it,
    // stalling every request of this process while another process commits. 2 ms covers a
    // typical commit by the other worker; beyond it a BUSY is retried asynchronously
    // (sqlite-raw.ts) while audit records keep queueing into the next group commit.
    // Measured, 2 workers on one file, alternating rounds (busy_timeout 10 / 2 / 0 ms):
    // introspection 2686 / 2920 / 3399 req/s; rotating refresh 385 / 443 / 461 req/s with p99
    // 159 / 145 / 542 ms: without any wait, a process backing off loses the lock again and again.
    return createSqliteRawSql(sqlitePath(target.url), { busyTimeoutMs: 2, retryDeadlineMs: options.lockWaitMs ?? 5000 });
  }
  const owned = options.pool === undefined;
  const pool = options.pool ?? openPgPool(target.url, options.poolSize ?? 8);
  const dialect = dialectOf('postgresql');
  const { time, placeholders } = dialect;
  return {
    dialect,
    async query<T>(sql: string, params: readonly unknown[] = []) {
      return (await pool.query(placeholders(sql), params as unknown[])).rows as T[];
    },
    async execute(sql: string, params: readonly unknown[] = []) {
      return (await pool.query(placeholders(sql), params as unknown[])).rowCount ?? 0;
    },
    time,
    async transaction(work, options = {}) {
      const { advisoryLock } = options;
      const lock = advisoryLock === undefined ? undefined : dialect.lockStatement(advisoryLock);
      const conn = await pool.connect();
      // node-postgres emits 'error' on a checked-out client whose socket ends (the database
      // restarts, a proxy cuts it), even with a query in flight; unheard, that event is an
      // uncaught exception that takes the whole process down. The queries of `work` reject
      // on their own; the event only marks the connection as one never to reuse.
      let broken: Error | undefined;
      const onError = (err: Error): void => void (broken ??= err);
      conn.on('error', onError);
      try {
        // Without parameters node-postgres uses the simple query protocol, which takes both
        // statements in one message; the lock statement holds no parameter.
        await conn.query(lock === undefined ? 'BEGIN' : `BEGIN; ${lock}`);
        const result = await work({
          async query<T>(sql: string, params: readonly unknown[] = []) {
            return (await conn.query(placeholders(sql), params as unknown[])).rows as T[];
          },
          async execute(sql: string, params: readonly unknown[] = []) {
            return (await conn.query(placeholders(sql), params as unknown[])).rowCount ?? 0;
          },
          time,
        });
        await conn.query('COMMIT');
        return result;
      } catch (err) {
        // A connection whose ROLLBACK failed may still be inside the transaction: destroy it.
        if (!broken) await conn.query('ROLLBACK').catch((rollbackErr: Error) => onError(rollbackErr));
        throw err;
      } finally {
        conn.off('error', onError);
        conn.release(broken); // an Error here makes the pool discard the connection
      }
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => (owned ? pool.end() : Promise.resolve()),
  };
}

// Plain SQL on SQLite through libsql's own statement API (the `libsql` package that
// @libsql/client wraps), with prepared statements kept per connection. @libsql/client prepares
// every statement again on each execute and converts every row; for the audit batch (BEGIN,
// chain tail, insert, scope usage, COMMIT per group commit) that was most of the request
// path's database CPU. Measured, 12-record batch in WAL mode, synchronous=FULL: 895 µs CPU
// through @libsql/client, ~380 µs with cached statements (bench/README.md).
//
// One connection per process, statements run one at a time (serial below), so a transaction
// never sees another caller's statement; writes outside a transaction are group-committed
// (groupedExecute below). The lock handling is sqlite-client.ts's (sqlite-busy.ts):
// a short synchronous busy_timeout (libsql blocks the event loop while it waits), then asynchronous
// retries with jittered backoff until a deadline. Every statement, BEGIN and COMMIT included,
// comes from the cache, and that matters: a statement that failed with SQLITE_BUSY stays active
// until it runs again, and an active statement makes a later COMMIT on the connection fail
// ("SQL statements in progress"); closing the connection does not help, as SQLite keeps it
// (and any lock it holds) open until its statements are finalized by the garbage collector.
// So a BUSY statement is retried as the same object, a failed transaction is rolled back on its
// own connection, and a connection is dropped only when it holds no transaction.
import Database from 'libsql';
import { dialectOf } from './dialect.ts';
import type { RawSql, RawTx } from './raw-sql.ts';
import { isBusy, retryBusy } from './sqlite-busy.ts';

// Most statements are fixed texts; the audit batch's multi-row INSERTs vary with the batch size
// (one text per size seen), so the cache is bounded and the oldest statement goes first. Those
// run inside a transaction, never with BUSY, so an evicted statement is never left active.
const MAX_STATEMENTS = 64;

type Statement = ReturnType<InstanceType<typeof Database>['prepare']>;

function toSqlValue(value: unknown): unknown {
  if (value === undefined) throw new TypeError('undefined cannot be passed as argument to the database');
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && !Number.isFinite(value)) throw new RangeError('only finite numbers can be passed as arguments');
  if (value instanceof Date) return value.valueOf();
  return value;
}

export function createSqliteRawSql(path: string, lock: { busyTimeoutMs: number; retryDeadlineMs: number }): RawSql {
  let db: InstanceType<typeof Database> | undefined;
  let statements = new Map<string, Statement>();
  let inTransaction = false;

  const connection = (): InstanceType<typeof Database> => {
    if (!db) {
      db = new Database(path);
      db.prepare(`PRAGMA busy_timeout = ${Math.floor(lock.busyTimeoutMs)}`).get();
    }
    return db;
  };
  const discard = (): void => {
    const broken = db;
    db = undefined;
    statements = new Map();
    try {
      broken?.close();
    } catch {
      // already unusable; nothing more to release
    }
  };
  const prepared = (sql: string): Statement => {
    let stmt = statements.get(sql);
    if (!stmt) {
      stmt = connection().prepare(sql);
      if (statements.size >= MAX_STATEMENTS) statements.delete(statements.keys().next().value as string);
      statements.set(sql, stmt);
    }
    return stmt;
  };
  const run = (sql: string, params: readonly unknown[]): { rows: unknown[]; changes: number } => {
    const stmt = prepared(sql);
    const args = params.map(toSqlValue);
    if (stmt.reader) return { rows: stmt.all(args), changes: 0 };
    return { rows: [], changes: Number((stmt.run(args) as { changes: number | bigint }).changes) };
  };
  // A BUSY outside a transaction is retried until the deadline; inside one it cannot happen
  // (BEGIN IMMEDIATE took the write lock), and any error goes to the caller, who rolls back.
  const runRetrying = async (sql: string, params: readonly unknown[]): Promise<{ rows: unknown[]; changes: number }> => {
    const retrying = !inTransaction;
    try {
      return await retryBusy(() => run(sql, params), retrying ? lock.retryDeadlineMs : 0);
    } catch (err) {
      if (retrying && isBusy(err)) discard(); // its BUSY statement stays active; the next caller gets a fresh connection
      throw err;
    }
  };

  let busy: Promise<unknown> = Promise.resolve();
  let queued = 0; // operations running or waiting for the connection (poolStats)
  const serial = <T>(op: () => Promise<T>): Promise<T> => {
    queued++;
    const next = busy.then(op, op);
    busy = next.catch(() => undefined).finally(() => queued--);
    return next;
  };

  // BEGIN IMMEDIATE … COMMIT around `work`, rolled back on any error; callers hold `serial`.
  const atomically = async <T>(work: () => Promise<T> | T): Promise<T> => {
    await runRetrying('BEGIN IMMEDIATE', []); // the write lock, up front (retried on BUSY)
    inTransaction = true;
    try {
      const result = await work();
      run('COMMIT', []);
      return result;
    } catch (err) {
      try {
        if (db?.inTransaction) run('ROLLBACK', []);
      } catch {
        discard(); // cannot happen short of a broken connection; never reuse one mid-transaction
      }
      throw err;
    } finally {
      inTransaction = false;
    }
  };

  // Group commit for statements outside a transaction (oidc-provider's storage writes: a code
  // exchange, a refresh rotation, each sign-in step). With synchronous=FULL every commit waits
  // for an fsync on the event loop (~0.6 ms here), and a refresh makes two, so refresh
  // throughput was one process's fsync rate (measured: rotating refresh +52 % with 1 worker,
  // +34 % with 2, bench/README.md). Writes issued in the same event-loop turn, or
  // while the connection is busy, now share one transaction and one fsync; each caller still
  // hears only after the commit, and gets its own row count or its own error (a failing
  // statement is rolled back alone). One failure that ends the transaction fails them all.
  interface Write {
    readonly sql: string;
    readonly params: readonly unknown[];
    readonly resolve: (changes: number) => void;
    readonly reject: (err: unknown) => void;
  }
  let writes: Write[] = [];
  let writesScheduled = false;
  const commitWrites = (): Promise<void> =>
    serial(async () => {
      writesScheduled = false;
      const batch = writes;
      writes = [];
      if (batch.length === 0) return;
      if (batch.length === 1) {
        const [w] = batch as [Write];
        await runRetrying(w.sql, w.params).then((r) => w.resolve(r.changes), w.reject);
        return;
      }
      const outcomes: ({ changes: number } | { err: unknown })[] = [];
      try {
        await atomically(() => {
          for (const w of batch) {
            try {
              outcomes.push({ changes: run(w.sql, w.params).changes });
            } catch (err) {
              if (!db?.inTransaction) throw err; // SQLite ended the transaction: nothing in it stands
              outcomes.push({ err });
            }
          }
        });
      } catch (err) {
        for (const w of batch) w.reject(err);
        return;
      }
      batch.forEach((w, i) => {
        const o = outcomes[i];
        if (o && 'changes' in o) w.resolve(o.changes);
        else w.reject(o?.err);
      });
    });
  const groupedExecute = (sql: string, params: readonly unknown[]): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      writes.push({ sql, params, resolve, reject });
      if (writesScheduled) return;
      writesScheduled = true;
      setImmediate(() => void commitWrites());
    });

  const dialect = dialectOf('sqlite');
  const { time } = dialect;
  const direct: RawTx = {
    async query<T>(sql: string, params: readonly unknown[] = []) {
      return (await runRetrying(sql, params)).rows as T[];
    },
    async execute(sql: string, params: readonly unknown[] = []) {
      return (await runRetrying(sql, params)).changes;
    },
    time,
  };
  return {
    dialect,
    query: (sql, params) => serial(() => direct.query(sql, params)),
    execute: (sql, params = []) => groupedExecute(sql, params),
    time,
    transaction: (work) => serial(() => atomically(() => work(direct))),
    // One connection: busy while an operation runs; the others (and grouped writes not yet
    // started) wait behind it.
    poolStats: () => ({ total: db ? 1 : 0, idle: db && queued === 0 ? 1 : 0, waiting: Math.max(0, queued - 1) + writes.length }),
    async close() {
      await commitWrites(); // writes already issued still land (and their callers hear)
      discard();
    },
  };
}

// libsql needs two corrections to be a safe embedded default for a server that shares its
// database file with the `govauth` CLI (measured on this project's machines):
// 1. A new libsql connection has busy_timeout = 0, so a write that meets another process's
//    lock fails at once with SQLITE_BUSY; and libsql's transaction() hands its connection to
//    the transaction and lazily opens a fresh one, dropping per-connection pragmas. We set
//    busy_timeout on every connection libsql opens.
// 2. Prisma's adapter begins interactive transactions DEFERRED; in WAL mode a deferred
//    transaction that read before writing fails with SQLITE_BUSY_SNAPSHOT if another process
//    committed meanwhile, and no timeout helps. We begin them IMMEDIATE (take the write lock up
//    front), the usual advice for SQLite with concurrent writers.
// 3. libsql runs statements synchronously, so busy_timeout blocks the whole event loop while it
//    waits, and two processes writing continuously starve each other past any short timeout
//    (measured: 148 of 160 audited token requests failed with two server processes). So the
//    synchronous wait is kept short and a BUSY is retried asynchronously with jittered backoff
//    until a deadline. Retrying is safe: BUSY is raised before a statement (or BEGIN
//    IMMEDIATE) has done anything.
import { createClient, type Client, type Config } from '@libsql/client';
import { PrismaLibSQL } from '@prisma/adapter-libsql';
import { isBusy, retryBusy } from './sqlite-busy.ts';

export interface SqliteLockOptions {
  /** Synchronous wait for a lock per attempt (blocks the event loop): keep it short. */
  readonly busyTimeoutMs: number;
  /** How long to keep retrying asynchronously before giving up with SQLITE_BUSY. */
  readonly retryDeadlineMs: number;
}

export function createSqliteClient(config: Config, lock: SqliteLockOptions): Client {
  const { busyTimeoutMs, retryDeadlineMs } = lock;
  // libsql leaves a statement that failed with BUSY un-reset on its connection; a later
  // COMMIT on that connection then fails ("SQL statements in progress") and the transaction
  // keeps the write lock. So after a BUSY the connection is discarded (closing it releases
  // anything it held) and the retry runs on a fresh one.
  let inner = createClient(config);
  let freshConnection = true;
  const prepare = async (): Promise<void> => {
    if (!freshConnection) return;
    freshConnection = false;
    await inner.execute(`PRAGMA busy_timeout = ${Math.floor(busyTimeoutMs)}`);
  };
  const attempt = <T>(op: () => Promise<T>): Promise<T> =>
    retryBusy(async () => {
      try {
        await prepare();
        return await op();
      } catch (err) {
        if (isBusy(err)) {
          const broken = inner;
          inner = createClient(config);
          freshConnection = true;
          broken.close();
        }
        throw err;
      }
    }, retryDeadlineMs);

  const client: Partial<Client> = {
    execute: (...args: Parameters<Client['execute']>) => attempt(() => inner.execute(...args)),
    batch: (...args: Parameters<Client['batch']>) => attempt(() => inner.batch(...args)),
    executeMultiple: (sql: string) => attempt(() => inner.executeMultiple(sql)),
    transaction: () =>
      attempt(async () => {
        const tx = await inner.transaction('write');
        freshConnection = true; // libsql opens a new connection on next use
        return tx;
      }),
    close: () => inner.close(),
    sync: () => inner.sync(),
  };
  return new Proxy(client as Client, {
    get(target, prop) {
      if (prop in target) return Reflect.get(target, prop) as unknown;
      const value: unknown = Reflect.get(inner, prop);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(inner) : value;
    },
  });
}

export class GovauthLibSQL extends PrismaLibSQL {
  readonly #lock: SqliteLockOptions;
  constructor(config: Config, lock: SqliteLockOptions) {
    super(config);
    this.#lock = lock;
  }
  override createClient(config: Config): Client {
    return createSqliteClient(config, this.#lock);
  }
}

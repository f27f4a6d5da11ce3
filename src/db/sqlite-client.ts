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
import { createClient, type Client, type Config } from '@libsql/client';
import { PrismaLibSQL } from '@prisma/adapter-libsql';

export function createSqliteClient(config: Config, busyTimeoutMs: number): Client {
  const inner = createClient(config);
  let freshConnection = true;
  const prepare = async (): Promise<void> => {
    if (!freshConnection) return;
    freshConnection = false;
    await inner.execute(`PRAGMA busy_timeout = ${Math.floor(busyTimeoutMs)}`);
  };
  const wrapped: Partial<Client> = {
    async execute(...args: Parameters<Client['execute']>) {
      await prepare();
      return inner.execute(...args);
    },
    async batch(...args: Parameters<Client['batch']>) {
      await prepare();
      return inner.batch(...args);
    },
    async executeMultiple(sql: string) {
      await prepare();
      return inner.executeMultiple(sql);
    },
    async transaction() {
      await prepare();
      const tx = await inner.transaction('write');
      freshConnection = true; // libsql opens a new connection on next use
      return tx;
    },
  };
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop in wrapped) return wrapped[prop as keyof Client];
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export class GovauthLibSQL extends PrismaLibSQL {
  readonly #busyTimeoutMs: number;
  constructor(config: Config, busyTimeoutMs: number) {
    super(config);
    this.#busyTimeoutMs = busyTimeoutMs;
  }
  override createClient(config: Config): Client {
    return createSqliteClient(config, this.#busyTimeoutMs);
  }
}

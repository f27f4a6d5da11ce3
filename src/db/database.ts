// Opens the Prisma client for the configured database. Both providers' generated clients
// expose the same API (they are rendered from one model file, see prisma/models.prisma); the
// PostgreSQL client's type is used as the common type. Only the selected client is imported.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseKind } from '../config/database-config.ts';
import { sqlitePath } from './dialect.ts';
import { loadSqliteClient } from './load-sqlite-client.ts';
import { createRawSql, openPgPool, type RawSql } from './raw-sql.ts';
import type { PrismaClient } from './generated/postgresql/client.ts';
import type { Clock } from '../time/clock.ts';
import type { Tracing } from '../tracing/tracing.ts';

export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];
/** A repository read runs on the database or inside a caller's transaction. */
export type Reader = Database | Tx;
/** The Prisma client (or transaction) to run a repository statement on. */
export const prismaOf = (h: Reader): Tx => ('prisma' in h ? h.prisma : h);

export interface DatabaseTarget {
  readonly kind: DatabaseKind;
  readonly url: string;
}

export interface Database {
  /** Read inside db/ only, through dialectOf(kind) (dialect.ts). */
  readonly kind: DatabaseKind;
  readonly url: string;
  readonly prisma: PrismaClient;
  /** Plain SQL on the driver, for the hot paths (raw-sql.ts); created on first use. */
  readonly sql: RawSql;
  /**
   * Spans for database work (src/tracing); absent (or NO_TRACING) when off. Not defaulted to
   * NO_TRACING here: that would load OpenTelemetry's SDK into every CLI run.
   */
  readonly tracing?: Tracing;
  /** The process's clock: timestamps the repositories write themselves (audit records' `at`). */
  readonly now: Clock;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** The one clock (src/time/clock.ts), injected by the composition root. */
  readonly now: Clock;
  /** How long SQLite writes keep retrying for another process's lock before failing. */
  readonly lockWaitMs?: number;
  /** PostgreSQL pool size per process. */
  readonly poolSize?: number;
  /** Spans for the plain-SQL seam (src/tracing); none when tracing is off. */
  readonly tracing?: Tracing;
}

export { sqlitePath };

export async function openDatabase(target: DatabaseTarget, options: OpenOptions): Promise<Database> {
  let prisma: PrismaClient;
  let pool: ReturnType<typeof openPgPool> | undefined;
  if (target.kind === 'sqlite') {
    mkdirSync(dirname(sqlitePath(target.url)), { recursive: true });
    const [{ PrismaClient: SqliteClient }, { GovauthLibSQL }] = await Promise.all([
      import('./generated/sqlite/client.ts'),
      loadSqliteClient(),
    ]);
    const adapter = new GovauthLibSQL({ url: target.url }, { busyTimeoutMs: 10, retryDeadlineMs: options.lockWaitMs ?? 5000 });
    prisma = new SqliteClient({ adapter }) as unknown as PrismaClient;
    // WAL lets readers proceed while one writer commits; it is persistent in the file.
    await prisma.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  } else {
    const [{ PrismaClient: PgClient }, { PrismaPg }] = await Promise.all([
      import('./generated/postgresql/client.ts'),
      import('@prisma/adapter-pg'),
    ]);
    // One pool per process for Prisma and the plain-SQL seam (the adapter takes an existing
    // pg.Pool and leaves it open at $disconnect: we end it in close()). The change listener
    // keeps a connection of its own (change-listener.ts): LISTEN holds it for the process's life.
    pool = openPgPool(target.url, options.poolSize ?? 10);
    prisma = new PgClient({ adapter: new PrismaPg(pool) });
  }
  let sql: RawSql | undefined;
  return {
    kind: target.kind,
    url: target.url,
    prisma,
    tracing: options.tracing,
    now: options.now,
    get sql() {
      sql ??= createRawSql(target, { lockWaitMs: options.lockWaitMs, tracing: options.tracing, pool });
      return sql;
    },
    async close() {
      await sql?.close();
      await prisma.$disconnect();
      await pool?.end();
    },
  };
}

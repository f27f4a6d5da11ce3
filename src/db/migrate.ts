// Applies pending migrations from prisma/<provider>/migrations at start, so `npm start` needs
// no separate step and no Prisma CLI at run time (the CLI's schema engine is slow to load and
// not needed to run committed SQL). The bookkeeping table is Prisma's own `_prisma_migrations`,
// so `prisma migrate status` agrees with us. Concurrent starts of several instances on one
// PostgreSQL database are serialized with the advisory lock Prisma Migrate itself uses.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sqlitePath, type DatabaseTarget } from './database.ts';
import { loadSqliteClient } from './load-sqlite-client.ts';

// Each driver loads when its database is migrated: the CLI runs this on every command, and a
// SQLite deployment never needs pg (nor PostgreSQL the libsql client).
const pgDriver = async () => (await import('pg')).default;

const PRISMA_MIGRATE_LOCK = 72707369; // the key Prisma Migrate passes to pg_advisory_lock

export interface Migration {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export function migrationsDir(kind: DatabaseTarget['kind']): string {
  return fileURLToPath(new URL(`../../prisma/${kind}/migrations/`, import.meta.url));
}

export function readMigrations(dir: string): Migration[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(`${dir}${name}/migration.sql`, 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

export class MigrationError extends Error {}

function plan(all: Migration[], applied: AppliedRow[]): Migration[] {
  const done = new Map<string, AppliedRow>();
  for (const row of applied) {
    if (row.rolled_back_at) continue;
    if (!row.finished_at) {
      throw new MigrationError(
        `migration ${row.migration_name} started but did not finish; inspect the database, fix it, then delete its row from _prisma_migrations`,
      );
    }
    done.set(row.migration_name, row);
  }
  for (const m of all) {
    const row = done.get(m.name);
    if (row && row.checksum !== m.checksum) {
      throw new MigrationError(`migration ${m.name} was modified after it was applied (checksum mismatch); migrations are append-only`);
    }
  }
  const known = new Set(all.map((m) => m.name));
  const unknown = [...done.keys()].filter((n) => !known.has(n));
  if (unknown.length) {
    throw new MigrationError(`the database has migrations this version does not know (${unknown.join(', ')}): is an older govauth running against a newer database?`);
  }
  return all.filter((m) => !done.has(m.name));
}

/** Whether `applied` holds every migration and nothing the plan would refuse. */
function isUpToDate(all: Migration[], applied: AppliedRow[]): boolean {
  try {
    return plan(all, applied).length === 0;
  } catch {
    return false; // refused again, with its message, under the lock
  }
}

/** Applies pending migrations; returns the names applied. */
export async function migrate(target: DatabaseTarget, dir = migrationsDir(target.kind)): Promise<string[]> {
  const all = readMigrations(dir);
  return target.kind === 'sqlite' ? migrateSqlite(target.url, all) : migratePostgres(target.url, all);
}

/**
 * Whether govauth has ever set up this database (its migrations table exists). Never creates
 * anything: a missing SQLite file stays missing (opening it would create it).
 */
export async function isInitialized(target: DatabaseTarget): Promise<boolean> {
  if (target.kind === 'sqlite') {
    if (!existsSync(sqlitePath(target.url))) return false;
    const { createSqliteClient } = await loadSqliteClient();
    const client = createSqliteClient({ url: target.url }, { busyTimeoutMs: 50, retryDeadlineMs: 30_000 });
    try {
      const { rows } = await client.execute(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'`);
      return rows.length > 0;
    } finally {
      client.close();
    }
  }
  const pg = await pgDriver();
  const client = new pg.Client({ connectionString: target.url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ found: string | null }>(`SELECT to_regclass('"_prisma_migrations"')::text AS found`);
    return rows[0]?.found != null;
  } finally {
    await client.end();
  }
}

async function migrateSqlite(url: string, all: Migration[]): Promise<string[]> {
  mkdirSync(dirname(sqlitePath(url)), { recursive: true });
  const { createSqliteClient } = await loadSqliteClient();
  const client = createSqliteClient({ url }, { busyTimeoutMs: 50, retryDeadlineMs: 30_000 });
  try {
    // Up to date (every CLI command and server start, nearly always): one read, no write lock,
    // so a command does not queue behind a busy server's writes. Anything else (no table yet,
    // pending migrations, a plan error) takes the path below, which decides under the lock.
    const current = await client.execute('SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"').catch(() => undefined);
    if (current && isUpToDate(all, current.rows as unknown as AppliedRow[])) return [];
    await client.execute('PRAGMA journal_mode = WAL');
    await client.execute(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME,
      "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME,
      "started_at" DATETIME NOT NULL DEFAULT current_timestamp, "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)`);
    const applied: string[] = [];
    for (;;) {
      // One migration per IMMEDIATE transaction: the plan is re-read under the write lock, so a
      // CLI and a server starting together cannot apply the same migration twice.
      const tx = await client.transaction('write');
      try {
        const rows = (await tx.execute('SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"')).rows;
        const next = plan(all, rows as unknown as AppliedRow[])[0];
        if (!next) {
          await tx.rollback();
          return applied;
        }
        await tx.executeMultiple(next.sql);
        await tx.execute({
          sql: `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
                VALUES (?, ?, ?, current_timestamp, current_timestamp, 1)`,
          args: [randomUUID(), next.checksum, next.name],
        });
        await tx.commit();
        applied.push(next.name);
      } catch (err) {
        tx.close();
        throw err;
      }
    }
  } finally {
    client.close();
  }
}

async function migratePostgres(url: string, all: Migration[]): Promise<string[]> {
  const pg = await pgDriver();
  const client = new pg.Client({ connectionString: url });
  // A connection lost mid-migration rejects the query in flight (reported below as a failed
  // migration); the 'error' event node-postgres also emits would otherwise be uncaught.
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
    const rows = (await client.query<AppliedRow>('SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"')).rows;
    const applied: string[] = [];
    for (const m of plan(all, rows)) {
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
           VALUES ($1, $2, $3, now(), now(), 1)`,
          [randomUUID(), m.checksum, m.name],
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined); // a lost connection rolls back by itself
        throw new MigrationError(`migration ${m.name} failed and was rolled back: ${(err as Error).message}`);
      }
      applied.push(m.name);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK]).catch(() => undefined);
    await client.end();
  }
}

// Backup and restore of the embedded SQLite database.
// The copy is `VACUUM INTO` (SQLite >= 3.27; libsql 0.3 bundles 3.44): it runs as one read
// transaction on its own connection, so it is a consistent snapshot of the database, WAL
// content included, while the server keeps committing (WAL readers never block the writer,
// https://sqlite.org/lang_vacuum.html#vacuuminto). libsql's better-sqlite3-style `.backup()`
// throws "not implemented" in 0.3.x, and copying the file (or the file and its -wal) while a
// server writes can capture a torn state. The result is a compact, self-contained database
// file (rollback journal; the server turns WAL back on when it opens it).
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import Database from 'libsql';
import { AppError } from '../errors/app-error.ts';
import { temporaryBeside, type AuditHead } from './backup-files.ts';
import { readTime } from './dialect.ts';

type Connection = InstanceType<typeof Database>;

function open(path: string): Connection {
  const db = new Database(path);
  // A checkpoint or WAL recovery by the server can hold a lock for a moment: wait for it.
  db.prepare('PRAGMA busy_timeout = 10000').get();
  return db;
}

const hasTable = (db: Connection, name: string): boolean => db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get([name]) !== undefined;

/** The last audit record in a copy: what `audit verify --checkpoint` can be given later. */
function auditHead(db: Connection): AuditHead | null {
  if (!hasTable(db, 'AuditEvent')) return null;
  const row = db.prepare('SELECT "seq", "hash", "at" FROM "AuditEvent" ORDER BY "seq" DESC LIMIT 1').get() as { seq: number; hash: string; at: string | number } | undefined;
  if (!row) return null;
  return { seq: Number(row.seq), hash: row.hash, at: new Date(readTime(row.at) ?? 0).toISOString() };
}

/** Checks a copy is whole and is a govauth database; returns its audit head. */
function checkCopy(db: Connection, what: string): AuditHead | null {
  const check = db.prepare('PRAGMA quick_check').get() as { quick_check?: string } | undefined;
  if (check?.quick_check !== 'ok') throw new AppError('invalid_request', `${what} is damaged (SQLite quick_check: ${check?.quick_check ?? 'no answer'})`);
  if (!hasTable(db, '_prisma_migrations')) throw new AppError('invalid_request', `${what} is a SQLite database but not a govauth one (no _prisma_migrations table)`);
  return auditHead(db);
}

/** Writes a consistent copy of the database at `source` to `tmp` (which must not exist). */
export function copySqlite(source: string, tmp: string): AuditHead | null {
  const db = open(source);
  try {
    db.prepare('VACUUM INTO ?').run([tmp]);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    db.close();
  }
  const copy = open(tmp);
  try {
    return checkCopy(copy, 'the copy');
  } catch (err) {
    copy.close();
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    if (copy.open) copy.close();
  }
}

/** Copies a backup to a temporary file beside `target` and checks it; the caller publishes it. */
export function stageSqliteRestore(file: string, target: string): string {
  const tmp = temporaryBeside(target);
  copyFileSync(file, tmp);
  const db = open(tmp);
  try {
    checkCopy(db, `backup ${file}`);
    return tmp;
  } catch (err) {
    db.close();
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    if (db.open) db.close();
  }
}

/**
 * A database file's WAL and shared-memory files belong to that file: left beside a restored
 * file of the same name, SQLite would replay the old database's WAL into it. The caller has made
 * sure no server uses the old database.
 */
export function removeSqliteSidecars(target: string): void {
  for (const suffix of ['-wal', '-shm', '-journal']) if (existsSync(`${target}${suffix}`)) rmSync(`${target}${suffix}`);
}

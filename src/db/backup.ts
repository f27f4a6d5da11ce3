// `govauth backup` and `govauth restore`, the database part: a consistent online copy of the
// configured database to one file, and that file put back into an empty (or, with --force, an
// unused SQLite) database. The copy of each kind lives beside this file (backup-sqlite.ts,
// backup-postgres.ts); the checks after a restore (migrations, audit chain, master key) are the
// command's (src/cli/commands/backup-commands.ts).
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AppError } from '../errors/app-error.ts';
import { backupFormat, publish, refuseExisting, temporaryBeside, type AuditHead } from './backup-files.ts';
import { dumpPostgres, postgresTables, restorePostgres } from './backup-postgres.ts';
import { copySqlite, removeSqliteSidecars, stageSqliteRestore } from './backup-sqlite.ts';
import { sqlitePath, type DatabaseTarget } from './database.ts';

export type { AuditHead };

export interface BackupReport {
  readonly file: string;
  readonly bytes: number;
  readonly format: 'sqlite' | 'pg_dump';
  readonly head: AuditHead | null;
}

export async function backupDatabase(target: DatabaseTarget, file: string, options: { force: boolean }): Promise<BackupReport> {
  const out = resolve(file);
  if (target.kind === 'sqlite') {
    const source = resolve(sqlitePath(target.url));
    if ([source, `${source}-wal`, `${source}-shm`].includes(out)) throw new AppError('invalid_request', `${out} is the database itself: write the backup to another file`);
  }
  refuseExisting(out, options.force, 'backup');
  if (!existsSync(dirname(out)) || !statSync(dirname(out)).isDirectory()) throw new AppError('not_found', `directory ${dirname(out)} does not exist: create it (readable only by the service user) first`);
  const tmp = temporaryBeside(out);
  const head = target.kind === 'sqlite' ? copySqlite(sqlitePath(target.url), tmp) : await dumpPostgres(target.url, tmp);
  const bytes = publish(tmp, out, options.force, 'backup');
  return { file: out, bytes, format: target.kind === 'sqlite' ? 'sqlite' : 'pg_dump', head };
}

export interface RestoreReport {
  readonly file: string;
  readonly bytes: number;
}

/**
 * Puts a backup into the configured database. `isInUse` is asked before an existing SQLite
 * database is replaced (--force); it names the servers still using it, if any.
 */
export async function restoreDatabase(
  target: DatabaseTarget,
  file: string,
  options: { force: boolean; inUse: () => Promise<string[]> },
): Promise<RestoreReport> {
  const from = resolve(file);
  if (!existsSync(from) || !statSync(from).isFile()) throw new AppError('not_found', `no backup file at ${from}`);
  const format = backupFormat(from);
  const wanted = target.kind === 'sqlite' ? 'sqlite' : 'pg_dump';
  if (format !== wanted) {
    const says =
      format === 'unknown'
        ? 'is not a govauth backup (neither a SQLite database nor a pg_dump custom-format archive)'
        : `is a ${format === 'sqlite' ? 'SQLite' : 'PostgreSQL (pg_dump)'} backup, but DATABASE_URL names a ${target.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'} database`;
    throw new AppError('invalid_request', `${from} ${says}`);
  }
  const bytes = statSync(from).size;

  if (target.kind === 'postgresql') {
    // Replacing a PostgreSQL database's contents is the job of DROP/CREATE DATABASE, which
    // needs rights govauth's user should not have: restore only into an empty one.
    const tables = await postgresTables(target.url);
    if (tables > 0) {
      throw new AppError(
        'conflict',
        `the database in DATABASE_URL is not empty (${tables} tables); restore never overwrites a PostgreSQL database, --force included: ` +
          'create a new, empty database (createdb <name>), point DATABASE_URL at it and run the restore again',
      );
    }
    await restorePostgres(target.url, from);
    return { file: from, bytes };
  }

  const path = resolve(sqlitePath(target.url));
  if (path === from) throw new AppError('invalid_request', `${from} is the database DATABASE_URL names: restore it into another place`);
  const exists = existsSync(path) || existsSync(`${path}-wal`);
  if (exists) {
    if (!options.force) throw new AppError('conflict', `a database already exists at ${path}; restore never overwrites one: restore into a new data directory, or stop every server using it and pass --force`);
    const servers = await options.inUse();
    if (servers.length) throw new AppError('conflict', `a server is using the database at ${path} (${servers.join(', ')}): stop it before restoring over it`);
  }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = stageSqliteRestore(from, path);
  removeSqliteSidecars(path);
  publish(tmp, path, true, 'restore');
  return { file: from, bytes };
}

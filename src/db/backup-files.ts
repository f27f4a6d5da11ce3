// The file handling a backup and a restore share: a copy is written beside its destination
// under a temporary name, flushed to disk, and only then given its name, so a crash or a full
// disk never leaves a truncated file under the name an operator will restore from. Without
// --force an existing file is never replaced (link(2) fails with EEXIST: no check-then-write
// race).
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AppError } from '../errors/app-error.ts';

/** The last audit record in a copy: what `govauth audit verify --checkpoint` can be given later. */
export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
  /** When the last record was written (ISO 8601). */
  readonly at: string;
}

/** What a backup file holds, told by its first bytes. */
export type BackupFormat = 'sqlite' | 'pg_dump' | 'unknown';

const SQLITE_MAGIC = 'SQLite format 3\u0000';
const PG_DUMP_MAGIC = 'PGDMP'; // pg_dump --format=custom

export function backupFormat(file: string): BackupFormat {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(16);
    const n = readSync(fd, head, 0, 16, 0);
    const text = head.subarray(0, n).toString('latin1');
    if (text === SQLITE_MAGIC) return 'sqlite';
    if (text.startsWith(PG_DUMP_MAGIC)) return 'pg_dump';
    return 'unknown';
  } finally {
    closeSync(fd);
  }
}

/** A name in the destination's directory (same filesystem, so the final rename is atomic). */
export function temporaryBeside(file: string): string {
  return join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.partial`);
}

function fsyncPath(path: string, flags: string): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Refuses early (before any copying) when `file` exists and may not be replaced. */
export function refuseExisting(file: string, force: boolean, what: string): void {
  if (!force && existsSync(file)) throw new AppError('conflict', `${file} already exists; ${what} never replaces a file: choose another name, or pass --force to replace it`);
}

/**
 * Gives the finished temporary file its name: data first, then the directory entry, are
 * flushed. Returns the size in bytes. The temporary file is gone afterwards in every case.
 */
export function publish(tmp: string, file: string, force: boolean, what: string): number {
  try {
    // It holds password and secret hashes and the sealed signing keys: owner only, whatever the umask.
    chmodSync(tmp, 0o600);
    fsyncPath(tmp, 'r+');
    if (force) renameSync(tmp, file);
    else {
      try {
        linkSync(tmp, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') refuseExisting(file, false, what);
        throw err;
      }
    }
    fsyncPath(dirname(file), 'r');
    return statSync(file).size;
  } finally {
    rmSync(tmp, { force: true });
  }
}

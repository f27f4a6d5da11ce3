// DATABASE_URL: the embedded SQLite file (the default, under GOVAUTH_DATA_DIR) or a PostgreSQL
// server, and how that location is named in messages without its password.
import { resolve } from 'node:path';
import { EnvValueError } from './env-parsers.ts';
import type { Read } from './env-reader.ts';

export type DatabaseKind = 'sqlite' | 'postgresql';

export interface DatabaseConfig {
  readonly kind: DatabaseKind;
  readonly url: string;
  readonly isDefault: boolean;
}

/** `base`: the directory a relative file: path is resolved against (load-config.ts PROJECT_DIR). */
export function readDatabase(read: Read, dataDir: string, base: string): DatabaseConfig {
  return read<DatabaseConfig>('DATABASE_URL', { kind: 'sqlite', url: `file:${resolve(dataDir, 'govauth.db')}`, isDefault: true }, (v) => parseDatabaseUrl(v, base));
}

function parseDatabaseUrl(raw: string, base: string): DatabaseConfig {
  const v = raw.trim();
  if (/^postgres(ql)?:\/\//.test(v)) {
    try {
      new URL(v);
    } catch {
      throw new EnvValueError('is not a valid PostgreSQL URL (postgresql://user:password@host:5432/database)');
    }
    return { kind: 'postgresql', url: v, isDefault: false };
  }
  if (v.startsWith('file:')) {
    const path = v.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path || path.includes('?')) throw new EnvValueError('must be file:<path to the SQLite database file>');
    return { kind: 'sqlite', url: `file:${resolve(base, path)}`, isDefault: false };
  }
  throw new EnvValueError('must start with file: (embedded SQLite) or postgresql:// (PostgreSQL)');
}

/** Where a database is, for messages: a SQLite file's path, or a PostgreSQL URL without its password. */
export function databaseLocation(database: Pick<DatabaseConfig, 'kind' | 'url'>): string {
  if (database.kind === 'sqlite') return database.url.slice('file:'.length);
  const url = URL.parse(database.url);
  if (!url) return 'the PostgreSQL database in DATABASE_URL';
  if (url.password) url.password = '***';
  return url.href;
}

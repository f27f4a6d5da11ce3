// Everything that differs between the two databases, in one object: placeholders, how a
// timestamp is written and read back, the lock that serializes writers across processes, and
// how other instances are told of a commit. Statements elsewhere in db/ are written once, with
// `?` placeholders and double-quoted identifiers (valid on both), and ask the dialect the rest.
import { writeFile } from 'node:fs/promises';
import type { DatabaseKind } from '../config/database-config.ts';

export interface Dialect {
  readonly kind: DatabaseKind;
  /** The OpenTelemetry `db.system.name` of this database. */
  readonly systemName: DatabaseKind;
  /** A statement written with `?` placeholders, as the driver takes it. */
  readonly placeholders: (sql: string) => string;
  /** A timestamp as Prisma writes it, so Prisma reads back what raw SQL wrote. */
  readonly time: (date: Date) => string;
  /**
   * The statement that serializes this transaction with every other naming `key`, in any
   * process, until it ends; undefined where the write lock does that already (SQLite's BEGIN
   * IMMEDIATE). `key` is checked to be an integer: it is written into the text.
   */
  readonly lockStatement: (key: number) => string | undefined;
  /** The statement that wakes listeners on `channel` when the transaction commits (`?`: channel, payload), if any. */
  readonly notifyStatement: string | undefined;
  /** Tells other instances after a commit where no in-transaction notify exists (SQLite's file). */
  readonly notifyAfterCommit: (url: string, payload: string) => Promise<void>;
  /**
   * Whether a statement can carry a data-modifying WITH (PostgreSQL manual, 7.8.4), so two
   * writes go to the server in one round trip.
   */
  readonly writesInWith: boolean;
}

export const sqlitePath = (url: string): string => url.slice('file:'.length);

/**
 * SQLite has no NOTIFY: writers rewrite this small file next to the database after commit and
 * instances on the host watch it (change-listener.ts), so they apply within milliseconds
 * rather than at their next poll. Polling stays the safety net (a lost event costs one poll).
 */
export const sqliteNotifyPath = (url: string): string => `${sqlitePath(url)}-notify`;

/** A timestamp column read back: SQLite holds ISO text, PostgreSQL returns a Date (read as UTC). */
export function readTime(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.getTime();
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
}

const checkedKey = (key: number): number => {
  if (!Number.isSafeInteger(key)) throw new TypeError('a lock key must be an integer');
  return key;
};

const toNumbered = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

const POSTGRESQL: Dialect = Object.freeze({
  kind: 'postgresql',
  systemName: 'postgresql',
  placeholders: toNumbered,
  // timestamp(3) without time zone holds UTC wall time, as Prisma writes it.
  time: (date: Date) => date.toISOString().replace('Z', ''),
  // Transaction-scoped: released at COMMIT or ROLLBACK, never leaked by a failed caller.
  lockStatement: (key: number) => `SELECT pg_advisory_xact_lock(${checkedKey(key)}::bigint)`,
  // Delivered at commit, dropped at rollback (PostgreSQL manual, NOTIFY).
  notifyStatement: 'SELECT pg_notify(?, ?)',
  notifyAfterCommit: () => Promise.resolve(),
  writesInWith: true,
} satisfies Dialect);

const SQLITE: Dialect = Object.freeze({
  kind: 'sqlite',
  systemName: 'sqlite',
  placeholders: (sql: string) => sql,
  time: (date: Date) => date.toISOString().replace('Z', '+00:00'),
  lockStatement: (key: number) => void checkedKey(key),
  notifyStatement: undefined,
  // Best effort: without it instances still apply the change at their next poll.
  notifyAfterCommit: (url: string, payload: string) => writeFile(sqliteNotifyPath(url), `${payload}\n`).catch(() => undefined),
  writesInWith: false,
} satisfies Dialect);

export const dialectOf = (kind: DatabaseKind): Dialect => (kind === 'postgresql' ? POSTGRESQL : SQLITE);

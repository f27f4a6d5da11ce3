// The audit log's storage: one append for every writer, and the transactions that read the
// chain's head under its lock. Appends are serialized in the database (an advisory lock on
// PostgreSQL, the single writer on SQLite: Dialect.lockStatement) so several instances extend
// one chain without forks, and `seq` is gap-free. The request path appends through the plain-SQL
// seam (raw-sql.ts) with group commit (src/audit/audit-writer.ts); administrative transactions
// append through Prisma's (prisma-tx.ts). Both run appendLocked below: same tail, same rows.
import type { Database, Tx } from './database.ts';
import { dialectOf, type Dialect } from './dialect.ts';
import { rawTxOf } from './prisma-tx.ts';
import type { RawSql, RawTx } from './raw-sql.ts';
import { ANCHOR_META, chainRecords, readAnchor, writeAnchor, type Anchor, type AuditInput, type AuditRecord } from './audit-record.ts';

const AUDIT_LOCK = 0x67617533; // "gau3": an arbitrary constant shared by every govauth process

const AUDIT_COLUMNS = ['seq', 'at', 'action', 'actorType', 'actor', 'subject', 'clientId', 'resource', 'requestId', 'ip', 'outcome', 'detail', 'prevHash', 'hash'] as const;
const AUDIT_INSERT = `INSERT INTO "AuditEvent" (${AUDIT_COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES `;
const AUDIT_ROW = `(${AUDIT_COLUMNS.map(() => '?').join(', ')})`;

export interface SqlStatement {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/**
 * Rows derived from appended records (scope usage, the console's token counts), written in their
 * transaction: any number of statements, none when the batch derives nothing.
 */
export type Derived = (records: readonly AuditRecord[], time: (date: Date) => unknown) => readonly SqlStatement[];

/**
 * The one place a batch's insert and its derived statements are put together. Where the dialect
 * allows, one statement: a data-modifying WITH runs exactly once, whether or not it is referenced
 * (PostgreSQL manual, 7.8.4), and placeholders are numbered in order of the text, so the
 * parameters follow it: the records' first, then each derived statement's. All parts see the
 * same snapshot, so no two may touch the same row (each derived statement writes its own table
 * with distinct keys). Elsewhere (SQLite), one statement after another in the transaction.
 */
function batchStatements(dialect: Dialect, insert: SqlStatement, derived: readonly SqlStatement[]): SqlStatement[] {
  if (!derived.length || !dialect.writesInWith) return [insert, ...derived];
  const parts = [insert, ...derived];
  const last = parts.pop() as SqlStatement;
  const ctes = parts.map((p, i) => `"${i ? `derived${i}` : 'appended'}" AS (${p.sql})`).join(', ');
  return [{ sql: `WITH ${ctes} ${last.sql}`, params: [...parts.flatMap((p) => p.params), ...last.params] }];
}

/** Appends in a transaction that holds the audit lock. */
async function appendLocked(tx: RawTx, dialect: Dialect, events: readonly AuditInput[], now: Date, derived?: Derived): Promise<AuditRecord[]> {
  // Read after the lock is granted, in a statement of its own: under READ COMMITTED each
  // statement sees what was committed before it started, so this sees every earlier append.
  const [last] = await tx.query<{ seq: number | bigint; hash: string }>('SELECT "seq", "hash" FROM "AuditEvent" ORDER BY "seq" DESC LIMIT 1');
  let tail: Anchor | undefined = last ? { seq: Number(last.seq), hash: last.hash } : undefined;
  if (!tail) {
    const [anchor] = await tx.query<{ value: string }>('SELECT "value" FROM "Meta" WHERE "key" = ?', [ANCHOR_META]);
    tail = readAnchor(anchor?.value);
  }
  const records = chainRecords(tail, events, now);
  const insert = { sql: AUDIT_INSERT + records.map(() => AUDIT_ROW).join(', '), params: records.flatMap((r) => AUDIT_COLUMNS.map((c) => (c === 'at' ? tx.time(r.at) : r[c]))) };
  for (const statement of batchStatements(dialect, insert, derived?.(records, (date) => tx.time(date)) ?? [])) await tx.query(statement.sql, statement.params);
  return records;
}

/** Where request-path appends go: a database's plain-SQL seam, or a seam of its own (tests). */
export type AuditLogTarget = Pick<Database, 'sql'> | RawSql;

/**
 * The request-path append, one transaction per batch, which takes the chain's lock itself. On
 * PostgreSQL the lock comes with BEGIN in one round trip and the records and derived rows go in
 * one statement (batchStatements), so the lock is held for three round trips, not five
 * (throughput on the 2-core bench machine did not change: bench/README.md).
 */
export async function appendAuditBatch(target: AuditLogTarget, events: readonly AuditInput[], now: Date, derived?: Derived): Promise<AuditRecord[]> {
  if (!events.length) return [];
  const sql = 'transaction' in target ? target : target.sql;
  return sql.transaction((tx) => appendLocked(tx, sql.dialect, events, now, derived), { advisoryLock: AUDIT_LOCK });
}

/**
 * Appends inside the caller's Prisma transaction (the lock is held until it commits). Records
 * without an `at` take `now`; callers that pass none (the change feed's, a test's) mean the
 * instant of appending. No derived rows: the callers (administrative changes through
 * writeWithChanges) never append token or resource-usage records, which only the token endpoint
 * and the usage reports write, through the request path's appendAuditBatch.
 */
export async function appendAuditEvents(db: Pick<Database, 'kind' | 'now'>, tx: Tx, events: readonly AuditInput[], now?: Date): Promise<AuditRecord[]> {
  if (!events.length) return [];
  const dialect = dialectOf(db.kind);
  const raw = rawTxOf(tx, dialect);
  await raw.lock(AUDIT_LOCK);
  return appendLocked(raw, dialect, events, now ?? new Date(db.now()));
}

/** The chain inside one transaction holding its lock (auditLogTransaction). */
export interface AuditLogTx {
  /** The last record's seq and hash, or the anchor when none is left. */
  head(): Promise<Anchor>;
  /** When the newest record of `action` by `actor` was made, if any. */
  lastAt(action: string, actor: string | null): Promise<Date | undefined>;
  append(events: readonly AuditInput[], now: Date): Promise<AuditRecord[]>;
  /**
   * Deletes the head of the chain older than `before` (only a prefix: the first record at or after
   * it stops the deletion) and moves the anchor to the last one deleted.
   */
  pruneBefore(before: Date): Promise<{ count: number; anchor: Anchor } | undefined>;
  readMeta(key: string): Promise<string | undefined>;
  writeMeta(key: string, value: string): Promise<void>;
}

/** Runs `work` in a transaction that holds the chain's lock: reads of the head see every append. */
export function auditLogTransaction<T>(db: Database, work: (log: AuditLogTx) => Promise<T>): Promise<T> {
  const dialect = dialectOf(db.kind);
  return db.prisma.$transaction(async (tx) => {
    const raw = rawTxOf(tx, dialect);
    await raw.lock(AUDIT_LOCK);
    const readMeta = async (key: string): Promise<string | undefined> => (await tx.meta.findUnique({ where: { key } }))?.value;
    const writeMeta = async (key: string, value: string): Promise<void> => void (await tx.meta.upsert({ where: { key }, create: { key, value }, update: { value } }));
    return work({
      async head() {
        return (await tx.auditEvent.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true, hash: true } })) ?? readAnchor(await readMeta(ANCHOR_META));
      },
      async lastAt(action, actor) {
        return (await tx.auditEvent.findFirst({ where: { action, actor }, orderBy: { seq: 'desc' }, select: { at: true } }))?.at;
      },
      append: (events, now) => (events.length ? appendLocked(raw, dialect, events, now) : Promise.resolve([])),
      async pruneBefore(before) {
        const young = await tx.auditEvent.findFirst({ where: { at: { gte: before } }, orderBy: { seq: 'asc' }, select: { seq: true } });
        const last = await tx.auditEvent.findFirst({
          where: { at: { lt: before }, ...(young && { seq: { lt: young.seq } }) },
          orderBy: { seq: 'desc' },
          select: { seq: true, hash: true },
        });
        if (!last) return undefined;
        const { count } = await tx.auditEvent.deleteMany({ where: { seq: { lte: last.seq } } });
        await writeMeta(ANCHOR_META, writeAnchor(last));
        return { count, anchor: last };
      },
      readMeta,
      writeMeta,
    });
  });
}

// Reading the audit log (verification, export, tail, access reconstruction). Administrative
// reads, through Prisma; the callers in src/audit say what to read, this file how.
import type { Database } from './database.ts';
import { readTime } from './dialect.ts';
import { ANCHOR_META, readAnchor, type Anchor, type AuditRecord } from './audit-record.ts';

/** The anchor kept in Meta (genesis when none); throws when it is malformed (readAnchor). */
export async function readAuditAnchor(db: Database): Promise<Anchor> {
  return readAnchor((await db.prisma.meta.findUnique({ where: { key: ANCHOR_META } }))?.value);
}

/** Which records to read; every field narrows. */
export interface AuditWhere {
  /** at >= since */
  readonly since?: Date;
  /** at < until */
  readonly until?: Date;
  /** at <= atMost */
  readonly atMost?: Date;
  readonly actor?: string;
  readonly subject?: string;
  readonly clientId?: string;
  readonly resource?: string;
  /** One action, or any of a list. */
  readonly action?: string;
  readonly actions?: readonly string[];
  /** seq > afterSeq */
  readonly afterSeq?: number;
  /** seq < beforeSeq */
  readonly beforeSeq?: number;
  /** seq >= fromSeq */
  readonly fromSeq?: number;
  /** seq <= throughSeq */
  readonly throughSeq?: number;
}

const prismaWhere = (w: AuditWhere) => ({
  ...((w.since || w.until || w.atMost) && { at: { ...(w.since && { gte: w.since }), ...(w.until && { lt: w.until }), ...(w.atMost && { lte: w.atMost }) } }),
  ...((w.afterSeq !== undefined || w.beforeSeq !== undefined || w.fromSeq !== undefined || w.throughSeq !== undefined) && {
    seq: {
      ...(w.afterSeq !== undefined && { gt: w.afterSeq }),
      ...(w.beforeSeq !== undefined && { lt: w.beforeSeq }),
      ...(w.fromSeq !== undefined && { gte: w.fromSeq }),
      ...(w.throughSeq !== undefined && { lte: w.throughSeq }),
    },
  }),
  ...(w.actor !== undefined && { actor: w.actor }),
  ...(w.subject !== undefined && { subject: w.subject }),
  ...(w.clientId !== undefined && { clientId: w.clientId }),
  ...(w.resource !== undefined && { resource: w.resource }),
  ...(w.actions ? { action: { in: [...w.actions] } } : w.action !== undefined && { action: w.action }),
});

/** Matching records in chain order ('asc') or newest first ('desc'), at most `take` (all when absent). */
export function findAuditRecords(db: Database, where: AuditWhere, order: 'asc' | 'desc', take?: number): Promise<AuditRecord[]> {
  return db.prisma.auditEvent.findMany({ where: prismaWhere(where), orderBy: { seq: order }, ...(take !== undefined && { take }) });
}

/** The oldest record left, if any. */
export function firstAuditRecord(db: Database): Promise<Pick<AuditRecord, 'seq' | 'at'> | null> {
  return db.prisma.auditEvent.findFirst({ orderBy: { seq: 'asc' }, select: { seq: true, at: true } });
}

/** Any record at or below `seq` (verification's check for re-inserted pruned records). */
export async function auditRecordAtOrBelow(db: Database, seq: number): Promise<number | undefined> {
  return (await db.prisma.auditEvent.findFirst({ where: { seq: { lte: seq } }, select: { seq: true } }))?.seq;
}

// Every distinct action, by walking the action index (one MIN() probe per name: a "loose index
// scan", which neither database does by itself). ~50 index probes, whatever the table's size.
const distinctActions = (max: number): string => `WITH RECURSIVE "names"("action", "n") AS (
  SELECT MIN("action"), 1 FROM "AuditEvent"
  UNION ALL
  SELECT (SELECT MIN("action") FROM "AuditEvent" WHERE "action" > "names"."action"), "n" + 1 FROM "names" WHERE "names"."action" IS NOT NULL AND "n" < ${max}
) SELECT "action" FROM "names" WHERE "action" IS NOT NULL`;

/** The distinct action names in the log, at most `max` (an integer) of them. */
export async function distinctAuditActions(db: Database, max: number): Promise<string[]> {
  if (!Number.isSafeInteger(max)) throw new TypeError('max must be an integer');
  const rows = await db.prisma.$queryRawUnsafe<{ action: string }[]>(distinctActions(max));
  return rows.map((r) => r.action);
}

// The status lists' tail (src/statuslist/token-record-tail.ts) runs every second on every
// instance, so these are plain SQL on the driver (raw-sql.ts) over the primary key and the `at`
// index, reading only what it needs.

/**
 * The seq of the earliest record at or after `since`, if any: one probe of the `at` index. `at`
 * follows seq but for the clock skew between instances, which the caller allows for.
 */
export async function firstAuditSeqSince(db: Pick<Database, 'sql'>, since: Date): Promise<number | undefined> {
  const [row] = await db.sql.query<{ seq: unknown }>('SELECT "seq" FROM "AuditEvent" WHERE "at" >= ? ORDER BY "at" LIMIT 1', [db.sql.time(since)]);
  return row === undefined ? undefined : Number(row.seq);
}

/** The newest audit record's position and hash: the chain's head (the console overview). */
export async function auditHead(db: Pick<Database, 'sql'>): Promise<{ seq: number; at: number; hash: string } | undefined> {
  const [row] = await db.sql.query<{ seq: unknown; at: unknown; hash: string }>('SELECT "seq", "at", "hash" FROM "AuditEvent" ORDER BY "seq" DESC LIMIT 1');
  return row && { seq: Number(row.seq), at: readTime(row.at) ?? 0, hash: row.hash };
}

/** The last record's seq (0: none). */
export async function lastAuditSeq(db: Pick<Database, 'sql'>): Promise<number> {
  const [row] = await db.sql.query<{ seq: unknown }>('SELECT MAX("seq") AS "seq" FROM "AuditEvent"');
  return Number(row?.seq ?? 0);
}

const actionList = (actions: readonly string[]): string => {
  if (!actions.length) throw new TypeError('name at least one action');
  return actions.map(() => '?').join(', ');
};

/**
 * Every record after `afterSeq`, in chain order, at most `limit`: its seq (so a cursor moves past
 * records of other actions too) and, for records of `actions` only, its detail.
 */
export async function auditDetailsAfter(db: Pick<Database, 'sql'>, afterSeq: number, actions: readonly string[], limit: number): Promise<{ seq: number; detail: string | null }[]> {
  const rows = await db.sql.query<{ seq: unknown; detail: string | null }>(
    `SELECT "seq", CASE WHEN "action" IN (${actionList(actions)}) THEN "detail" END AS "detail" FROM "AuditEvent" WHERE "seq" > ? ORDER BY "seq" LIMIT ?`,
    [...actions, afterSeq, limit],
  );
  return rows.map((r) => ({ seq: Number(r.seq), detail: r.detail }));
}

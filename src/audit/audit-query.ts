// Reading the audit trail: export (JSON Lines for a SIEM) and tail (recent records for people).
import type { Database } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { AuditRecord } from './audit-chain.ts';

export interface AuditEventView {
  seq: number;
  at: string;
  action: string;
  actor_type: string;
  actor: string | null;
  subject: string | null;
  client_id: string | null;
  request_id: string | null;
  ip: string | null;
  outcome: string;
  detail: unknown;
  prev_hash: string;
  hash: string;
}

export const eventView = (r: AuditRecord): AuditEventView => ({
  seq: r.seq,
  at: r.at.toISOString(),
  action: r.action,
  actor_type: r.actorType,
  actor: r.actor,
  subject: r.subject,
  client_id: r.clientId,
  request_id: r.requestId,
  ip: r.ip,
  outcome: r.outcome,
  detail: JSON.parse(r.detail) as unknown,
  prev_hash: r.prevHash,
  hash: r.hash,
});

export interface AuditFilter {
  readonly since?: Date;
  readonly until?: Date;
  readonly actor?: string;
  readonly action?: string;
  readonly subject?: string;
}

/** The most records one tail request returns (admin API limit, CLI --limit). */
export const MAX_TAIL = 10_000;
/** Distinct action names considered for a family filter; govauth's code defines a few dozen. */
const MAX_ACTIONS = 5000;

// Every distinct action, by walking the action index (one MIN() probe per name: a "loose index
// scan", which neither database does by itself). ~50 index probes, whatever the table's size.
const DISTINCT_ACTIONS = `WITH RECURSIVE "names"("action", "n") AS (
  SELECT MIN("action"), 1 FROM "AuditEvent"
  UNION ALL
  SELECT (SELECT MIN("action") FROM "AuditEvent" WHERE "action" > "names"."action"), "n" + 1 FROM "names" WHERE "names"."action" IS NOT NULL AND "n" < ${MAX_ACTIONS}
) SELECT "action" FROM "names" WHERE "action" IS NOT NULL`;

/** A family of at most this many names is read one index seek per name; a larger one with IN. */
const MAX_SEEKS = 64;

/**
 * An action filter ending in "*" names a family ("admin.*"): every action that starts with the
 * text before the star, taken literally. SQL LIKE would read "%" and "_" in it as wildcards
 * (found by test/security/hostile-input.test.ts: "%*" matched everything) and SQLite's LIKE
 * ignores ASCII case, so the family is resolved to exact names first (JavaScript's startsWith,
 * which knows no wildcards): exact on both databases whatever their collation. Returns the
 * names to select, or undefined when the filter is not a family.
 */
async function actionNames(db: Database, action: string | undefined): Promise<string[] | undefined> {
  if (action === undefined || !action.endsWith('*')) return undefined;
  const prefix = action.slice(0, -1);
  const rows = await db.prisma.$queryRawUnsafe<{ action: string }[]>(DISTINCT_ACTIONS);
  // Never a silent partial answer: a trail with more names than govauth defines is refused.
  if (rows.length >= MAX_ACTIONS) throw new AppError('invalid_request', `the audit trail holds more than ${MAX_ACTIONS} distinct actions; filter by an exact action`);
  return rows.map((r) => r.action).filter((a) => a.startsWith(prefix));
}

const actionWhere = (action: string | undefined, names: string[] | undefined) =>
  names ? { action: { in: names } } : action === undefined ? {} : { action };

const where = (f: AuditFilter) => ({
  ...((f.since || f.until) && { at: { ...(f.since && { gte: f.since }), ...(f.until && { lt: f.until }) } }),
  ...(f.actor !== undefined && { actor: f.actor }),
  ...(f.subject !== undefined && { subject: f.subject }),
});

/** Streams matching records in chain order, in batches (one query per batch of matches). */
export async function exportAuditEvents(db: Database, filter: AuditFilter, onEvent: (e: AuditEventView) => void, batch = 1000): Promise<number> {
  const names = await actionNames(db, filter.action);
  if (names?.length === 0) return 0;
  let after = 0;
  let count = 0;
  for (;;) {
    const rows = await db.prisma.auditEvent.findMany({ where: { ...where(filter), ...actionWhere(filter.action, names), seq: { gt: after } }, orderBy: { seq: 'asc' }, take: batch });
    for (const r of rows) onEvent(eventView(r));
    count += rows.length;
    if (rows.length < batch) return count;
    after = rows[rows.length - 1]?.seq ?? after;
  }
}

/**
 * The most recent matching records, newest last, at most MAX_TAIL. A family is read with one
 * index seek per name (each `action = ? ORDER BY seq DESC LIMIT n`), merged here: measured on
 * SQLite, `action IN (…) ORDER BY seq DESC` scans the table instead (bench/README.md). So a
 * request costs one query, or 1 + the family's names (at most MAX_SEEKS), never one per record.
 */
export async function tailAuditEvents(db: Database, filter: AuditFilter, limit: number): Promise<AuditEventView[]> {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_TAIL) throw new TypeError(`limit must be between 1 and ${MAX_TAIL}`);
  const names = await actionNames(db, filter.action);
  const newest = (action: object) => db.prisma.auditEvent.findMany({ where: { ...where(filter), ...action }, orderBy: { seq: 'desc' }, take: limit });
  let rows: AuditRecord[];
  if (names === undefined || names.length > MAX_SEEKS) rows = await newest(actionWhere(filter.action, names));
  else rows = (await Promise.all(names.map((action) => newest({ action })))).flat().sort((a, b) => b.seq - a.seq).slice(0, limit);
  return rows.reverse().map(eventView);
}

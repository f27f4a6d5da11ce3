// Reading the audit trail: export (JSON Lines for a SIEM) and tail (recent records for people).
import type { Database } from '../db/database.ts';
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

/**
 * An action filter ending in "*" names a family ("admin.*"): every action that starts with the
 * text before the star, taken literally. SQL LIKE would read "%" and "_" in it as wildcards
 * (found by test/security/hostile-input.test.ts: "%*" matched everything) and SQLite's LIKE
 * ignores ASCII case, so the family is resolved to exact names first (JavaScript's startsWith,
 * which knows no wildcards) and the records are then selected with `action IN (…)`: two
 * queries per request, both on indexes, exact on both databases whatever their collation.
 */
async function actionCondition(db: Database, action: string | undefined): Promise<{ action?: string | { in: string[] } } | undefined> {
  if (action === undefined) return {};
  if (!action.endsWith('*')) return { action };
  const prefix = action.slice(0, -1);
  if (prefix === '') return {};
  const rows = await db.prisma.$queryRawUnsafe<{ action: string }[]>(DISTINCT_ACTIONS);
  const names = rows.map((r) => r.action).filter((a) => a.startsWith(prefix));
  return names.length ? { action: { in: names } } : undefined;
}

const where = (f: AuditFilter) => ({
  ...((f.since || f.until) && { at: { ...(f.since && { gte: f.since }), ...(f.until && { lt: f.until }) } }),
  ...(f.actor !== undefined && { actor: f.actor }),
  ...(f.subject !== undefined && { subject: f.subject }),
});

/** Streams matching records in chain order, in batches (one query per batch of matches). */
export async function exportAuditEvents(db: Database, filter: AuditFilter, onEvent: (e: AuditEventView) => void, batch = 1000): Promise<number> {
  const action = await actionCondition(db, filter.action);
  if (!action) return 0;
  let after = 0;
  let count = 0;
  for (;;) {
    const rows = await db.prisma.auditEvent.findMany({ where: { ...where(filter), ...action, seq: { gt: after } }, orderBy: { seq: 'asc' }, take: batch });
    for (const r of rows) onEvent(eventView(r));
    count += rows.length;
    if (rows.length < batch) return count;
    after = rows[rows.length - 1]?.seq ?? after;
  }
}

/** The most recent matching records, newest last: at most two queries, at most MAX_TAIL records. */
export async function tailAuditEvents(db: Database, filter: AuditFilter, limit: number): Promise<AuditEventView[]> {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_TAIL) throw new TypeError(`limit must be between 1 and ${MAX_TAIL}`);
  const action = await actionCondition(db, filter.action);
  if (!action) return [];
  const rows = await db.prisma.auditEvent.findMany({ where: { ...where(filter), ...action }, orderBy: { seq: 'desc' }, take: limit });
  return rows.reverse().map(eventView);
}

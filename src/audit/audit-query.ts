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

// An action filter ending in "*" matches a family: "admin.*". Prisma's startsWith is SQL LIKE
// without escaping, so "%" and "_" in the prefix acted as wildcards ("%*" matched everything,
// found by test/security/hostile-input.test.ts): the query may over-match, and `matches`
// keeps exactly the records whose action starts with the prefix.
const actionPrefix = (f: AuditFilter): string | undefined => (f.action?.endsWith('*') ? f.action.slice(0, -1) : undefined);
const matches = (f: AuditFilter) => {
  const prefix = actionPrefix(f);
  return (r: AuditRecord): boolean => prefix === undefined || r.action.startsWith(prefix);
};

const where = (f: AuditFilter) => {
  const prefix = actionPrefix(f);
  return {
    ...((f.since || f.until) && { at: { ...(f.since && { gte: f.since }), ...(f.until && { lt: f.until }) } }),
    ...(f.actor && { actor: f.actor }),
    ...(f.action && (prefix !== undefined ? { action: { startsWith: prefix } } : { action: f.action })),
    ...(f.subject && { subject: f.subject }),
  };
};

/** Streams matching records in chain order, in batches. */
export async function exportAuditEvents(db: Database, filter: AuditFilter, onEvent: (e: AuditEventView) => void, batch = 1000): Promise<number> {
  const keep = matches(filter);
  let after = 0;
  let count = 0;
  for (;;) {
    const rows = await db.prisma.auditEvent.findMany({ where: { ...where(filter), seq: { gt: after } }, orderBy: { seq: 'asc' }, take: batch });
    if (!rows.length) return count;
    for (const r of rows.filter(keep)) {
      onEvent(eventView(r));
      count++;
    }
    after = rows[rows.length - 1]?.seq ?? after;
  }
}

/** The most recent matching records, newest last. */
export async function tailAuditEvents(db: Database, filter: AuditFilter, limit: number): Promise<AuditEventView[]> {
  const keep = matches(filter);
  const found: AuditRecord[] = [];
  let before: number | undefined;
  while (found.length < limit) {
    const rows = await db.prisma.auditEvent.findMany({ where: { ...where(filter), ...(before !== undefined && { seq: { lt: before } }) }, orderBy: { seq: 'desc' }, take: limit });
    if (!rows.length) break;
    found.push(...rows.filter(keep));
    before = rows[rows.length - 1]?.seq;
  }
  return found.slice(0, limit).reverse().map(eventView);
}

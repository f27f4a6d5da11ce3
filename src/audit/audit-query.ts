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

const where = (f: AuditFilter) => ({
  ...((f.since || f.until) && { at: { ...(f.since && { gte: f.since }), ...(f.until && { lt: f.until }) } }),
  ...(f.actor && { actor: f.actor }),
  // An action filter ending in "." (or a bare prefix with "*") matches a family: "admin.*".
  ...(f.action && (f.action.endsWith('*') ? { action: { startsWith: f.action.slice(0, -1) } } : { action: f.action })),
  ...(f.subject && { subject: f.subject }),
});

/** Streams matching records in chain order, in batches. */
export async function exportAuditEvents(db: Database, filter: AuditFilter, onEvent: (e: AuditEventView) => void, batch = 1000): Promise<number> {
  let after = 0;
  let count = 0;
  for (;;) {
    const rows = await db.prisma.auditEvent.findMany({ where: { ...where(filter), seq: { gt: after } }, orderBy: { seq: 'asc' }, take: batch });
    if (!rows.length) return count;
    for (const r of rows) onEvent(eventView(r));
    count += rows.length;
    after = rows[rows.length - 1]?.seq ?? after;
  }
}

/** The most recent matching records, newest last. */
export async function tailAuditEvents(db: Database, filter: AuditFilter, limit: number): Promise<AuditEventView[]> {
  const rows = await db.prisma.auditEvent.findMany({ where: where(filter), orderBy: { seq: 'desc' }, take: limit });
  return rows.reverse().map(eventView);
}

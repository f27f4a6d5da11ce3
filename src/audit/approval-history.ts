// "Who approved this access, and was the approver different from the requester?", answered from
// the audit trail (tamper-evident, src/audit/audit-chain.ts) rather than from the request table:
// every grant an access request made has an `access_request.granted` record written in the same
// transaction as the grant. The answer is recomputed from the record's own fields (holder, who
// filed it, approvers), never copied from a flag.
import { findAuditRecords, type AuditWhere } from '../db/audit-log-reads.ts';
import type { AuditRecord } from '../db/audit-record.ts';
import type { Database } from '../db/database.ts';
import { findPersonWithRoles } from '../db/people-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { normalizeEmail } from '../governance/email-address.ts';

export const GRANTED = 'access_request.granted';
export const MAX_APPROVAL_ROWS = 1000;

export interface ApprovedGrant {
  seq: number;
  granted_at: string;
  request: string | null;
  role: string | null;
  /** A grant of one scope on one resource (null for a role grant). */
  scope: { name: string; resource: string } | null;
  holder: { type: string; id: string; label: string } | null;
  requested_by: { type: string; id: string } | null;
  justification: string | null;
  grant_expires_at: string | null;
  /** false: the policy needed no approval (nobody approved, by design). */
  approval_required: boolean;
  approvers: { id: string; email: string; at: string | null }[];
  /**
   * Every approver differs from the holder and from whoever filed the request, and approvers
   * are distinct people; null when the policy needed no approval.
   */
  approvers_distinct_from_requester: boolean | null;
}

const detailOf = (r: AuditRecord): Record<string, unknown> => {
  try {
    const d: unknown = JSON.parse(r.detail);
    return d !== null && typeof d === 'object' && !Array.isArray(d) ? (d as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};
const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const obj = (v: unknown): Record<string, unknown> | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

function grantOf(r: AuditRecord): ApprovedGrant {
  const d = detailOf(r);
  const h = obj(d.holder);
  const q = obj(d.requested_by);
  const approvers = (Array.isArray(d.approvers) ? d.approvers : []).map(obj).filter((a) => a !== null).map((a) => ({ id: text(a.id) ?? '?', email: text(a.email) ?? '?', at: text(a.at) }));
  const holder = h && { type: text(h.type) ?? '?', id: text(h.id) ?? '?', label: text(h.label) ?? '?' };
  const requestedBy = q && { type: text(q.type) ?? '?', id: text(q.id) ?? '?' };
  const required = d.approval_required !== false;
  const ids = approvers.map((a) => a.id);
  return {
    seq: r.seq,
    granted_at: r.at.toISOString(),
    request: text(d.request),
    role: text(d.role),
    scope: typeof d.scope === 'string' && typeof d.resource === 'string' ? { name: d.scope, resource: d.resource } : null,
    holder,
    requested_by: requestedBy,
    justification: text(d.justification),
    grant_expires_at: text(d.grant_expires_at),
    approval_required: required,
    approvers,
    approvers_distinct_from_requester: !required ? null : ids.length > 0 && new Set(ids).size === ids.length && ids.every((id) => id !== holder?.id && id !== requestedBy?.id),
  };
}

export interface ApprovalQuery {
  readonly user?: string | undefined;
  readonly role?: string | undefined;
  readonly limit: number;
}

/** Grants made by access requests, oldest first, the most recent `limit`. */
export async function approvalHistory(db: Database, q: ApprovalQuery): Promise<{ grants: ApprovedGrant[]; truncated: boolean }> {
  if (!Number.isSafeInteger(q.limit) || q.limit < 1 || q.limit > MAX_APPROVAL_ROWS) throw new AppError('invalid_request', `limit must be between 1 and ${MAX_APPROVAL_ROWS}`);
  const where: AuditWhere = { action: GRANTED };
  if (q.user !== undefined) {
    const email = normalizeEmail(q.user);
    const person = await findPersonWithRoles(db, { email });
    if (!person) throw new AppError('not_found', `no user ${email}`);
    Object.assign(where, { subject: person.id });
  }
  const grants: ApprovedGrant[] = [];
  let through: number | undefined;
  for (;;) {
    const batch = await findAuditRecords(db, { ...where, ...(through !== undefined && { throughSeq: through }) }, 'desc', 500);
    for (const r of batch) {
      const g = grantOf(r);
      if (q.role !== undefined && g.role !== q.role) continue;
      if (grants.length === q.limit) return { grants: grants.reverse(), truncated: true };
      grants.push(g);
    }
    const last = batch.at(-1);
    if (batch.length < 500 || !last) return { grants: grants.reverse(), truncated: false };
    through = last.seq - 1;
  }
}

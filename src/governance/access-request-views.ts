// What an access request looks like to the CLI, the admin API and the pages, and the reads that
// list them: the state shown is the state now (a pending request past its time reads as lapsed
// before the sweep closes it), and each answer says whether every approver differs from the
// person the request is for and from whoever filed it.
import { findAccessRequest, listAccessPolicies, listAccessRequests, listScopeAccessPolicies, type AccessRequestFilter, type AccessRequestRow } from '../db/access-request-repository.ts';
import type { Reader } from '../db/database.ts';
import { findPersonWithRoles } from '../db/people-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { currentState, describeTarget, type RequestState } from './access-request-rules.ts';
import { targetOf } from './access-request-targets.ts';
import { normalizeEmail } from './email-address.ts';
import { rolesReached } from './exclusive-roles.ts';

export interface AccessDecisionView {
  approver_id: string;
  approver_email: string;
  decision: 'approve' | 'deny';
  reason: string | null;
  recorded_by: string;
  at: string;
}

export interface AccessRequestView {
  id: string;
  state: RequestState;
  /** The role asked for; null when the request is for one scope on one resource (`scope`). */
  role: string | null;
  scope: { name: string; resource: string } | null;
  /** What is asked for, in words: "role ops", "scope ai.deploy on https://models.example". */
  target: string;
  holder: { type: 'user' | 'client'; id: string; label: string };
  requested_by: { type: string; id: string };
  justification: string;
  /** Seconds the grant lasts from the approval that completes the request. */
  duration: number;
  requested_at: string;
  lapses_at: string;
  decided_at: string | null;
  grant_expires_at: string | null;
  decisions: AccessDecisionView[];
  /** Every approver differs from the holder and from whoever filed it; null while nobody approved. */
  approvers_distinct_from_requester: boolean | null;
}

export function requestView(r: AccessRequestRow, now: number): AccessRequestView {
  const decisions = r.decisions.map((d): AccessDecisionView => ({
    approver_id: d.approverId,
    approver_email: d.approverEmail,
    decision: d.decision === 'deny' ? 'deny' : 'approve',
    reason: d.reason,
    recorded_by: d.recordedBy,
    at: d.at.toISOString(),
  }));
  const approvers = decisions.filter((d) => d.decision === 'approve').map((d) => d.approver_id);
  return {
    id: r.id,
    state: currentState({ state: r.state as RequestState, lapsesAt: r.lapsesAt.getTime() }, now),
    role: r.roleName,
    scope: r.roleName === null ? { name: r.scopeName ?? '', resource: r.audience ?? '' } : null,
    target: describeTarget(targetOf(r)),
    holder: { type: r.holderType === 'client' ? 'client' : 'user', id: r.holderId, label: r.holderLabel },
    requested_by: { type: r.requestedByType, id: r.requestedBy },
    justification: r.justification,
    duration: r.duration,
    requested_at: r.createdAt.toISOString(),
    lapses_at: r.lapsesAt.toISOString(),
    decided_at: r.decidedAt?.toISOString() ?? null,
    grant_expires_at: r.grantExpiresAt?.toISOString() ?? null,
    decisions,
    approvers_distinct_from_requester: approvers.length ? approvers.every((a) => a !== r.holderId && a !== r.requestedBy) && new Set(approvers).size === approvers.length : null,
  };
}

export const MAX_LISTED_REQUESTS = 500;

export async function getAccessRequest(db: Reader, id: string, now: number): Promise<AccessRequestView> {
  const r = await findAccessRequest(db, id);
  if (!r) throw new AppError('not_found', `no access request ${JSON.stringify(id.slice(0, 80))}`);
  return requestView(r, now);
}

export interface RequestQuery {
  readonly pending?: boolean;
  readonly user?: string;
  readonly role?: string;
}

/** Requests oldest first; `pending`: only those still waiting now. */
export async function listRequests(db: Reader, q: RequestQuery, now: number): Promise<AccessRequestView[]> {
  const filter: AccessRequestFilter = { ...(q.pending && { states: ['pending'] }), ...(q.role !== undefined && { roleName: q.role }) };
  let holderId: string | undefined;
  if (q.user !== undefined) {
    const email = normalizeEmail(q.user);
    const person = await findPersonWithRoles(db, { email });
    if (!person) throw new AppError('not_found', `no user ${email}`);
    holderId = person.id;
  }
  const rows = await listAccessRequests(db, { ...filter, ...(holderId !== undefined && { holderId }) }, MAX_LISTED_REQUESTS);
  return rows.map((r) => requestView(r, now)).filter((v) => !q.pending || v.state === 'pending');
}

/** A person's own requests (as holder), newest first. */
export async function requestsOf(db: Reader, userId: string, now: number): Promise<AccessRequestView[]> {
  return (await listAccessRequests(db, { holderId: userId }, MAX_LISTED_REQUESTS)).map((r) => requestView(r, now)).reverse();
}

/**
 * What a person may decide now: pending requests for roles (or scopes on resources) whose approver role they hold, not
 * their own, not for themselves, and not already answered by them.
 */
export async function approvableBy(db: Reader, userId: string, now: number): Promise<AccessRequestView[]> {
  const person = await findPersonWithRoles(db, { id: userId });
  if (!person || person.disabled) return [];
  const held = await rolesReached(db, person.roles, now); // directly or through role inclusions
  const roles = (await listAccessPolicies(db)).filter((p) => held.has(p.approverRole)).map((p) => p.roleName);
  const scopeTargets = (await listScopeAccessPolicies(db)).filter((p) => held.has(p.approverRole)).map((p) => ({ audience: p.audience, scopeName: p.scopeName }));
  if (!roles.length && !scopeTargets.length) return [];
  const rows = await listAccessRequests(db, { states: ['pending'], roleNames: roles, scopeTargets }, MAX_LISTED_REQUESTS);
  return rows
    .map((r) => requestView(r, now))
    .filter((v) => v.state === 'pending' && v.holder.id !== userId && v.requested_by.id !== userId && !v.decisions.some((d) => d.approver_id === userId));
}

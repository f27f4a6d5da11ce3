// The lifecycle of access requests for a role, or for one scope on one resource: filed (by the
// person, an administrator for them, or a client for itself), approved by one or two distinct approvers, denied, cancelled, or lapsed. Each step
// is one write transaction under the change-feed lock (change-feed.ts), so decisions on one
// request are serialized on every instance and database: two approvers at once, an approval
// against a denial or a lapse, can never grant twice or grant a closed request. The approval
// that completes a request makes the time-boxed grant in that same transaction through
// role-grants.ts or scope-grants.ts (either propagates it to every instance). The rules are access-request-rules.ts;
// events for notifiers are emitted after commit (access-request-events.ts).
import { randomBytes } from 'node:crypto';
import type { Actor, AuditInput } from '../audit/audit-chain.ts';
import {
  closeAccessRequest,
  findAccessRequest,
  insertAccessDecision,
  insertAccessRequest,
  lapsedRequests,
  type AccessRequestRow,
} from '../db/access-request-repository.ts';
import { writeWithChanges, type ChangeRef } from '../db/change-feed.ts';
import { findClientGrantTypes } from '../db/client-repository.ts';
import type { Database, Tx } from '../db/database.ts';
import { findPersonWithRoles, type UserRow } from '../db/people-repository.ts';
import { findRole } from '../db/catalog-repository.ts';
import { AppError } from '../errors/app-error.ts';
import type { AccessRequestEvent, AccessRequestEvents } from './access-request-events.ts';
import { enqueueNotification } from '../notifications/notification-event.ts';
import { grantFor, heldUntil, policyFor, requestTarget, targetColumns, targetOf } from './access-request-targets.ts';
import {
  decideApproval,
  decideCancel,
  decideDenial,
  decideRequest,
  describeTarget,
  type ApproverFacts,
  type Refusal,
  type RequestFacts,
  type RequestState,
} from './access-request-rules.ts';
import { requestView, type AccessRequestView } from './access-request-views.ts';
import { mustExist } from './catalog.ts';
import { assertSeparationOfDuties, rolesInForce, rolesReached } from './exclusive-roles.ts';
import { mayHoldRoles, ROLES_RULE } from './client-grants.ts';
import { normalizeEmail } from './email-address.ts';
import { parseStringArray } from './policy-loader.ts';
import { checkScopeOnResource } from './scope-grants.ts';
import { checkText } from './validation.ts';

/** Who filed a request: the person themselves, a client for itself, the CLI operator, an admin API principal. */
export interface Requester {
  readonly type: 'user' | 'client' | 'cli' | 'admin';
  readonly id: string;
}

export type Holder = { readonly type: 'user'; readonly email: string } | { readonly type: 'client'; readonly id: string };

/** A refused step: the error to throw once the record of the attempt has committed. */
export class AccessRequestRefused extends AppError {
  readonly reason: string;
  constructor(refusal: Refusal) {
    super(refusal.code, refusal.message);
    this.reason = refusal.reason;
  }
}

const newRequestId = (): string => `ar_${randomBytes(12).toString('base64url')}`;

const facts = (r: AccessRequestRow): RequestFacts => ({
  id: r.id,
  state: r.state as RequestState,
  holderType: r.holderType as 'user' | 'client',
  holderId: r.holderId,
  requestedByType: r.requestedByType,
  requestedBy: r.requestedBy,
  duration: r.duration,
  lapsesAt: r.lapsesAt.getTime(),
});


async function resolveHolder(tx: Tx, holder: Holder): Promise<{ type: 'user' | 'client'; id: string; label: string; roles?: UserRow['roles'] }> {
  if (holder.type === 'user') {
    const email = normalizeEmail(holder.email);
    const person = await mustExist(findPersonWithRoles(tx, { email }), `no user ${email}`);
    if (person.disabled) throw new AccessRequestRefused({ ok: false, code: 'invalid_request', reason: 'holder_disabled', message: `${email} is disabled` });
    return { type: 'user', id: person.id, label: email, roles: person.roles };
  }
  const client = await mustExist(findClientGrantTypes(tx, holder.id), `no client ${holder.id}`);
  if (!mayHoldRoles(parseStringArray(client.grantTypes, 'Client.grantTypes'))) throw new AppError('invalid_request', ROLES_RULE);
  return { type: 'client', id: client.id, label: client.id };
}

const event = (type: AccessRequestEvent['type'], r: AccessRequestRow, by: string, now: number, grantExpiresAt?: Date): AccessRequestEvent => ({
  type,
  requestId: r.id,
  role: r.roleName,
  ...(r.roleName === null && { scope: { name: r.scopeName ?? '', resource: r.audience ?? '' } }),
  holder: { type: r.holderType as 'user' | 'client', id: r.holderId, label: r.holderLabel },
  by,
  at: new Date(now).toISOString(),
  ...(grantExpiresAt && { grantExpiresAt: grantExpiresAt.toISOString() }),
});

/** The audit record of one step; `detail` carries the request as it stands after the step. */
const record = (by: Actor, action: string, r: AccessRequestView, extra: Record<string, unknown> = {}, outcome: AuditInput['outcome'] = 'success'): AuditInput => ({
  ...by,
  action,
  subject: r.holder.id,
  ...(r.scope && { resource: r.scope.resource }),
  outcome,
  detail: { request: r.id, role: r.role, ...(r.scope && { scope: r.scope.name, resource: r.scope.resource }), holder: r.holder, requested_by: r.requested_by, justification: r.justification, state: r.state, grant_expires_at: r.grant_expires_at, ...extra },
});

/**
 * Each step's events into the notification outbox, in the step's transaction: the webhook hears
 * of a request, an approval or a lapse exactly when it committed, whichever process (server or
 * CLI) took the step. A person is named by id, never by email (README, "Event catalogue").
 */
async function notifyAll(tx: Tx, events: readonly AccessRequestEvent[], now: number): Promise<void> {
  for (const e of events) {
    await enqueueNotification(
      tx,
      {
        type: `access_request.${e.type}`,
        // The target described: a role, or one scope on one resource (README, "Event catalogue").
        data: { request_id: e.requestId, role: e.role, ...(e.scope && { scope: e.scope.name, resource: e.scope.resource }), holder: { type: e.holder.type, id: e.holder.id }, ...(e.grantExpiresAt && { grant_expires_at: e.grantExpiresAt }) },
        occurredAt: Date.parse(e.at),
      },
      now,
    );
  }
}

interface Step {
  readonly result: AccessRequestView;
  readonly refusal?: AccessRequestRefused;
  readonly changes: readonly ChangeRef[];
  readonly audit: readonly AuditInput[];
  readonly events: readonly AccessRequestEvent[];
}

/** Runs one step; records and events commit before a refusal is thrown (a refused attempt is audited too). */
async function step(db: Database, events: AccessRequestEvents, work: (tx: Tx) => Promise<Step>): Promise<AccessRequestView> {
  let emitted: readonly AccessRequestEvent[] = [];
  const out = await writeWithChanges(db, async (tx) => {
    const s = await work(tx);
    emitted = s.events;
    await notifyAll(tx, s.events, db.now());
    return { result: s, changes: s.changes, audit: s.audit };
  });
  events.emit(emitted);
  if (out.refusal) throw out.refusal;
  return out.result;
}

export interface NewRequest {
  readonly holder: Holder;
  /** A role, or `scope` on `resource` (exactly one of the two). */
  readonly role?: string | undefined;
  readonly scope?: string | undefined;
  readonly resource?: string | undefined;
  /** Seconds. */
  readonly duration: number;
  readonly justification: string;
}

/** Files a request; under a policy that needs no approval, grants it at once. */
export async function createAccessRequest(db: Database, input: NewRequest, requester: Requester, by: Actor, now: number, events: AccessRequestEvents): Promise<AccessRequestView> {
  const target = requestTarget(input);
  const justification = checkText(input.justification, 'justification', 1000);
  return step(db, events, async (tx) => {
    const holder = await resolveHolder(tx, input.holder);
    if ('role' in target) await mustExist(findRole(tx, target.role), `no role named ${target.role}`);
    else await checkScopeOnResource(tx, target.resource, target.scope);
    const terms = await policyFor(tx, target);
    const open = await tx.accessRequest.count({ where: { holderId: holder.id, ...targetColumns(target), state: 'pending', lapsesAt: { gt: new Date(now) } } });
    const decision = decideRequest(terms, target, input.duration, open > 0);
    if (!decision.ok) throw new AccessRequestRefused(decision);
    // Separation of duties: a request that could never be granted is refused when filed. A
    // conflict that arises later (another grant, a new role inclusion) refuses the approval
    // instead, and the request stays pending until denied, cancelled or lapsed (exclusive-roles.ts).
    if ('role' in target && holder.roles) {
      const inForce = rolesInForce(holder.roles, now);
      if (!inForce.includes(target.role)) await assertSeparationOfDuties(tx, holder.label, inForce, [...inForce, target.role]);
    }
    const held = await heldUntil(tx, holder, target, now);
    if (held !== undefined && (held === null || held.getTime() >= now + input.duration * 1000)) {
      throw new AccessRequestRefused({ ok: false, code: 'conflict', reason: 'already_held', message: `${holder.label} already holds ${describeTarget(target)} ${held ? `until ${held.toISOString()}` : 'permanently'}` });
    }
    const row = await insertAccessRequest(tx, {
      id: newRequestId(),
      holderType: holder.type,
      holderId: holder.id,
      holderLabel: holder.label,
      ...targetColumns(target),
      duration: input.duration,
      justification,
      requestedByType: requester.type,
      requestedBy: requester.id,
      state: 'pending',
      createdAt: new Date(now),
      lapsesAt: new Date(now + (terms?.lapseAfter ?? 0) * 1000),
    });
    const filed = event('requested', row, requester.id, now);
    if (terms?.requireApproval !== false) {
      const v = requestView(row, now);
      return { result: v, changes: [], audit: [record(by, 'access_request.requested', v)], events: [filed] };
    }
    // No approval needed: the request is the record of who asked, why and for how long.
    const { expiresAt, granted } = await grantFor(tx, row, by, now);
    await closeAccessRequest(tx, row.id, { state: 'approved', decidedAt: new Date(now), grantExpiresAt: expiresAt });
    const v = requestView(await mustExist(findAccessRequest(tx, row.id), row.id), now);
    return {
      result: v,
      changes: granted.changes,
      audit: [record(by, 'access_request.requested', v), ...granted.audit, record(by, 'access_request.granted', v, { approvers: [], approval_required: false, approver_distinct_from_requester: null })],
      events: [filed, event('granted', row, 'policy', now, expiresAt)],
    };
  });
}

/** The approver, looked up under the write lock, and whether they hold the approver role now. */
async function approverFacts(tx: Tx, who: { email: string } | { id: string }, approverRole: string | undefined, now: number): Promise<ApproverFacts> {
  const where = 'email' in who ? { email: normalizeEmail(who.email) } : who;
  const person = await mustExist(findPersonWithRoles(tx, where), `no user ${'email' in where ? where.email : where.id}`);
  // Held directly or through a role that includes it (role-hierarchy.ts).
  const holds = approverRole !== undefined && (await rolesReached(tx, person.roles, now)).has(approverRole);
  return { id: person.id, email: person.email, disabled: person.disabled, holdsApproverRole: holds };
}

/** A pending request found past its time: closed as lapsed in this transaction, with its record and event. */
async function lapse(tx: Tx, r: AccessRequestRow, now: number) {
  await closeAccessRequest(tx, r.id, { state: 'lapsed', decidedAt: r.lapsesAt });
  const v = requestView(await mustExist(findAccessRequest(tx, r.id), r.id), now);
  return { view: v, audit: record({ actorType: 'system', actor: 'system' }, 'access_request.lapsed', v), event: event('lapsed', r, 'system', now) };
}

export type Decision = { readonly approve: true; readonly reason?: string } | { readonly approve: false; readonly reason?: string };

/**
 * One approver's answer. An approval that completes the request grants the role at once; a
 * denial ends it. Refused attempts (self-approval, not an approver, decided or lapsed request)
 * are recorded with outcome "denied" and answered with AccessRequestRefused.
 */
export async function decideAccessRequest(
  db: Database,
  id: string,
  approver: { email: string } | { id: string },
  decision: Decision,
  by: Actor,
  now: number,
  events: AccessRequestEvents,
): Promise<AccessRequestView> {
  const reason = decision.reason === undefined ? null : checkText(decision.reason, 'reason', 500);
  const action = decision.approve ? 'approve' : 'deny';
  return step(db, events, async (tx) => {
    const r = await mustExist(findAccessRequest(tx, id), `no access request ${JSON.stringify(id.slice(0, 80))}`);
    const terms = await policyFor(tx, targetOf(r));
    const who = await approverFacts(tx, approver, terms?.approverRole, now);
    const approvedBy = r.decisions.filter((d) => d.decision === 'approve').map((d) => d.approverId);
    const verdict = decision.approve ? decideApproval(facts(r), terms, who, approvedBy, now) : decideDenial(facts(r), terms, who, now);
    if (!verdict.ok) {
      const found = r.state === 'pending' && r.lapsesAt.getTime() <= now ? await lapse(tx, r, now) : undefined;
      const v = found?.view ?? requestView(r, now);
      const refused = record(by, `access_request.${action}_refused`, v, { approver: { id: who.id, email: who.email }, refusal: verdict.reason, message: verdict.message }, 'denied');
      return { result: v, refusal: new AccessRequestRefused(verdict), changes: [], audit: [...(found ? [found.audit] : []), refused], events: found ? [found.event] : [] };
    }
    await insertAccessDecision(tx, r.id, { approverId: who.id, approverEmail: who.email, decision: action, reason, recordedBy: `${by.actorType}:${by.actor ?? ''}`, at: new Date(now) });
    const answered = event(decision.approve ? 'approved' : 'denied', r, who.email, now);
    if (!decision.approve || !('completes' in verdict && verdict.completes)) {
      if (!decision.approve) await closeAccessRequest(tx, r.id, { state: 'denied', decidedAt: new Date(now) });
      const v = requestView(await mustExist(findAccessRequest(tx, r.id), r.id), now);
      return { result: v, changes: [], audit: [record(by, decision.approve ? 'access_request.approved' : 'access_request.denied', v, { approver: { id: who.id, email: who.email }, reason })], events: [answered] };
    }
    const { expiresAt, granted } = await grantFor(tx, r, by, now);
    if (!(await closeAccessRequest(tx, r.id, { state: 'approved', decidedAt: new Date(now), grantExpiresAt: expiresAt }))) {
      throw new AppError('conflict', `request ${r.id} was decided concurrently; nothing was granted`);
    }
    const v = requestView(await mustExist(findAccessRequest(tx, r.id), r.id), now);
    return {
      result: v,
      changes: granted.changes,
      audit: [
        record(by, 'access_request.approved', v, { approver: { id: who.id, email: who.email }, reason, completes: true }),
        ...granted.audit,
        record(by, 'access_request.granted', v, { approvers: v.decisions.filter((d) => d.decision === 'approve').map((d) => ({ id: d.approver_id, email: d.approver_email, at: d.at })), approval_required: true, approver_distinct_from_requester: v.approvers_distinct_from_requester }),
      ],
      events: [answered, event('granted', r, who.email, now, expiresAt)],
    };
  });
}

/** The one who filed a request, or its holder, withdraws it while it is pending. */
export async function cancelAccessRequest(db: Database, id: string, canceller: { type: string; id: string } | { type: 'user'; email: string }, by: Actor, now: number, events: AccessRequestEvents): Promise<AccessRequestView> {
  return step(db, events, async (tx) => {
    const who = 'email' in canceller ? { type: 'user', id: (await approverFacts(tx, canceller, undefined, now)).id } : canceller;
    const r = await findAccessRequest(tx, id);
    // Someone else's request answers as a missing one when a person or a client asks: its id tells them nothing.
    if (!r || ((who.type === 'user' || who.type === 'client') && r.holderId !== who.id && r.requestedBy !== who.id)) throw new AppError('not_found', `no access request ${JSON.stringify(id.slice(0, 80))}`);
    const verdict = decideCancel(facts(r), who, now);
    if (!verdict.ok) throw new AccessRequestRefused(verdict);
    await closeAccessRequest(tx, r.id, { state: 'cancelled', decidedAt: new Date(now) });
    const v = requestView(await mustExist(findAccessRequest(tx, r.id), r.id), now);
    return { result: v, changes: [], audit: [record(by, 'access_request.cancelled', v)], events: [event('cancelled', r, who.id, now)] };
  });
}

/** The sweep: closes every request pending past its time, with a record each. Safe on every instance at once. */
export async function lapseAccessRequests(db: Database, now: number, events: AccessRequestEvents): Promise<number> {
  let emitted: AccessRequestEvent[] = [];
  const n = await writeWithChanges(db, async (tx) => {
    const found = [];
    for (const r of await lapsedRequests(tx, new Date(now))) found.push(await lapse(tx, r, now));
    emitted = found.map((f) => f.event);
    await notifyAll(tx, emitted, now);
    return { result: found.length, changes: [], audit: found.map((f) => f.audit) };
  });
  events.emit(emitted);
  return n;
}

// The rules of access requests, in one place, as pure decisions over plain values: who may ask
// for what and for how long, who may approve or deny, when two approvals are two people, when a
// request has lapsed. access-requests.ts reads the facts inside its write transaction and calls
// these; the CLI, the admin API and the account pages only show what they answer.
// Separation of duties (NIST SP 800-53 AC-5; two-person integrity, AC-3(2) "dual authorization"):
// nobody approves their own request or a request for themselves, and two approvals are two people.

export type RequestState = 'pending' | 'approved' | 'denied' | 'lapsed' | 'cancelled';

/** What is asked for: a role, or one scope on one resource (a time-boxed scope grant, scope-grants.ts). */
export type RequestTarget = { readonly role: string } | { readonly scope: string; readonly resource: string };

/** The target in words, for messages and pages: "role ops", "scope ai.deploy on https://models.example". */
export const describeTarget = (t: RequestTarget): string => ('role' in t ? `role ${t.role}` : `scope ${t.scope} on ${t.resource}`);

const policyCommand = (t: RequestTarget): string =>
  'role' in t ? `govauth requests policy set ${t.role} …` : `govauth requests policy set --scope ${t.scope} --resource ${t.resource} …`;

/** How a target may be requested (an AccessPolicy row per role, a ScopeAccessPolicy row per resource and scope). Durations in seconds. */
export interface AccessPolicyTerms {
  readonly target: RequestTarget;
  readonly requireApproval: boolean;
  /** Distinct approvers needed: 1 or 2. */
  readonly approvals: number;
  readonly approverRole: string;
  readonly maxDuration: number;
  readonly lapseAfter: number;
}

const MIN_REQUEST_SECONDS = 60;
/** The longest any policy may allow: a request is temporary access, not a standing grant. */
const MAX_REQUEST_SECONDS = 90 * 86_400;
const MAX_LAPSE_SECONDS = 30 * 86_400;

/** A refusal: a stable error code (errors/app-error.ts) and what to tell the person. */
export interface Refusal {
  readonly ok: false;
  readonly code: 'invalid_request' | 'forbidden' | 'conflict';
  /** Stable reason for programs (admin API `reason`, CLI --json). */
  readonly reason: string;
  readonly message: string;
}

const refuse = (code: Refusal['code'], reason: string, message: string): Refusal => ({ ok: false, code, reason, message });

/** The request as these rules see it. */
export interface RequestFacts {
  readonly id: string;
  readonly state: RequestState;
  readonly holderType: 'user' | 'client';
  readonly holderId: string;
  readonly requestedByType: string;
  readonly requestedBy: string;
  readonly duration: number;
  /** Epoch ms. */
  readonly lapsesAt: number;
}

/** A person deciding, with whether they hold the approver role now (not expired). */
export interface ApproverFacts {
  readonly id: string;
  readonly email: string;
  readonly disabled: boolean;
  readonly holdsApproverRole: boolean;
}

/** A stored pending request past its lapse time reads as lapsed, before any sweep writes it. */
export function currentState(r: Pick<RequestFacts, 'state' | 'lapsesAt'>, now: number): RequestState {
  return r.state === 'pending' && r.lapsesAt <= now ? 'lapsed' : r.state;
}

/** Whether an administrator's policy terms make sense; the message names the first fault. */
export function policyFault(t: AccessPolicyTerms): string | undefined {
  if (t.approvals !== 1 && t.approvals !== 2) return 'approvals must be 1 or 2 (distinct approvers)';
  if (!Number.isInteger(t.maxDuration) || t.maxDuration < MIN_REQUEST_SECONDS || t.maxDuration > MAX_REQUEST_SECONDS) {
    return `the longest duration must be between ${MIN_REQUEST_SECONDS} seconds and ${MAX_REQUEST_SECONDS / 86_400} days`;
  }
  if (!Number.isInteger(t.lapseAfter) || t.lapseAfter < MIN_REQUEST_SECONDS || t.lapseAfter > MAX_LAPSE_SECONDS) {
    return `a request may stay pending between ${MIN_REQUEST_SECONDS} seconds and ${MAX_LAPSE_SECONDS / 86_400} days`;
  }
  // An approver role that is the requested role would let holders approve their peers into it
  // (fine), but an approver role nobody can hold is caught when the role is looked up.
  return undefined;
}

const human = (seconds: number): string =>
  seconds % 86_400 === 0 ? `${seconds / 86_400}d` : seconds % 3600 === 0 ? `${seconds / 3600}h` : seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;

/** Whether a request for `duration` seconds may be filed under `policy` (undefined: no policy). */
export function decideRequest(policy: AccessPolicyTerms | undefined, target: RequestTarget, duration: number, alreadyPending: boolean): { ok: true } | Refusal {
  const what = describeTarget(target);
  if (!policy) return refuse('invalid_request', 'not_requestable', `${what} cannot be requested: no access policy is set for it (an administrator sets one with ${policyCommand(target)})`);
  if (!Number.isInteger(duration) || duration < MIN_REQUEST_SECONDS) return refuse('invalid_request', 'duration_too_short', `a request must be for at least ${MIN_REQUEST_SECONDS} seconds`);
  if (duration > policy.maxDuration) {
    return refuse('invalid_request', 'duration_too_long', `${what} may be requested for at most ${human(policy.maxDuration)} (asked for ${human(duration)})`);
  }
  if (alreadyPending) return refuse('conflict', 'already_pending', `a request for ${what} is already pending for this holder: cancel it or wait for its decision`);
  return { ok: true };
}

/** A person who took part in the request: its holder, or who filed it. */
function isParty(r: RequestFacts, approverId: string): boolean {
  return (r.holderType === 'user' && r.holderId === approverId) || (r.requestedByType === 'user' && r.requestedBy === approverId);
}

function decidable(r: RequestFacts, policy: AccessPolicyTerms | undefined, approver: ApproverFacts, now: number): Refusal | undefined {
  const state = currentState(r, now);
  if (state === 'lapsed') return refuse('conflict', 'lapsed', `request ${r.id} lapsed unanswered; the requester may ask again`);
  if (state !== 'pending') return refuse('conflict', 'already_decided', `request ${r.id} is ${state} already`);
  if (!policy) return refuse('conflict', 'not_requestable', `request ${r.id} can no longer be decided: the access policy for what it asks was removed`);
  if (isParty(r, approver.id)) return refuse('forbidden', 'self_approval', 'nobody may decide their own request or a request for themselves');
  if (approver.disabled) return refuse('forbidden', 'approver_disabled', `${approver.email} is disabled`);
  if (!approver.holdsApproverRole) return refuse('forbidden', 'not_an_approver', `${approver.email} does not hold role ${policy.approverRole}, which approves requests for ${describeTarget(policy.target)}`);
  return undefined;
}

/**
 * Whether `approver` may approve now, and whether their approval completes the request (the
 * grant is then made in the same transaction). `approvedBy`: who approved before.
 */
export function decideApproval(
  r: RequestFacts,
  policy: AccessPolicyTerms | undefined,
  approver: ApproverFacts,
  approvedBy: readonly string[],
  now: number,
): { ok: true; completes: boolean } | Refusal {
  const refusal = decidable(r, policy, approver, now);
  if (refusal) return refusal;
  if (approvedBy.includes(approver.id)) return refuse('conflict', 'already_approved_by_you', `${approver.email} has approved request ${r.id} already: a second approval must come from someone else`);
  const terms = policy as AccessPolicyTerms;
  // The policy may have been tightened since the request was filed: the grant obeys it now.
  if (r.duration > terms.maxDuration) return refuse('conflict', 'duration_too_long', `request ${r.id} asks for ${human(r.duration)}, beyond the maximum for ${describeTarget(terms.target)} of ${human(terms.maxDuration)} now`);
  return { ok: true, completes: new Set([...approvedBy, approver.id]).size >= terms.approvals };
}

/** Whether `approver` may deny now: anyone who could approve; one denial ends the request. */
export function decideDenial(r: RequestFacts, policy: AccessPolicyTerms | undefined, approver: ApproverFacts, now: number): { ok: true } | Refusal {
  return decidable(r, policy, approver, now) ?? { ok: true };
}

/** Whether the one who filed the request (or the holder) may withdraw it. */
export function decideCancel(r: RequestFacts, by: { type: string; id: string }, now: number): { ok: true } | Refusal {
  const mine = (r.requestedByType === by.type && r.requestedBy === by.id) || (r.holderType === by.type && r.holderId === by.id);
  if (!mine) return refuse('forbidden', 'not_yours', `request ${r.id} is not yours to cancel`);
  const state = currentState(r, now);
  if (state !== 'pending') return refuse('conflict', state === 'lapsed' ? 'lapsed' : 'already_decided', `request ${r.id} is ${state} already`);
  return { ok: true };
}

// The lifecycle of a CIBA request (OpenID CIBA Core 1.0) as govauth keeps it: requested by an
// agent for a person, then exactly one of approved, denied (by the person, or because the
// approval no longer holds) or expired. Each step is one conditional update with its audit
// record and its webhook event in the same transaction (the outbox), so a decision, its record
// and its notification commit together. What the person may approve is the one consent rule
// (policy-model.ts decideConsent: requested ∩ the agent's ceiling ∩ their roles ∩ the resource;
// high-sensitivity scopes only with a recent second factor), then the Cedar policy step with the
// agent as principal (client-ciba.ts CIBA_POLICY_CONTEXT; forbid wins), judged again at the
// moment of the post; the token endpoint judges once more in the agent's own request context.
// oidc-provider (the grant, backchannelResult) is driven by src/oidc/ciba.ts from the outcome.
import { createHash } from 'node:crypto';
import type { Actor, AuditInput } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import {
  closePendingCibaRequest,
  expireCibaRequest,
  expiredPendingCibaRequests,
  findCibaRequest,
  findCibaRequestByGrant,
  insertCibaRequest,
  pendingCibaRequestsOf,
  setCibaRequestGrant,
  type CibaRequestRow,
} from '../db/ciba-request-repository.ts';
import type { Database, Tx } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { enqueueNotification } from '../notifications/notification-event.ts';
import { parseStringArray } from './policy-loader.ts';
import { decideConsent, type ConsentDecision, type PolicySnapshot, type UserDef } from './policy-model.ts';
import type { RevocationState } from './revocation-state.ts';
import type { PolicyStore } from './policy-store.ts';
import { findUserByEmail } from '../db/people-repository.ts';
import { canonicalEmail } from './email-address.ts';
import { consentPolicyNotices, judgeScopes, type PolicyOutcome, type PolicyRequest } from './abac/scope-policy.ts';
import type { AbacStore } from './abac/abac-store.ts';
import { CIBA_POLICY_CONTEXT } from './client-ciba.ts';

/** OpenID Connect scopes of a CIBA request (`openid` is required, §7.1); they are not governed. */
const OIDC_SCOPES = new Set(['openid', 'email', 'offline_access']);

export interface NewCibaRequest {
  readonly authReqId: string;
  readonly clientId: string;
  /** undefined: the login_hint named nobody who may approve (no enumeration: answered like any other). */
  readonly userId: string | undefined;
  readonly bindingMessage: string | undefined;
  readonly scopes: readonly string[];
  readonly resource: string | undefined;
  /** Epoch ms. */
  readonly expiresAt: number;
}

/**
 * The person a login_hint (their email) names who may approve now, or undefined: nobody by that
 * address, a disabled person, or not an address at all. The caller answers all of these alike.
 */
export async function personForLoginHint(db: Database, policy: Pick<PolicyStore, 'user'>, loginHint: string): Promise<UserDef | undefined> {
  const email = canonicalEmail(loginHint);
  if (!email || email.length > 254) return undefined;
  const row = await findUserByEmail(db, email);
  const user = row ? policy.user(row.id) : undefined;
  return user && !user.disabled ? user : undefined;
}

/**
 * govauth's id of the request for oidc-provider's auth_req_id: derived, so the token endpoint
 * names it in the token (act-claim.ts approvalClaims) without a lookup, and one-way, so neither
 * the audit trail nor the token reveals the auth_req_id (the agent's credential for the token).
 */
export const cibaRequestIdFor = (authReqId: string): string => `cr_${createHash('sha256').update(`govauth-ciba-request\0${authReqId}`).digest('base64url').slice(0, 22)}`;

const scopesOf = (r: CibaRequestRow): string[] => parseStringArray(r.scopes, 'CibaRequest.scopes');

/** What audit records and events say about a request (never the auth_req_id: it is the agent's credential for the token). */
function facts(r: { id: string; clientId: string; userId: string | null; bindingMessage: string | null; resource: string | null }, scopes: readonly string[]) {
  return { ciba_request: r.id, client_id: r.clientId, user_id: r.userId, binding_message: r.bindingMessage, scopes: [...scopes], resource: r.resource };
}

/** Records a request made at /backchannel: audited always, announced (webhook) only when someone can decide it. */
export async function recordCibaRequest(db: Database, input: NewCibaRequest, by: Actor, now: number): Promise<string> {
  const id = cibaRequestIdFor(input.authReqId);
  const row = { id, authReqId: input.authReqId, clientId: input.clientId, userId: input.userId ?? null, bindingMessage: input.bindingMessage ?? null, scopes: JSON.stringify(input.scopes), resource: input.resource ?? null, createdAt: new Date(now), expiresAt: new Date(input.expiresAt) };
  await writeWithChanges(db, async (tx) => {
    await insertCibaRequest(tx, row);
    const data = { ...facts(row, input.scopes), expires_at: row.expiresAt.toISOString() };
    if (row.userId !== null) await enqueueNotification(tx, { type: 'ciba.requested', data, occurredAt: now }, now);
    // An unknown person is recorded as such for the operator (the agent is told nothing).
    const audit: AuditInput = { ...by, action: 'ciba.requested', subject: row.userId ?? undefined, clientId: row.clientId, resource: row.resource ?? undefined, detail: { ...data, person_known: row.userId !== null } };
    return { result: undefined, changes: [], audit: [audit] };
  });
  return id;
}

/** The approving person's sign-in (it becomes the token's amr and auth_time) and the policy set in force. */
export interface ApprovalContext {
  readonly abac: Pick<AbacStore, 'active'> | undefined;
  readonly amr: readonly string[] | undefined;
  readonly authTime: number | undefined;
}

/**
 * The policy step's input at the approval. The agent's address and proof-of-possession binding
 * are known only when it redeems the approval, so here there is no address (no zone applies) and
 * no binding, as on the consent page: a policy needing either leaves the scope out (fail closed),
 * and the token endpoint judges again with the agent's own request, where forbid still wins.
 */
function approvalPolicy(approval: ApprovalContext | undefined, now: number): PolicyRequest | undefined {
  const active = approval?.abac?.active();
  if (!active || active.state === 'none') return undefined;
  return { active, facts: { at: now, sourceIp: undefined, amr: approval?.amr ?? [], authTime: approval?.authTime, binding: 'bearer', ...CIBA_POLICY_CONTEXT } };
}

/** What the person may approve: the consent rule's decision less what the policy refuses, and the policy's finding. */
interface CibaConsent extends ConsentDecision {
  readonly policy: PolicyOutcome | undefined;
}

/** A request waiting for the signed-in person, as their approvals page shows it. */
export interface PendingCibaRequest {
  readonly id: string;
  readonly clientId: string;
  readonly clientName: string;
  readonly bindingMessage: string | null;
  readonly resource: { readonly audience: string; readonly name: string } | null;
  readonly scopes: readonly { readonly name: string; readonly description: string; readonly sensitivity: string }[];
  /** What approving would grant now, and why anything else is left out. */
  readonly decision: CibaConsent | undefined;
  /** One sentence per scope the access policy leaves out (abac/scope-policy.ts consentPolicyNotices). */
  readonly policyNotices: readonly string[];
  readonly requestedAt: string;
  readonly expiresAt: string;
}

/**
 * The consent rule for a request at `now`, roles AND policy (the agent acting for the person);
 * undefined when the agent or resource is gone (nothing can be granted).
 */
function consentFor(snapshot: PolicySnapshot, user: UserDef, r: CibaRequestRow, mfaFresh: boolean, now: number, approval: ApprovalContext | undefined): CibaConsent | undefined {
  const client = snapshot.clients.get(r.clientId);
  const resource = r.resource === null ? undefined : snapshot.resources.get(r.resource);
  if (!client || client.disabled || !client.ciba || !resource) return undefined;
  const decision = decideConsent(snapshot, user, client, resource.audience, scopesOf(r).filter((s) => !OIDC_SCOPES.has(s)), mfaFresh, now);
  const policy = judgeScopes(approvalPolicy(approval, now), { kind: 'agent', user, client }, resource, decision.grantable);
  if (!policy?.removed.length) return { ...decision, policy };
  const refused = new Set(policy.removed.map((x) => x.scope));
  return { ...decision, grantable: decision.grantable.filter((s) => !refused.has(s)), policy };
}

export async function pendingCibaFor(db: Database, snapshot: PolicySnapshot, user: UserDef, mfaFresh: boolean, now: number, approval?: ApprovalContext): Promise<PendingCibaRequest[]> {
  const rows = await pendingCibaRequestsOf(db, user.id, new Date(now));
  return rows.map((r) => {
    const client = snapshot.clients.get(r.clientId);
    const resource = r.resource === null ? undefined : snapshot.resources.get(r.resource);
    const decision = consentFor(snapshot, user, r, mfaFresh, now, approval);
    return {
      id: r.id,
      clientId: r.clientId,
      clientName: client?.name ?? r.clientId,
      bindingMessage: r.bindingMessage,
      resource: r.resource === null ? null : { audience: r.resource, name: resource?.name ?? r.resource },
      scopes: scopesOf(r).map((name) => {
        const def = snapshot.scopes.get(name);
        return { name, description: def?.description ?? (OIDC_SCOPES.has(name) ? 'Your account identifier (OpenID Connect)' : 'unknown permission'), sensitivity: def?.sensitivity ?? 'low' };
      }),
      decision,
      policyNotices: decision?.policy ? consentPolicyNotices(decision.policy) : [],
      requestedAt: r.createdAt.toISOString(),
      expiresAt: r.expiresAt.toISOString(),
    };
  });
}

/** The outcome oidc-provider is told (src/oidc/ciba.ts): a grant of exactly these scopes, or access_denied. */
export type CibaOutcome =
  | { readonly approved: true; readonly request: CibaRequestRow; readonly scopes: readonly string[]; readonly oidcScopes: readonly string[]; readonly resource: string }
  | { readonly approved: false; readonly request: CibaRequestRow; readonly reason: string };

export interface CibaDecisionInput {
  readonly approve: boolean;
  /** The person's second factor counts now (step-up.ts). */
  readonly mfaFresh: boolean;
  /** How the deciding sign-in authenticated (the token's amr and auth_time): the policy step's context. */
  readonly amr?: readonly string[] | undefined;
  readonly authTime?: number | undefined;
}

async function close(tx: Tx, r: CibaRequestRow, status: 'approved' | 'denied', user: UserDef, now: number): Promise<void> {
  if (!(await closePendingCibaRequest(tx, r.id, status, user.id, new Date(now)))) {
    throw new AppError('conflict', 'This request was already decided or has expired: nothing was changed.');
  }
}

/** What the approval's audit record says about the policy step, as token.issued does (oidc/token-audit.ts). */
const policyFacts = (p: PolicyOutcome) => ({
  policy_version: p.version,
  policies: p.permittedBy,
  policy_removed: p.removed.map((r) => ({ scope: r.scope, reason: r.verdict.reason, policies: r.verdict.policies })),
});

/**
 * The person's decision on request `id`. Fails closed: a request that is not theirs is not
 * found; an approval that no longer holds (the agent disabled, its CIBA withdrawn or revoked, the
 * person revoked, nothing left they may grant) ends the request as denied, and says why. A
 * high-sensitivity scope without a recent second factor is refused before anything changes, so
 * the person can step up and approve.
 */
export async function decideCibaRequest(
  db: Database,
  ctx: { snapshot: PolicySnapshot; revocations: Pick<RevocationState, 'check'>; abac?: Pick<AbacStore, 'active'> | undefined },
  id: string,
  user: UserDef,
  input: CibaDecisionInput,
  by: Actor,
  now: number,
): Promise<CibaOutcome> {
  const found = await findCibaRequest(db, id);
  if (!found || found.userId !== user.id) throw new AppError('not_found', 'There is no such request waiting for you.');
  const scopes = scopesOf(found);
  let outcome: CibaOutcome;
  let policy: PolicyOutcome | undefined;
  if (!input.approve) {
    outcome = { approved: false, request: found, reason: 'denied by the person' };
  } else {
    const decision = consentFor(ctx.snapshot, user, found, input.mfaFresh, now, { abac: ctx.abac, amr: input.amr, authTime: input.authTime });
    // Fail closed (issue 24): nothing is approved that an unloadable policy set could not check;
    // the request stays pending (409: the policy's current state refuses it, nothing changed), so
    // the person can approve once the set is loadable again.
    policy = decision?.policy;
    if (policy?.unavailable) throw new AppError('conflict', 'The access policy cannot be evaluated right now, so nothing was approved. Try again later.');
    const stale = decision?.withheld.filter((w) => w.reason === 'mfa_required') ?? [];
    if (stale.length) throw new AppError('forbidden', `Approving needs a recent two-step verification (for ${stale.map((w) => w.scope).join(', ')}): sign in again with your second factor, then approve.`);
    // Revoked since the agent asked (govauth revoke --user / --client / --role): the approval does not hold.
    const revoked = ctx.revocations.check({ iat: Math.floor(found.createdAt.getTime() / 1000), userId: user.id, clientId: found.clientId, roles: decision?.roles ?? [] });
    if (!decision || !decision.grantable.length || revoked || found.resource === null) {
      const refusedByPolicy = decision?.policy?.removed.length ? `refused by access policy: ${decision.policy.removed.map((x) => `${x.scope} (${x.verdict.message})`).join('; ')}` : undefined;
      const reason = revoked ? `revoked (${revoked}) since the request` : !decision ? 'the agent may no longer use CIBA for this resource' : (refusedByPolicy ?? 'you hold none of the requested permissions');
      outcome = { approved: false, request: found, reason };
    } else {
      outcome = { approved: true, request: found, scopes: decision.grantable, oidcScopes: scopes.filter((s) => OIDC_SCOPES.has(s)), resource: found.resource };
    }
  }
  const status = outcome.approved ? 'approved' : 'denied';
  await writeWithChanges(db, async (tx) => {
    await close(tx, found, status, user, now);
    const data = { ...facts(found, scopes), decided_by: user.id, ...(outcome.approved ? { granted_scopes: outcome.scopes } : { reason: outcome.reason }), ...(policy && policyFacts(policy)) };
    await enqueueNotification(tx, { type: `ciba.${status}`, data, occurredAt: now }, now);
    return { result: undefined, changes: [], audit: [{ ...by, action: `ciba.${status}`, subject: user.id, clientId: found.clientId, resource: found.resource ?? undefined, outcome: outcome.approved ? 'success' : 'denied', detail: data }] };
  });
  return outcome;
}

/**
 * Names the oidc-provider grant an approved request became (src/oidc/ciba.ts, before the agent can
 * redeem it). A refresh of that grant carries no auth_req_id, so its tokens find the approval
 * they act on by the grant (approvalOfGrant). Once, and only for an approved request.
 */
export async function recordApprovalGrant(db: Database, id: string, grantId: string): Promise<void> {
  if (!(await setCibaRequestGrant(db, id, grantId))) throw new AppError('conflict', `CIBA request ${id} is not approved, or already names its grant`);
}

/**
 * The approved request whose grant this is, when the refreshing agent and the person are the
 * ones it was approved for; undefined otherwise (the caller refuses: fail closed).
 */
export async function approvalOfGrant(db: Database, grantId: string, clientId: string, userId: string): Promise<string | undefined> {
  const r = await findCibaRequestByGrant(db, grantId);
  return r?.status === 'approved' && r.clientId === clientId && r.userId === userId ? r.id : undefined;
}

/**
 * Closes the pending requests past their time, one conditional update each (a decision racing
 * it wins or loses as a whole), with their audit records and events. oidc-provider answers
 * expired_token by itself from its own copy's expiry; this records the outcome.
 */
export async function expireCibaRequests(db: Database, now: number): Promise<number> {
  return writeWithChanges(db, async (tx) => {
    const audit: AuditInput[] = [];
    for (const r of await expiredPendingCibaRequests(tx, new Date(now))) {
      if (!(await expireCibaRequest(tx, r.id, new Date(now)))) continue;
      const data = facts(r, scopesOf(r));
      if (r.userId !== null) await enqueueNotification(tx, { type: 'ciba.expired', data, occurredAt: now }, now);
      audit.push({ actorType: 'system', actor: 'ciba-expiry', action: 'ciba.expired', subject: r.userId ?? undefined, clientId: r.clientId, resource: r.resource ?? undefined, detail: { ...data, person_known: r.userId !== null } });
    }
    return { result: audit.length, changes: [], audit };
  });
}

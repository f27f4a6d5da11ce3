// The lifecycle of a CIBA request (OpenID CIBA Core 1.0) as govauth keeps it: requested by an
// agent for a person, then exactly one of approved, denied (by the person, or because the
// approval no longer holds) or expired. Each step is one conditional update with its audit
// record and its webhook event in the same transaction (the outbox), so a decision, its record
// and its notification commit together. What the person may approve is the one consent rule
// (policy-model.ts decideConsent: requested ∩ the agent's ceiling ∩ their roles ∩ the resource;
// high-sensitivity scopes only with a recent second factor), judged again at the moment of the post.
// oidc-provider (the grant, backchannelResult) is driven by src/oidc/ciba.ts from the outcome.
import { createHash } from 'node:crypto';
import type { Actor, AuditInput } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import {
  closePendingCibaRequest,
  expireCibaRequest,
  expiredPendingCibaRequests,
  findCibaRequest,
  insertCibaRequest,
  pendingCibaRequestsOf,
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
    const audit: AuditInput = { ...by, action: 'ciba.requested', subject: row.userId ?? undefined, clientId: row.clientId, detail: { ...data, person_known: row.userId !== null } };
    return { result: undefined, changes: [], audit: [audit] };
  });
  return id;
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
  readonly decision: ConsentDecision | undefined;
  readonly requestedAt: string;
  readonly expiresAt: string;
}

/** The consent rule for a request at `now`; undefined when the agent or resource is gone (nothing can be granted). */
function consentFor(snapshot: PolicySnapshot, user: UserDef, r: CibaRequestRow, mfaFresh: boolean, now: number): ConsentDecision | undefined {
  const client = snapshot.clients.get(r.clientId);
  if (!client || client.disabled || !client.ciba || r.resource === null || !snapshot.resources.has(r.resource)) return undefined;
  return decideConsent(snapshot, user, client, r.resource, scopesOf(r).filter((s) => !OIDC_SCOPES.has(s)), mfaFresh, now);
}

export async function pendingCibaFor(db: Database, snapshot: PolicySnapshot, user: UserDef, mfaFresh: boolean, now: number): Promise<PendingCibaRequest[]> {
  const rows = await pendingCibaRequestsOf(db, user.id, new Date(now));
  return rows.map((r) => {
    const client = snapshot.clients.get(r.clientId);
    const resource = r.resource === null ? undefined : snapshot.resources.get(r.resource);
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
      decision: consentFor(snapshot, user, r, mfaFresh, now),
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
}

async function close(tx: Tx, r: CibaRequestRow, status: 'approved' | 'denied', user: UserDef, now: number): Promise<void> {
  if (!(await closePendingCibaRequest(tx, r.id, status, user.id, new Date(now)))) {
    throw new AppError('conflict', 'This request was already decided or has expired: nothing was changed.');
  }
}

/**
 * The person's decision on request `id`. Fails closed: a request that is not theirs is not
 * found; an approval that no longer holds (the agent disabled, its CIBA withdrawn or revoked, the
 * person revoked, nothing left they may grant) ends the request as denied, and says why. A
 * high-sensitivity scope without a recent second factor is refused before anything changes, so
 * the person can step up and approve.
 */
export async function decideCibaRequest(
  db: Database,
  ctx: { snapshot: PolicySnapshot; revocations: Pick<RevocationState, 'check'> },
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
  if (!input.approve) {
    outcome = { approved: false, request: found, reason: 'denied by the person' };
  } else {
    const decision = consentFor(ctx.snapshot, user, found, input.mfaFresh, now);
    const stale = decision?.withheld.filter((w) => w.reason === 'mfa_required') ?? [];
    if (stale.length) throw new AppError('forbidden', `Approving needs a recent two-step verification (for ${stale.map((w) => w.scope).join(', ')}): sign in again with your second factor, then approve.`);
    // Revoked since the agent asked (govauth revoke --user / --client / --role): the approval does not hold.
    const revoked = ctx.revocations.check({ iat: Math.floor(found.createdAt.getTime() / 1000), userId: user.id, clientId: found.clientId, roles: decision?.roles ?? [] });
    if (!decision || !decision.grantable.length || revoked || found.resource === null) {
      const reason = revoked ? `revoked (${revoked}) since the request` : !decision ? 'the agent may no longer use CIBA for this resource' : 'you hold none of the requested permissions';
      outcome = { approved: false, request: found, reason };
    } else {
      outcome = { approved: true, request: found, scopes: decision.grantable, oidcScopes: scopes.filter((s) => OIDC_SCOPES.has(s)), resource: found.resource };
    }
  }
  const status = outcome.approved ? 'approved' : 'denied';
  await writeWithChanges(db, async (tx) => {
    await close(tx, found, status, user, now);
    const data = { ...facts(found, scopes), decided_by: user.id, ...(outcome.approved ? { granted_scopes: outcome.scopes } : { reason: outcome.reason }) };
    await enqueueNotification(tx, { type: `ciba.${status}`, data, occurredAt: now }, now);
    return { result: undefined, changes: [], audit: [{ ...by, action: `ciba.${status}`, subject: user.id, clientId: found.clientId, outcome: outcome.approved ? 'success' : 'denied', detail: data }] };
  });
  return outcome;
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
      audit.push({ actorType: 'system', actor: 'ciba-expiry', action: 'ciba.expired', subject: r.userId ?? undefined, clientId: r.clientId, detail: { ...data, person_known: r.userId !== null } });
    }
    return { result: audit.length, changes: [], audit };
  });
}

// Time-boxed grants of one scope on one resource to a person or a client: what an approved
// access request for a scope makes (access-requests.ts). Like a time-boxed role grant
// (role-grants.ts): policy ignores it at the exact instant it expires (scope-grants-model.ts),
// every write reaches every instance through the change feed (the holder's change row reloads
// it, as for a role grant), an administrator can end it at once, and the sweeper deletes
// expired rows and records each expiry. Always expiring: standing access is what roles are for.
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import type { Database, Tx } from '../db/database.ts';
import { deleteExpiredScopeGrants, deleteScopeGrant, scopeGrantRows, upsertScopeGrant, type ScopeGrantRow } from '../db/scope-grant-repository.ts';
import { findResourceWithScopes } from '../db/catalog-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { mustExist } from './catalog.ts';
import { resolvePrincipal, type Principal } from './role-grants.ts';
import { checkText } from './validation.ts';

export interface ScopeGrantView {
  resource: string;
  scope: string;
  expires_at: string;
  /** The access request that made it, if one did. */
  request: string | null;
  reason: string | null;
  granted_at: string;
}

const view = (g: ScopeGrantRow): ScopeGrantView => ({
  resource: g.audience,
  scope: g.scopeName,
  expires_at: g.expiresAt.toISOString(),
  request: g.requestId,
  reason: g.reason,
  granted_at: g.createdAt.toISOString(),
});

/** The scope must be one of the resource's: a grant of a scope the resource does not carry could never be used, and hides a typo. */
export async function checkScopeOnResource(tx: Tx, audience: string, scope: string): Promise<void> {
  const resource = await mustExist(findResourceWithScopes(tx, audience), `no resource ${audience}`);
  if (!resource.scopes.some((s) => s.scopeName === scope)) throw new AppError('invalid_request', `resource ${audience} has no scope ${scope}`);
}

type ScopeGrantInput = { principal: Principal; resource: string; scope: string; expiresAt: Date; requestId?: string; reason?: string };

/**
 * Grants one scope on one resource until `expiresAt`, as one step of the caller's write (an
 * approved access request): its change row and audit record commit with the caller's. A grant
 * in force that lasts longer is kept as it is: a request never shortens access.
 */
export async function grantScopeIn(tx: Tx, input: ScopeGrantInput, by: Actor, now: number, extra: Record<string, unknown> = {}) {
  if (input.expiresAt.getTime() <= now) throw new AppError('invalid_request', 'the expiry must be in the future');
  const reason = input.reason === undefined ? null : checkText(input.reason, 'reason', 500);
  const who = await resolvePrincipal(tx, input.principal);
  await checkScopeOnResource(tx, input.resource, input.scope);
  const before = (await scopeGrantRows(tx, who.kind, who.id)).map(view);
  const held = before.find((g) => g.resource === input.resource && g.scope === input.scope && Date.parse(g.expires_at) > now);
  const expiresAt = held && Date.parse(held.expires_at) > input.expiresAt.getTime() ? new Date(held.expires_at) : input.expiresAt;
  await upsertScopeGrant(tx, who.kind, who.id, input.resource, input.scope, { expiresAt, requestId: input.requestId ?? null, reason });
  const after = (await scopeGrantRows(tx, who.kind, who.id)).map(view);
  return {
    expiresAt,
    changes: [{ kind: who.kind, key: who.id }],
    audit: [{ ...adminEvent(by, 'admin.scope_grant.create', who.id, before, after, { resource: input.resource, scope: input.scope, expires_at: expiresAt.toISOString(), reason, ...extra }), resource: input.resource }],
  };
}

/** Ends a scope grant now: tokens carrying the scope on that resource are judged inactive at once on every instance. */
export async function removeScopeGrant(db: Database, input: { principal: Principal; resource: string; scope: string }, by: Actor): Promise<ScopeGrantView[]> {
  return writeWithChanges(db, async (tx) => {
    const who = await resolvePrincipal(tx, input.principal);
    const before = (await scopeGrantRows(tx, who.kind, who.id)).map(view);
    if (!(await deleteScopeGrant(tx, who.kind, who.id, input.resource, input.scope))) throw new AppError('not_found', `${who.label} holds no grant of scope ${input.scope} on ${input.resource}`);
    const after = (await scopeGrantRows(tx, who.kind, who.id)).map(view);
    return {
      result: after,
      changes: [{ kind: who.kind, key: who.id }],
      audit: [{ ...adminEvent(by, 'admin.scope_grant.remove', who.id, before, after, { resource: input.resource, scope: input.scope }), resource: input.resource }],
    };
  });
}

export async function listScopeGrants(db: Database, principal: Principal): Promise<{ id: string; label: string; grants: ScopeGrantView[] }> {
  const who = await resolvePrincipal(db, principal);
  return { id: who.id, label: who.label, grants: (await scopeGrantRows(db, who.kind, who.id)).map(view) };
}

/** Deletes expired scope grants and records each expiry. Safe to run on every instance at once. */
export async function expireScopeGrants(db: Database, now: Date): Promise<number> {
  return writeWithChanges(db, async (tx) => {
    const expired = await deleteExpiredScopeGrants(tx, now);
    return {
      result: expired.length,
      changes: expired.map((e) => ({ kind: e.holder, key: e.holderId })),
      audit: expired.map((e) => ({
        action: 'scope_grant.expired',
        actorType: 'system' as const,
        actor: 'system',
        subject: e.holderId,
        resource: e.audience,
        detail: { principal_type: e.holder, resource: e.audience, scope: e.scopeName, expired_at: e.expiresAt.toISOString(), request: e.requestId, reason: e.reason },
      })),
    };
  });
}

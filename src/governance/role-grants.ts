// Role grants to people and clients, optionally time-boxed: temporary access that expires by
// itself. Policy already ignores an expired grant at the exact instant (heldScopes), so tokens
// stop getting its scopes and introspection reports tokens carrying them inactive; the sweeper
// then deletes expired rows and records each expiry in the audit trail.
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import { findRole } from '../db/catalog-repository.ts';
import { findClientGrantTypes } from '../db/client-repository.ts';
import type { Database, Tx } from '../db/database.ts';
import { findUserId } from '../db/people-repository.ts';
import { deleteExpiredGrants, deleteGrant, grantRows, upsertGrant, type GrantHolder } from '../db/role-grant-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { mustExist } from './catalog.ts';
import { assertSeparationOfDuties } from './exclusive-roles.ts';
import { mayHoldRoles, ROLES_RULE } from './client-grants.ts';
import { parseStringArray } from './policy-loader.ts';
import { normalizeEmail } from './user-registry.ts';
import { checkRoleName, checkText } from './validation.ts';

export type Principal = { type: 'user'; email: string } | { type: 'client'; id: string };

export interface RoleGrantView {
  role: string;
  expires_at: string | null;
  reason: string | null;
  granted_at: string;
}

const view = (g: { roleName: string; expiresAt: Date | null; reason: string | null; createdAt: Date }): RoleGrantView => ({
  role: g.roleName,
  expires_at: g.expiresAt?.toISOString() ?? null,
  reason: g.reason,
  granted_at: g.createdAt.toISOString(),
});

/** The holder of a grant, looked up (a client must be one that may hold grants: ROLES_RULE). */
export async function resolvePrincipal(tx: Tx | Database, p: Principal): Promise<{ kind: GrantHolder; id: string; label: string }> {
  if (p.type === 'user') {
    const email = normalizeEmail(p.email);
    const user = await mustExist(findUserId(tx, email), `no user ${email}`);
    return { kind: 'user', id: user.id, label: email };
  }
  const client = await mustExist(findClientGrantTypes(tx, p.id), `no client ${p.id}`);
  if (!mayHoldRoles(parseStringArray(client.grantTypes, 'Client.grantTypes'))) throw new AppError('invalid_request', ROLES_RULE);
  return { kind: 'client', id: client.id, label: client.id };
}

async function grantsOf(tx: Tx | Database, kind: GrantHolder, id: string): Promise<RoleGrantView[]> {
  return (await grantRows(tx, kind, id)).map(view);
}

/**
 * Granting a role the principal already holds would end that grant sooner: a permanent grant
 * turned into an expiring one, or an expiry moved earlier. That takes access away, which a
 * "grant" must not do by accident (an operator extending someone's access for a release would
 * otherwise silently cut their permanent role to 8 hours). The caller (CLI, admin API) says
 * how to confirm it; `existing` is the grant in force.
 */
export class GrantWouldShorten extends AppError {
  readonly existing: RoleGrantView;
  constructor(label: string, existing: RoleGrantView, requested: Date) {
    const held = existing.expires_at === null ? 'permanently' : `until ${existing.expires_at}`;
    const why = existing.reason === null ? '' : `, reason ${JSON.stringify(existing.reason)}`;
    super('conflict', `${label} already holds role ${existing.role} ${held} (granted ${existing.granted_at}${why}); granting it until ${requested.toISOString()} would shorten it`);
    this.existing = existing;
  }
}

/** The rule, in one place: a new grant may keep or lengthen a grant in force, never shorten it unless `replace`. */
function checkNotShortening(label: string, existing: RoleGrantView | undefined, expiresAt: Date | null, replace: boolean, now: number): void {
  if (replace || !existing || expiresAt === null) return; // nothing held, or the new grant is permanent
  const held = existing.expires_at === null ? Number.POSITIVE_INFINITY : Date.parse(existing.expires_at);
  if (held <= now) return; // expired already (the sweeper has not deleted it yet): not in force
  if (expiresAt.getTime() < held) throw new GrantWouldShorten(label, existing, expiresAt);
}

type GrantInput = { principal: Principal; role: string; expiresAt?: Date | null; reason?: string; replace?: boolean };
type Extra = Record<string, unknown>;

/**
 * Grants a role (permanently when `expiresAt` is null). Extending a grant, or making an
 * expiring one permanent, needs nothing more; shortening one needs `replace: true`.
 */
export async function grantRole(db: Database, input: GrantInput, by: Actor, now: number): Promise<RoleGrantView[]> {
  return writeWithChanges(db, (tx) => grantRoleIn(tx, input, by, now));
}

/**
 * The grant as one step of a larger write (an approved access request, access-requests.ts): the
 * caller's transaction commits it, its change rows and its audit record together with its own.
 * `extra` joins the audit record's detail (e.g. the request it completes).
 */
export async function grantRoleIn(tx: Tx, input: GrantInput, by: Actor, now: number, extra: Extra = {}) {
  const role = checkRoleName(input.role);
  const expiresAt = input.expiresAt ?? null;
  if (expiresAt && expiresAt.getTime() <= now) throw new AppError('invalid_request', 'the expiry must be in the future');
  const reason = input.reason === undefined ? null : checkText(input.reason, 'reason', 500);
  const who = await resolvePrincipal(tx, input.principal);
  await mustExist(findRole(tx, role), `no role named ${role}`);
  // Read under the write lock: a concurrent grant cannot slip between the check and the write.
  const before = await grantsOf(tx, who.kind, who.id);
  checkNotShortening(who.label, before.find((g) => g.role === role), expiresAt, input.replace === true, now);
  // Separation of duties: time-boxed grants count while in force, as do roles reached through
  // the hierarchy (exclusive-roles.ts). An approved access request comes through here too.
  const inForce = before.filter((g) => g.expires_at === null || Date.parse(g.expires_at) > now).map((g) => g.role);
  await assertSeparationOfDuties(tx, who.label, inForce, [...inForce, role]);
  await upsertGrant(tx, who.kind, who.id, role, { expiresAt, reason });
  const after = await grantsOf(tx, who.kind, who.id);
  return {
    result: after,
    changes: [{ kind: who.kind, key: who.id }],
    audit: [adminEvent(by, 'admin.role_grant.create', who.id, before, after, { role, expires_at: expiresAt?.toISOString() ?? null, reason, ...(input.replace === true && { replace: true }), ...extra })],
  };
}

export async function removeRoleGrant(db: Database, input: { principal: Principal; role: string }, by: Actor): Promise<RoleGrantView[]> {
  return writeWithChanges(db, async (tx) => {
    const who = await resolvePrincipal(tx, input.principal);
    const before = await grantsOf(tx, who.kind, who.id);
    if (!before.some((g) => g.role === input.role)) throw new AppError('not_found', `${who.label} does not hold role ${input.role}`);
    await deleteGrant(tx, who.kind, who.id, input.role);
    const after = await grantsOf(tx, who.kind, who.id);
    return { result: after, changes: [{ kind: who.kind, key: who.id }], audit: [adminEvent(by, 'admin.role_grant.remove', who.id, before, after, { role: input.role })] };
  });
}

export async function listRoleGrants(db: Database, principal: Principal): Promise<{ id: string; label: string; grants: RoleGrantView[] }> {
  const who = await resolvePrincipal(db, principal);
  return { id: who.id, label: who.label, grants: await grantsOf(db, who.kind, who.id) };
}

/** Deletes expired grants and records each expiry. Safe to run on every instance at once. */
export async function expireRoleGrants(db: Database, now: Date): Promise<number> {
  return writeWithChanges(db, async (tx) => {
    const expired = await deleteExpiredGrants(tx, now);
    return {
      result: expired.length,
      changes: expired.map((e) => ({ kind: e.holder, key: e.holderId })),
      audit: expired.map((e) => ({
        action: 'role_grant.expired',
        actorType: 'system' as const,
        actor: 'system',
        subject: e.holderId,
        detail: { principal_type: e.holder, role: e.roleName, expired_at: e.expiresAt?.toISOString(), reason: e.reason },
      })),
    };
  });
}

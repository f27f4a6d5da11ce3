// Deleting a role: the one place that decides when it may go and what goes with it (the admin
// API, `govauth role delete` and the console all call deleteRole).
// - A role govauth relies on (admin-model.ts BUILT_IN_ROLES) is never deleted, force or not:
//   the admin API, the console and access requests are defined by them, and nothing recreates
//   them once the admin resource exists.
// - A role still in use is refused (409, naming the uses): held by a person or a client (a grant
//   in force, permanent or time-boxed), included by another role, named by a delegation policy,
//   requestable (an access policy on it) or the approver role of an access policy. Taking access
//   away from people should be a decision about them, made where it shows.
// - With force, all of that goes in the same transaction, and the role is revoked as
//   `govauth revoke --role` does: every token carrying it issued until now is inactive at
//   introspection on every instance (the revocation travels the change feed like any other).
// What else named the role goes with it either way: its scopes, the edges to roles it includes,
// grants that already expired, its membership of exclusive sets (a set left with one role
// constrains nothing and is withdrawn). The audit record keeps the role as it was and its uses.
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import type { AuditInput } from '../db/audit-record.ts';
import { writeWithChanges, type ChangeRef } from '../db/change-feed.ts';
import { findRoleWithScopes } from '../db/catalog-repository.ts';
import type { Database } from '../db/database.ts';
import { deleteRoleRows, roleUsageRows, type RoleHolderRow, type RoleUsageRows } from '../db/role-deletion-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { BUILT_IN_ROLES } from './admin-model.ts';
import { mustExist } from './catalog.ts';
import { listedNames, loadRoleConstraints } from './exclusive-roles.ts';
import { includersOf } from './role-hierarchy.ts';
import { revokeRoleIn } from './revocations.ts';

export interface DeletedRoleView {
  name: string;
  description: string;
  scopes: string[];
  /** Grants in force when it was deleted (each lost it with force). */
  holders: { people: number; clients: number };
  /** What went with it besides its grants. */
  removed: {
    included_by: string[];
    includes: string[];
    delegation_policies: string[];
    access_policy: boolean;
    approver_of: string[];
    exclusive_sets: string[];
  };
  forced: boolean;
  /** The role revocation that ends tokens carrying it (as `govauth revoke --role`). */
  revoked: { cutoff: string; expires_at: string };
}

export interface DeleteRoleOptions {
  readonly force: boolean;
  /** Seconds a token issued before now can live: how long the role revocation stays in force. */
  readonly horizonSeconds: number;
  readonly now: number;
}

/** A deletion refused because the role is in use; `force` would go ahead. */
export class RoleInUse extends AppError {
  readonly uses: readonly string[];
  constructor(name: string, uses: readonly string[]) {
    super('conflict', `role ${name} is still in use: ${uses.join('; ')}. Remove those first, or delete it with force: holders lose it and tokens carrying it stop being accepted`);
    this.uses = uses;
  }
}

const inForce = (rows: readonly RoleHolderRow[], now: number): RoleHolderRow[] => rows.filter((r) => r.expiresAt === null || r.expiresAt.getTime() > now);

const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

const approverOf = (u: RoleUsageRows): string[] => [...u.approverFor.roles.map((r) => `role ${r}`), ...u.approverFor.scopes.map((s) => `scope ${s.scopeName} on ${s.audience}`)];

/** The uses that refuse a deletion without force, each a phrase naming them; empty: none. */
function usesOf(u: RoleUsageRows, now: number): string[] {
  const people = inForce(u.users, now);
  const clients = inForce(u.clients, now);
  const uses: string[] = [];
  if (people.length) uses.push(`held by ${count(people.length, 'person', 'people')} (${listedNames(people.map((p) => p.label))})`);
  if (clients.length) uses.push(`held by ${count(clients.length, 'client', 'clients')} (${listedNames(clients.map((c) => c.label))})`);
  if (u.includedBy.length) uses.push(`included by ${u.includedBy.length === 1 ? 'role' : 'roles'} ${listedNames(u.includedBy)}`);
  if (u.delegationPolicies.length) uses.push(`named by ${u.delegationPolicies.length === 1 ? 'delegation policy' : 'delegation policies'} ${listedNames(u.delegationPolicies.map((p) => p.id))}`);
  if (u.accessPolicy) uses.push('requestable under an access policy');
  const approves = approverOf(u);
  if (approves.length) uses.push(`the approver role of the access policy for ${listedNames(approves)}`);
  return uses;
}

export async function deleteRole(db: Database, name: string, options: DeleteRoleOptions, by: Actor): Promise<DeletedRoleView> {
  const { now } = options;
  return writeWithChanges(db, async (tx) => {
    // Read under the change-feed lock: a grant or an edge made concurrently cannot slip past the check.
    const role = await mustExist(findRoleWithScopes(tx, name), `no role named ${name}`);
    if (BUILT_IN_ROLES.includes(name)) {
      throw new AppError('conflict', `role ${name} is built in: govauth's admin API, console and access requests rely on it, so it cannot be deleted (with or without force)`);
    }
    const usage = await roleUsageRows(tx, name);
    const uses = usesOf(usage, now);
    if (uses.length && !options.force) {
      throw new RoleInUse(name, uses);
    }
    const above = includersOf((await loadRoleConstraints(tx)).inclusions, name);
    const emptiedSets = usage.exclusiveSets.filter((s) => s.roles.length <= 2).map((s) => s.name);
    await deleteRoleRows(tx, name, emptiedSets);
    const revocation = await revokeRoleIn(tx, name, { reason: `role ${name} deleted`, actor: by.actor ?? by.actorType, by, horizonSeconds: options.horizonSeconds }, now);
    const before = { name: role.name, description: role.description, scopes: role.scopes.map((s) => s.scopeName).sort() };
    const view: DeletedRoleView = {
      ...before,
      holders: { people: inForce(usage.users, now).length, clients: inForce(usage.clients, now).length },
      removed: {
        included_by: [...usage.includedBy],
        includes: [...usage.includes],
        delegation_policies: usage.delegationPolicies.map((p) => p.id),
        access_policy: usage.accessPolicy,
        approver_of: approverOf(usage),
        exclusive_sets: usage.exclusiveSets.map((s) => s.name),
      },
      forced: options.force,
      revoked: { cutoff: new Date(revocation.result.entry.cutoff).toISOString(), expires_at: new Date(revocation.result.entry.expiresAt).toISOString() },
    };
    // The role and every role whose effective scopes it fed (policy reload, token-status
    // re-judging, as for `govauth role exclude`), each holder whose grants changed, each
    // delegation policy that went.
    const changes: ChangeRef[] = [
      { kind: 'role', key: name },
      ...above.map((key) => ({ kind: 'role', key })),
      ...usage.users.map((u) => ({ kind: 'user', key: u.id })),
      ...usage.clients.map((c) => ({ kind: 'client', key: c.id })),
      ...usage.delegationPolicies.map((p) => ({ kind: 'delegation', key: p.id })),
      ...revocation.changes,
    ];
    const audit: AuditInput[] = [
      adminEvent(by, 'admin.role.delete', name, { ...before, holders: view.holders, expired_grants: usage.users.length + usage.clients.length - view.holders.people - view.holders.clients }, null, {
        forced: options.force,
        removed: view.removed,
        ...(emptiedSets.length && { exclusive_sets_withdrawn: emptiedSets }),
      }),
      ...revocation.audit,
    ];
    return { result: view, changes, audit };
  });
}

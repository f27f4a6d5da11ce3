// Everything that names a role, read before it is deleted, and the deletion itself. The rules
// (what refuses a deletion, what `force` removes, audit records) are in
// src/governance/role-deletion.ts. Rows are deleted explicitly rather than left to the schema's
// cascades: RoleInclusion restricts on its included side, AccessPolicy.approverRole and
// ScopeAccessPolicy.approverRole are plain names without a relation, and the counts go into the
// audit record.
import type { Tx } from './database.ts';

export interface RoleHolderRow {
  readonly id: string;
  /** Email for a person, client id for a client. */
  readonly label: string;
  readonly expiresAt: Date | null;
}

export interface RoleUsageRows {
  readonly users: readonly RoleHolderRow[];
  readonly clients: readonly RoleHolderRow[];
  /** Roles that include it (their holders hold it through them). */
  readonly includedBy: readonly string[];
  /** Roles it includes (edges from it, gone with it). */
  readonly includes: readonly string[];
  readonly delegationPolicies: readonly { id: string; agentRole: string; subjectRole: string; audience: string }[];
  /** Whether it may be requested (an AccessPolicy on it). */
  readonly accessPolicy: boolean;
  /** Access policies whose approvers must hold it: for roles, and for scopes on resources. */
  readonly approverFor: { readonly roles: readonly string[]; readonly scopes: readonly { audience: string; scopeName: string }[] };
  readonly exclusiveSets: readonly { name: string; roles: readonly string[] }[];
}

export async function roleUsageRows(tx: Tx, name: string): Promise<RoleUsageRows> {
  const byRole = { where: { roleName: name } } as const;
  const [users, clients, includedBy, includes, delegationPolicies, accessPolicy, approverRoles, approverScopes, sets] = await Promise.all([
    tx.userRole.findMany({ ...byRole, select: { userId: true, expiresAt: true, user: { select: { email: true } } }, orderBy: { userId: 'asc' } }),
    tx.clientRole.findMany({ ...byRole, select: { clientId: true, expiresAt: true }, orderBy: { clientId: 'asc' } }),
    tx.roleInclusion.findMany({ where: { includedName: name }, select: { roleName: true }, orderBy: { roleName: 'asc' } }),
    tx.roleInclusion.findMany({ where: { roleName: name }, select: { includedName: true }, orderBy: { includedName: 'asc' } }),
    tx.delegationPolicy.findMany({ where: { OR: [{ agentRole: name }, { subjectRole: name }] }, select: { id: true, agentRole: true, subjectRole: true, audience: true }, orderBy: { id: 'asc' } }),
    tx.accessPolicy.findUnique({ where: { roleName: name }, select: { roleName: true } }),
    tx.accessPolicy.findMany({ where: { approverRole: name, NOT: { roleName: name } }, select: { roleName: true }, orderBy: { roleName: 'asc' } }),
    tx.scopeAccessPolicy.findMany({ where: { approverRole: name }, select: { audience: true, scopeName: true }, orderBy: [{ audience: 'asc' }, { scopeName: 'asc' }] }),
    tx.exclusiveRoleSet.findMany({ where: { members: { some: { roleName: name } } }, select: { name: true, members: { select: { roleName: true } } }, orderBy: { name: 'asc' } }),
  ]);
  return {
    users: users.map((u) => ({ id: u.userId, label: u.user.email, expiresAt: u.expiresAt })),
    clients: clients.map((c) => ({ id: c.clientId, label: c.clientId, expiresAt: c.expiresAt })),
    includedBy: includedBy.map((i) => i.roleName),
    includes: includes.map((i) => i.includedName),
    delegationPolicies,
    accessPolicy: accessPolicy !== null,
    approverFor: { roles: approverRoles.map((p) => p.roleName), scopes: approverScopes },
    exclusiveSets: sets.map((s) => ({ name: s.name, roles: s.members.map((m) => m.roleName).sort() })),
  };
}

/**
 * Deletes the role and every row naming it, in the caller's transaction. An exclusive set left
 * with fewer than two roles constrains nothing and goes too (`emptiedSets`).
 */
export async function deleteRoleRows(tx: Tx, name: string, emptiedSets: readonly string[]): Promise<void> {
  await tx.userRole.deleteMany({ where: { roleName: name } });
  await tx.clientRole.deleteMany({ where: { roleName: name } });
  await tx.roleInclusion.deleteMany({ where: { OR: [{ roleName: name }, { includedName: name }] } });
  await tx.delegationPolicy.deleteMany({ where: { OR: [{ agentRole: name }, { subjectRole: name }] } });
  await tx.accessPolicy.deleteMany({ where: { OR: [{ roleName: name }, { approverRole: name }] } });
  await tx.scopeAccessPolicy.deleteMany({ where: { approverRole: name } });
  await tx.exclusiveRoleMember.deleteMany({ where: { roleName: name } });
  if (emptiedSets.length) await tx.exclusiveRoleSet.deleteMany({ where: { name: { in: [...emptiedSets] } } });
  await tx.roleScope.deleteMany({ where: { roleName: name } });
  await tx.role.delete({ where: { name } });
}

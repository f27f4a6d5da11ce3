// Role inclusions (RoleInclusion) and sets of mutually exclusive roles (ExclusiveRoleSet and its
// members), and who holds which roles. The rules (cycles, separation of duties, audit records)
// are in src/governance/role-inclusions.ts and src/governance/exclusive-roles.ts.
import { prismaOf, type Reader, type Tx } from './database.ts';
import type { GrantHolder } from './role-grant-repository.ts';

export interface InclusionRow {
  readonly roleName: string;
  readonly includedName: string;
}

export interface ExclusiveSetRow {
  readonly name: string;
  readonly reason: string | null;
  readonly createdAt: Date;
  readonly members: readonly { roleName: string }[];
}

/** One principal's grants, as the separation-of-duties check needs them. */
export interface HolderGrants {
  readonly holder: GrantHolder;
  readonly id: string;
  /** Email for a person, client id for a client. */
  readonly label: string;
  readonly grants: readonly { roleName: string; expiresAt: Date | null }[];
}

export const inclusionRows = (h: Reader): Promise<InclusionRow[]> =>
  prismaOf(h).roleInclusion.findMany({ select: { roleName: true, includedName: true }, orderBy: [{ roleName: 'asc' }, { includedName: 'asc' }] });

/** Every role with its own scopes (a role's tree and effective scopes are built from them). */
export const roleScopeRows = (h: Reader): Promise<{ name: string; description: string; scopes: { scopeName: string }[] }[]> =>
  prismaOf(h).role.findMany({ select: { name: true, description: true, scopes: { select: { scopeName: true } } }, orderBy: { name: 'asc' } });

export async function insertInclusion(tx: Tx, roleName: string, includedName: string): Promise<void> {
  await tx.roleInclusion.create({ data: { roleName, includedName } });
}

/** Whether the edge existed (and is now gone). */
export async function deleteInclusion(tx: Tx, roleName: string, includedName: string): Promise<boolean> {
  return (await tx.roleInclusion.deleteMany({ where: { roleName, includedName } })).count > 0;
}

export const exclusiveSetRows = (h: Reader): Promise<ExclusiveSetRow[]> =>
  prismaOf(h).exclusiveRoleSet.findMany({ include: { members: { select: { roleName: true } } }, orderBy: { name: 'asc' } });

export async function insertExclusiveSet(tx: Tx, set: { name: string; reason: string | null; roles: readonly string[] }): Promise<ExclusiveSetRow> {
  return tx.exclusiveRoleSet.create({
    data: { name: set.name, reason: set.reason, members: { create: set.roles.map((roleName) => ({ roleName })) } },
    include: { members: { select: { roleName: true } } },
  });
}

export async function deleteExclusiveSet(tx: Tx, name: string): Promise<ExclusiveSetRow | null> {
  const row = await tx.exclusiveRoleSet.findUnique({ where: { name }, include: { members: { select: { roleName: true } } } });
  if (row) await tx.exclusiveRoleSet.delete({ where: { name } });
  return row;
}

/** People and clients holding at least one of `roles` (directly), each with all their grants. */
export async function holdersOf(h: Reader, roles: readonly string[]): Promise<HolderGrants[]> {
  const q = prismaOf(h);
  const grants = { select: { roleName: true, expiresAt: true } } as const;
  const [users, clients] = await Promise.all([
    q.user.findMany({ where: { roles: { some: { roleName: { in: [...roles] } } } }, select: { id: true, email: true, roles: grants }, orderBy: { email: 'asc' } }),
    q.client.findMany({ where: { roles: { some: { roleName: { in: [...roles] } } } }, select: { id: true, roles: grants }, orderBy: { id: 'asc' } }),
  ]);
  return [
    ...users.map((u): HolderGrants => ({ holder: 'user', id: u.id, label: u.email, grants: u.roles })),
    ...clients.map((c): HolderGrants => ({ holder: 'client', id: c.id, label: c.id, grants: c.roles })),
  ];
}

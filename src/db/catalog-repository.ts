// The governance catalogue's rows: scopes, resources (audiences) and roles with their scopes.
// The rules (validation, audit records, change refs) are in src/governance/catalog.ts; these
// are its queries, on the caller's transaction (writes) or the database (reads).
import { prismaOf, type Reader, type Database, type Tx } from './database.ts';

/** Reads that run either inside a write's transaction or on their own. */

/** Prisma's code for a unique-constraint violation: the row already exists. */
export const isUniqueViolation = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === 'P2002';

export interface ScopeRow {
  readonly name: string;
  readonly description: string;
  readonly sensitivity: string;
  readonly maxTtl: number | null;
}
export interface ScopeWrite {
  readonly description?: string;
  readonly sensitivity?: string;
  readonly maxTtl?: number | null;
}
export interface ResourceRow {
  readonly audience: string;
  readonly name: string;
  readonly tokenTtl: number | null;
  readonly requirePop: boolean;
  readonly scopes: { scopeName: string }[];
}
export interface RoleRow {
  readonly name: string;
  readonly description: string;
  readonly scopes: { scopeName: string }[];
}

const withScopeNames = { scopes: { select: { scopeName: true } } } as const;

/** Which of `names` exist as scopes. */
export async function existingScopeNames(tx: Tx, names: readonly string[]): Promise<string[]> {
  return (await tx.scope.findMany({ where: { name: { in: [...names] } }, select: { name: true } })).map((s) => s.name);
}

export const insertScope = (tx: Tx, data: ScopeRow): Promise<ScopeRow> => tx.scope.create({ data });
export const findScope = (tx: Tx, name: string): Promise<ScopeRow | null> => tx.scope.findUnique({ where: { name } });
export const updateScopeRow = (tx: Tx, name: string, data: ScopeWrite): Promise<ScopeRow> => tx.scope.update({ where: { name }, data });
export const listScopeRows = (db: Database): Promise<ScopeRow[]> => db.prisma.scope.findMany({ orderBy: { name: 'asc' } });

export async function insertResource(tx: Tx, r: { audience: string; name: string; tokenTtl: number | null; requirePop: boolean; scopes: readonly string[] }): Promise<void> {
  await tx.resource.create({ data: { audience: r.audience, name: r.name, tokenTtl: r.tokenTtl, requirePop: r.requirePop, scopes: { create: r.scopes.map((scopeName) => ({ scopeName })) } } });
}

/** A resource as is (no scopes): whether it exists. */
export const findResource = (h: Reader, audience: string): Promise<{ audience: string } | null> => prismaOf(h).resource.findUnique({ where: { audience } });

export const findResourceWithScopes = (tx: Tx, audience: string): Promise<ResourceRow | null> =>
  tx.resource.findUnique({ where: { audience }, include: withScopeNames });

export async function replaceResourceScopes(tx: Tx, audience: string, scopes: readonly string[]): Promise<void> {
  await tx.resourceScope.deleteMany({ where: { audience } });
  await tx.resourceScope.createMany({ data: scopes.map((scopeName) => ({ audience, scopeName })) });
}

export const updateResourceRow = (tx: Tx, audience: string, data: { name?: string; tokenTtl?: number | null; requirePop?: boolean }): Promise<ResourceRow> =>
  tx.resource.update({ where: { audience }, data, include: withScopeNames });

export const listResourceRows = (db: Database): Promise<ResourceRow[]> => db.prisma.resource.findMany({ orderBy: { audience: 'asc' }, include: withScopeNames });

/** Whether a resource exists, reading only its key. */
export async function resourceExists(db: Database, audience: string): Promise<boolean> {
  return (await db.prisma.resource.findUnique({ where: { audience }, select: { audience: true } })) !== null;
}

export async function insertRole(tx: Tx, r: { name: string; description: string; scopes: readonly string[] }): Promise<void> {
  await tx.role.create({ data: { name: r.name, description: r.description, scopes: { create: r.scopes.map((scopeName) => ({ scopeName })) } } });
}

/** A role as is (no scopes): whether it exists. */
export const findRole = (h: Reader, name: string): Promise<{ name: string } | null> => prismaOf(h).role.findUnique({ where: { name } });

export const findRoleWithScopes = (tx: Tx, name: string): Promise<RoleRow | null> => tx.role.findUnique({ where: { name }, include: withScopeNames });

export async function replaceRoleScopes(tx: Tx, roleName: string, scopes: readonly string[]): Promise<void> {
  await tx.roleScope.deleteMany({ where: { roleName } });
  await tx.roleScope.createMany({ data: scopes.map((scopeName) => ({ roleName, scopeName })) });
}

export const updateRoleRow = (tx: Tx, name: string, data: { description?: string }): Promise<RoleRow> =>
  tx.role.update({ where: { name }, data, include: withScopeNames });

export const listRoleRows = (db: Database): Promise<RoleRow[]> => db.prisma.role.findMany({ orderBy: { name: 'asc' }, include: withScopeNames });

/** Which of `names` exist as roles. */
export async function existingRoleNames(tx: Tx, names: readonly string[]): Promise<string[]> {
  return (await tx.role.findMany({ where: { name: { in: [...names] } }, select: { name: true } })).map((r) => r.name);
}

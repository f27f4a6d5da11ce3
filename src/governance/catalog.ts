// The governance catalogue: scopes, resources (audiences) and roles (role → scopes). Shared by
// the CLI and the admin API; every write appends to the change feed so running servers pick it
// up (src/governance/policy-store.ts).
import { writeWithChanges, type ChangeRef } from '../db/change-feed.ts';
import type { Database, Tx } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { Sensitivity } from './policy-model.ts';
import { checkAudience, checkRoleName, checkScopeName, checkSensitivity, checkText, checkTtl, uniqueList } from './validation.ts';

export interface ScopeView {
  name: string;
  description: string;
  sensitivity: Sensitivity;
  max_ttl: number | null;
}
export interface ResourceView {
  audience: string;
  name: string;
  scopes: string[];
  token_ttl: number | null;
}
export interface RoleView {
  name: string;
  description: string;
  scopes: string[];
}

export const isUniqueViolation = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === 'P2002';

async function requireScopes(tx: Tx, names: readonly string[]): Promise<void> {
  if (!names.length) return;
  const found = await tx.scope.findMany({ where: { name: { in: [...names] } }, select: { name: true } });
  const missing = names.filter((n) => !found.some((f) => f.name === n));
  if (missing.length) throw new AppError('invalid_request', `unknown scope(s): ${missing.join(', ')} (create them first with: govauth scope create)`);
}

const scopeView = (s: { name: string; description: string; sensitivity: string; maxTtl: number | null }): ScopeView => ({
  name: s.name,
  description: s.description,
  sensitivity: s.sensitivity as Sensitivity,
  max_ttl: s.maxTtl,
});

export async function createScope(db: Database, input: { name: string; description: string; sensitivity?: string; maxTtl?: number }): Promise<ScopeView> {
  const data = {
    name: checkScopeName(input.name),
    description: checkText(input.description, 'description'),
    sensitivity: checkSensitivity(input.sensitivity ?? 'low'),
    maxTtl: input.maxTtl === undefined ? null : checkTtl(input.maxTtl, 'max TTL'),
  };
  return conflictAs(`scope ${data.name} already exists`, () =>
    writeWithChanges(db, async (tx) => ({ result: scopeView(await tx.scope.create({ data })), changes: [{ kind: 'scope', key: data.name }] })),
  );
}

export async function updateScope(db: Database, name: string, patch: { description?: string; sensitivity?: string; maxTtl?: number | null }): Promise<ScopeView> {
  const data = {
    ...(patch.description !== undefined && { description: checkText(patch.description, 'description') }),
    ...(patch.sensitivity !== undefined && { sensitivity: checkSensitivity(patch.sensitivity) }),
    ...(patch.maxTtl !== undefined && { maxTtl: patch.maxTtl === null ? null : checkTtl(patch.maxTtl, 'max TTL') }),
  };
  return writeWithChanges(db, async (tx) => {
    await mustExist(tx.scope.findUnique({ where: { name } }), `no scope named ${name}`);
    return { result: scopeView(await tx.scope.update({ where: { name }, data })), changes: [{ kind: 'scope', key: name }] };
  });
}

export async function listScopes(db: Database): Promise<ScopeView[]> {
  return (await db.prisma.scope.findMany({ orderBy: { name: 'asc' } })).map(scopeView);
}

export async function createResource(db: Database, input: { audience: string; name: string; scopes: readonly string[]; tokenTtl?: number }): Promise<ResourceView> {
  const audience = checkAudience(input.audience);
  const name = checkText(input.name, 'name', 200);
  const scopes = uniqueList(input.scopes, checkScopeName);
  const tokenTtl = input.tokenTtl === undefined ? null : checkTtl(input.tokenTtl, 'token TTL');
  return conflictAs(`resource ${audience} already exists`, () =>
    writeWithChanges(db, async (tx) => {
      await requireScopes(tx, scopes);
      await tx.resource.create({ data: { audience, name, tokenTtl, scopes: { create: scopes.map((scopeName) => ({ scopeName })) } } });
      return { result: { audience, name, scopes: scopes.sort(), token_ttl: tokenTtl }, changes: [{ kind: 'resource', key: audience }] };
    }),
  );
}

export async function updateResource(
  db: Database,
  audience: string,
  patch: { name?: string; scopes?: readonly string[]; tokenTtl?: number | null },
): Promise<ResourceView> {
  const scopes = patch.scopes && uniqueList(patch.scopes, checkScopeName);
  return writeWithChanges(db, async (tx) => {
    await mustExist(tx.resource.findUnique({ where: { audience } }), `no resource ${audience}`);
    if (scopes) {
      await requireScopes(tx, scopes);
      await tx.resourceScope.deleteMany({ where: { audience } });
      await tx.resourceScope.createMany({ data: scopes.map((scopeName) => ({ audience, scopeName })) });
    }
    const row = await tx.resource.update({
      where: { audience },
      data: {
        ...(patch.name !== undefined && { name: checkText(patch.name, 'name', 200) }),
        ...(patch.tokenTtl !== undefined && { tokenTtl: patch.tokenTtl === null ? null : checkTtl(patch.tokenTtl, 'token TTL') }),
      },
      include: { scopes: { select: { scopeName: true } } },
    });
    return { result: resourceView(row), changes: [{ kind: 'resource', key: audience }] };
  });
}

const resourceView = (r: { audience: string; name: string; tokenTtl: number | null; scopes: { scopeName: string }[] }): ResourceView => ({
  audience: r.audience,
  name: r.name,
  scopes: r.scopes.map((s) => s.scopeName).sort(),
  token_ttl: r.tokenTtl,
});

export async function listResources(db: Database): Promise<ResourceView[]> {
  const rows = await db.prisma.resource.findMany({ orderBy: { audience: 'asc' }, include: { scopes: { select: { scopeName: true } } } });
  return rows.map(resourceView);
}

export async function createRole(db: Database, input: { name: string; description?: string; scopes: readonly string[] }): Promise<RoleView> {
  const name = checkRoleName(input.name);
  const description = input.description === undefined ? '' : checkText(input.description, 'description');
  const scopes = uniqueList(input.scopes, checkScopeName);
  return conflictAs(`role ${name} already exists`, () =>
    writeWithChanges(db, async (tx) => {
      await requireScopes(tx, scopes);
      await tx.role.create({ data: { name, description, scopes: { create: scopes.map((scopeName) => ({ scopeName })) } } });
      return { result: { name, description, scopes: scopes.sort() }, changes: [{ kind: 'role', key: name }] };
    }),
  );
}

export async function updateRole(db: Database, name: string, patch: { description?: string; scopes?: readonly string[] }): Promise<RoleView> {
  const scopes = patch.scopes && uniqueList(patch.scopes, checkScopeName);
  return writeWithChanges(db, async (tx) => {
    await mustExist(tx.role.findUnique({ where: { name } }), `no role named ${name}`);
    if (scopes) {
      await requireScopes(tx, scopes);
      await tx.roleScope.deleteMany({ where: { roleName: name } });
      await tx.roleScope.createMany({ data: scopes.map((scopeName) => ({ roleName: name, scopeName })) });
    }
    const row = await tx.role.update({
      where: { name },
      data: { ...(patch.description !== undefined && { description: checkText(patch.description, 'description') }) },
      include: { scopes: { select: { scopeName: true } } },
    });
    return { result: roleView(row), changes: [{ kind: 'role', key: name }] };
  });
}

const roleView = (r: { name: string; description: string; scopes: { scopeName: string }[] }): RoleView => ({
  name: r.name,
  description: r.description,
  scopes: r.scopes.map((s) => s.scopeName).sort(),
});

export async function listRoles(db: Database): Promise<RoleView[]> {
  const rows = await db.prisma.role.findMany({ orderBy: { name: 'asc' }, include: { scopes: { select: { scopeName: true } } } });
  return rows.map(roleView);
}

export async function requireRoles(tx: Tx, names: readonly string[]): Promise<void> {
  if (!names.length) return;
  const found = await tx.role.findMany({ where: { name: { in: [...names] } }, select: { name: true } });
  const missing = names.filter((n) => !found.some((f) => f.name === n));
  if (missing.length) throw new AppError('invalid_request', `unknown role(s): ${missing.join(', ')} (create them first with: govauth role create)`);
}

export async function mustExist<T>(query: Promise<T | null>, message: string): Promise<T> {
  const row = await query;
  if (row === null) throw new AppError('not_found', message);
  return row;
}

export async function conflictAs<T>(message: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('conflict', message);
    throw err;
  }
}

export type { ChangeRef };

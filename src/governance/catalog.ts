// The governance catalogue: scopes, resources (audiences) and roles (role → scopes). Shared by
// the CLI and the admin API; every write appends to the change feed so running servers pick it
// up (src/governance/policy-store.ts).
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import {
  existingRoleNames,
  existingScopeNames,
  findResourceWithScopes,
  findRoleWithScopes,
  findScope,
  insertResource,
  insertRole,
  insertScope,
  isUniqueViolation,
  listResourceRows,
  listRoleRows,
  listScopeRows,
  replaceResourceScopes,
  replaceRoleScopes,
  updateResourceRow,
  updateRoleRow,
  updateScopeRow,
} from '../db/catalog-repository.ts';
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
  /** Tokens for it only sender-constrained (proof-of-possession.ts). */
  require_pop: boolean;
}
export interface RoleView {
  name: string;
  description: string;
  scopes: string[];
}

async function requireScopes(tx: Tx, names: readonly string[]): Promise<void> {
  if (!names.length) return;
  const found = await existingScopeNames(tx, names);
  const missing = names.filter((n) => !found.includes(n));
  if (missing.length) throw new AppError('invalid_request', `unknown scope(s): ${missing.join(', ')} (create them first with: govauth scope create)`);
}

const scopeView = (s: { name: string; description: string; sensitivity: string; maxTtl: number | null }): ScopeView => ({
  name: s.name,
  description: s.description,
  sensitivity: s.sensitivity as Sensitivity,
  max_ttl: s.maxTtl,
});

export async function createScope(db: Database, input: { name: string; description: string; sensitivity?: string; maxTtl?: number }, by: Actor): Promise<ScopeView> {
  const data = {
    name: checkScopeName(input.name),
    description: checkText(input.description, 'description'),
    sensitivity: checkSensitivity(input.sensitivity ?? 'low'),
    maxTtl: input.maxTtl === undefined ? null : checkTtl(input.maxTtl, 'max TTL'),
  };
  return conflictAs(`scope ${data.name} already exists`, () =>
    writeWithChanges(db, async (tx) => {
      const after = scopeView(await insertScope(tx, data));
      return { result: after, changes: [{ kind: 'scope', key: data.name }], audit: [adminEvent(by, 'admin.scope.create', data.name, null, after)] };
    }),
  );
}

export async function updateScope(db: Database, name: string, patch: { description?: string; sensitivity?: string; maxTtl?: number | null }, by: Actor): Promise<ScopeView> {
  const data = {
    ...(patch.description !== undefined && { description: checkText(patch.description, 'description') }),
    ...(patch.sensitivity !== undefined && { sensitivity: checkSensitivity(patch.sensitivity) }),
    ...(patch.maxTtl !== undefined && { maxTtl: patch.maxTtl === null ? null : checkTtl(patch.maxTtl, 'max TTL') }),
  };
  return writeWithChanges(db, async (tx) => {
    const before = scopeView(await mustExist(findScope(tx, name), `no scope named ${name}`));
    const after = scopeView(await updateScopeRow(tx, name, data));
    return { result: after, changes: [{ kind: 'scope', key: name }], audit: [adminEvent(by, 'admin.scope.update', name, before, after)] };
  });
}

export async function listScopes(db: Database): Promise<ScopeView[]> {
  return (await listScopeRows(db)).map(scopeView);
}

export async function createResource(db: Database, input: { audience: string; name: string; scopes: readonly string[]; tokenTtl?: number; requirePop?: boolean }, by: Actor): Promise<ResourceView> {
  const audience = checkAudience(input.audience);
  const name = checkText(input.name, 'name', 200);
  const scopes = uniqueList(input.scopes, checkScopeName);
  const tokenTtl = input.tokenTtl === undefined ? null : checkTtl(input.tokenTtl, 'token TTL');
  return conflictAs(`resource ${audience} already exists`, () =>
    writeWithChanges(db, async (tx) => {
      await requireScopes(tx, scopes);
      const requirePop = input.requirePop === true;
      await insertResource(tx, { audience, name, tokenTtl, requirePop, scopes });
      const after = { audience, name, scopes: scopes.sort(), token_ttl: tokenTtl, require_pop: requirePop };
      return { result: after, changes: [{ kind: 'resource', key: audience }], audit: [{ ...adminEvent(by, 'admin.resource.create', audience, null, after), resource: audience }] };
    }),
  );
}

export async function updateResource(
  db: Database,
  audience: string,
  patch: { name?: string; scopes?: readonly string[]; tokenTtl?: number | null; requirePop?: boolean },
  by: Actor,
): Promise<ResourceView> {
  const scopes = patch.scopes && uniqueList(patch.scopes, checkScopeName);
  return writeWithChanges(db, async (tx) => {
    const before = resourceView(
      await mustExist(findResourceWithScopes(tx, audience), `no resource ${audience}`),
    );
    if (scopes) {
      await requireScopes(tx, scopes);
      await replaceResourceScopes(tx, audience, scopes);
    }
    const row = await updateResourceRow(tx, audience, {
      ...(patch.name !== undefined && { name: checkText(patch.name, 'name', 200) }),
      ...(patch.tokenTtl !== undefined && { tokenTtl: patch.tokenTtl === null ? null : checkTtl(patch.tokenTtl, 'token TTL') }),
      ...(patch.requirePop !== undefined && { requirePop: patch.requirePop }),
    });
    const after = resourceView(row);
    return { result: after, changes: [{ kind: 'resource', key: audience }], audit: [{ ...adminEvent(by, 'admin.resource.update', audience, before, after), resource: audience }] };
  });
}

const resourceView = (r: { audience: string; name: string; tokenTtl: number | null; requirePop: boolean; scopes: { scopeName: string }[] }): ResourceView => ({
  audience: r.audience,
  name: r.name,
  scopes: r.scopes.map((s) => s.scopeName).sort(),
  token_ttl: r.tokenTtl,
  require_pop: r.requirePop,
});

export async function listResources(db: Database): Promise<ResourceView[]> {
  return (await listResourceRows(db)).map(resourceView);
}

export async function createRole(db: Database, input: { name: string; description?: string; scopes: readonly string[] }, by: Actor): Promise<RoleView> {
  const name = checkRoleName(input.name);
  const description = input.description === undefined ? '' : checkText(input.description, 'description');
  const scopes = uniqueList(input.scopes, checkScopeName);
  return conflictAs(`role ${name} already exists`, () =>
    writeWithChanges(db, async (tx) => {
      await requireScopes(tx, scopes);
      await insertRole(tx, { name, description, scopes });
      const after = { name, description, scopes: scopes.sort() };
      return { result: after, changes: [{ kind: 'role', key: name }], audit: [adminEvent(by, 'admin.role.create', name, null, after)] };
    }),
  );
}

export async function updateRole(db: Database, name: string, patch: { description?: string; scopes?: readonly string[] }, by: Actor): Promise<RoleView> {
  const scopes = patch.scopes && uniqueList(patch.scopes, checkScopeName);
  return writeWithChanges(db, async (tx) => {
    const before = roleView(await mustExist(findRoleWithScopes(tx, name), `no role named ${name}`));
    if (scopes) {
      await requireScopes(tx, scopes);
      await replaceRoleScopes(tx, name, scopes);
    }
    const row = await updateRoleRow(tx, name, { ...(patch.description !== undefined && { description: checkText(patch.description, 'description') }) });
    const after = roleView(row);
    return { result: after, changes: [{ kind: 'role', key: name }], audit: [adminEvent(by, 'admin.role.update', name, before, after)] };
  });
}

const roleView = (r: { name: string; description: string; scopes: { scopeName: string }[] }): RoleView => ({
  name: r.name,
  description: r.description,
  scopes: r.scopes.map((s) => s.scopeName).sort(),
});

export async function listRoles(db: Database): Promise<RoleView[]> {
  return (await listRoleRows(db)).map(roleView);
}

export async function requireRoles(tx: Tx, names: readonly string[]): Promise<void> {
  if (!names.length) return;
  const found = await existingRoleNames(tx, names);
  const missing = names.filter((n) => !found.includes(n));
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


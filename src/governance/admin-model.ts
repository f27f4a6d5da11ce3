// The admin API's own governance: a resource (audience) for it, its two scopes, and roles that
// carry them. The admin API is protected by govauth's own access tokens for this resource;
// ensured at every start and by `govauth init`, never changing what an operator customised.
import type { Actor } from '../audit/audit-chain.ts';
import type { Database } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { isUniqueViolation, resourceExists } from '../db/catalog-repository.ts';
import { listScopeRows } from '../db/catalog-repository.ts';
import { createResource, createRole, createScope, listResources, updateResource } from './catalog.ts';
import { ADMIN_AUDIENCE } from './policy-model.ts';

// Defined with the rule that guards it (mayUseAudience); re-exported for the admin API.
export { ADMIN_AUDIENCE } from './policy-model.ts';
export const ADMIN_SCOPE = 'govauth.admin';
export const AUDIT_READ_SCOPE = 'govauth.audit.read';
/**
 * The narrow scope for clients asking for their own access: file, list and cancel access
 * requests for themselves only (admin/own-access-request-routes.ts), nothing else. Approving
 * stays with people.
 */
export const REQUESTS_SCOPE = 'govauth.requests';
export const REQUESTER_ROLE = 'govauth-requester';
export const ADMIN_ROLE = 'govauth-admin';
export const AUDITOR_ROLE = 'govauth-auditor';
/** Roles govauth itself relies on (the admin API, the console, access requests): never deleted (role-deletion.ts). */
export const BUILT_IN_ROLES: readonly string[] = [ADMIN_ROLE, AUDITOR_ROLE, REQUESTER_ROLE];

async function ignoreExisting(work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (!((err instanceof AppError && err.code === 'conflict') || isUniqueViolation(err))) throw err;
  }
}

export async function ensureAdminModel(db: Database, by: Actor = { actorType: 'system', actor: 'system' }): Promise<void> {
  await ensureBaseModel(db, by);
  await ensureRequestsScope(db, by);
}

async function ensureBaseModel(db: Database, by: Actor): Promise<void> {
  if (await resourceExists(db, ADMIN_AUDIENCE)) return;
  await ignoreExisting(() => createScope(db, { name: ADMIN_SCOPE, description: 'Administer govauth: scopes, resources, roles, clients, people, revocations', sensitivity: 'high', maxTtl: 900 }, by));
  await ignoreExisting(() => createScope(db, { name: AUDIT_READ_SCOPE, description: 'Read the audit trail and access reviews', sensitivity: 'medium' }, by));
  await ignoreExisting(() => createResource(db, { audience: ADMIN_AUDIENCE, name: 'govauth admin API', scopes: [ADMIN_SCOPE, AUDIT_READ_SCOPE] }, by));
  await ignoreExisting(() => createRole(db, { name: ADMIN_ROLE, description: 'Administers govauth', scopes: [ADMIN_SCOPE, AUDIT_READ_SCOPE] }, by));
  await ignoreExisting(() => createRole(db, { name: AUDITOR_ROLE, description: 'Reads the audit trail and access reviews', scopes: [AUDIT_READ_SCOPE] }, by));
}

/**
 * govauth.requests came after the admin resource: added to it (and its role created) once, on a
 * deployment that has it already as on a new one. Only when the scope does not exist yet, so an
 * operator who removed it from the resource is not overruled at the next start.
 */
async function ensureRequestsScope(db: Database, by: Actor): Promise<void> {
  if ((await listScopeRows(db)).some((s) => s.name === REQUESTS_SCOPE)) return;
  await ignoreExisting(() => createScope(db, { name: REQUESTS_SCOPE, description: 'Ask for access for oneself: file, list and cancel one’s own access requests', sensitivity: 'medium', maxTtl: 900 }, by));
  const admin = (await listResources(db)).find((r) => r.audience === ADMIN_AUDIENCE);
  if (admin && !admin.scopes.includes(REQUESTS_SCOPE)) await updateResource(db, ADMIN_AUDIENCE, { scopes: [...admin.scopes, REQUESTS_SCOPE] }, by);
  await ignoreExisting(() => createRole(db, { name: REQUESTER_ROLE, description: 'Clients that may ask for access for themselves (access requests), nothing more', scopes: [REQUESTS_SCOPE] }, by));
}

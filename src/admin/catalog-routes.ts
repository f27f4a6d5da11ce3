// /scopes, /resources, /roles: the governance catalogue (as `govauth scope|resource|role`).
import { z } from 'zod';
import { createResource, createRole, createScope, listResources, listRoles, listScopes, updateResource, updateRole, updateScope } from '../governance/catalog.ts';
import { deleteRole } from '../governance/role-deletion.ts';
import { nonEmptyPatch } from './input.ts';
import { route } from './route.ts';
import { audience, list, queryBool, roleName, scopeName, sensitivity, text, ttl } from './schemas.ts';
import { deletedRoleView, resourceView, roleView, scopeView } from './views.ts';

const description = text('description', 500, 'What it allows, for people reviewing access');

const createScopeBody = z.strictObject({
  name: scopeName,
  description,
  sensitivity: sensitivity.optional().describe('low (default), medium or high'),
  max_ttl: ttl('Longest lifetime of a token carrying this scope').optional(),
});
const updateScopeBody = nonEmptyPatch(
  z.strictObject({ description: description.optional(), sensitivity: sensitivity.optional(), max_ttl: ttl('Longest token lifetime; null removes the cap').nullable().optional() }),
);

const resourceName = text('name', 200, 'A name for people');
const requirePop = z.boolean().describe('Tokens for this resource are only issued sender-constrained (a DPoP proof, RFC 9449), whatever the grant');
const createResourceBody = z.strictObject({
  audience,
  name: resourceName,
  scopes: list(scopeName).describe('The scopes this resource server accepts (they must exist)'),
  token_ttl: ttl('Lifetime of access tokens for this resource').optional(),
  require_pop: requirePop.optional(),
});
const updateResourceBody = nonEmptyPatch(
  z.strictObject({ name: resourceName.optional(), scopes: list(scopeName).optional(), token_ttl: ttl('Token lifetime; null restores the default').nullable().optional(), require_pop: requirePop.optional() }),
);

const createRoleBody = z.strictObject({ name: roleName, description: description.optional(), scopes: list(scopeName).describe('The scopes the role carries (they must exist)') });
const updateRoleBody = nonEmptyPatch(z.strictObject({ description: description.optional(), scopes: list(scopeName).optional() }));
const deleteRoleQuery = z.strictObject({
  force: queryBool('Delete it even while held or referenced: holders lose it, policies naming it go, and tokens carrying it stop being accepted. Never for a built-in role').optional(),
});

export const catalogRoutes = [
  route({
    method: 'GET', path: '/scopes', operationId: 'listScopes', summary: 'List scopes', tag: 'scopes', access: 'read',
    response: z.strictObject({ scopes: z.array(scopeView) }),
    handle: async ({ deps }) => ({ scopes: await listScopes(deps.db) }),
  }),
  route({
    method: 'POST', path: '/scopes', operationId: 'createScope', summary: 'Define a scope', tag: 'scopes', access: 'write', status: 201, errors: [409],
    body: createScopeBody, response: z.strictObject({ scope: scopeView }),
    handle: async ({ deps, body, actor }) => ({
      scope: await createScope(deps.db, { name: body.name, description: body.description, sensitivity: body.sensitivity, maxTtl: body.max_ttl }, actor),
    }),
  }),
  route({
    method: 'PATCH', path: '/scopes/{name}', operationId: 'updateScope', summary: 'Change a scope', tag: 'scopes', access: 'write', errors: [404],
    body: updateScopeBody, response: z.strictObject({ scope: scopeView }),
    handle: async ({ deps, params, body, actor }) => ({
      scope: await updateScope(deps.db, params.name, { description: body.description, sensitivity: body.sensitivity, maxTtl: body.max_ttl }, actor),
    }),
  }),
  route({
    method: 'GET', path: '/resources', operationId: 'listResources', summary: 'List resource servers (audiences)', tag: 'resources', access: 'read',
    response: z.strictObject({ resources: z.array(resourceView) }),
    handle: async ({ deps }) => ({ resources: await listResources(deps.db) }),
  }),
  route({
    method: 'POST', path: '/resources', operationId: 'createResource', summary: 'Register a resource server', tag: 'resources', access: 'write', status: 201, errors: [409],
    body: createResourceBody, response: z.strictObject({ resource: resourceView }),
    handle: async ({ deps, body, actor }) => ({
      resource: await createResource(deps.db, { audience: body.audience, name: body.name, scopes: body.scopes, tokenTtl: body.token_ttl, requirePop: body.require_pop }, actor),
    }),
  }),
  route({
    method: 'PATCH', path: '/resources/{audience}', operationId: 'updateResource', summary: 'Change a resource server', tag: 'resources', access: 'write', errors: [404],
    body: updateResourceBody, response: z.strictObject({ resource: resourceView }),
    handle: async ({ deps, params, body, actor }) => ({
      resource: await updateResource(deps.db, params.audience, { name: body.name, scopes: body.scopes, tokenTtl: body.token_ttl, requirePop: body.require_pop }, actor),
    }),
  }),
  route({
    method: 'GET', path: '/roles', operationId: 'listRoles', summary: 'List roles', tag: 'roles', access: 'read',
    response: z.strictObject({ roles: z.array(roleView) }),
    handle: async ({ deps }) => ({ roles: await listRoles(deps.db) }),
  }),
  route({
    method: 'POST', path: '/roles', operationId: 'createRole', summary: 'Define a role (role → scopes)', tag: 'roles', access: 'write', status: 201, errors: [409],
    body: createRoleBody, response: z.strictObject({ role: roleView }),
    handle: async ({ deps, body, actor }) => ({ role: await createRole(deps.db, { name: body.name, description: body.description, scopes: body.scopes }, actor) }),
  }),
  route({
    method: 'PATCH', path: '/roles/{name}', operationId: 'updateRole', summary: 'Change a role; tokens issued from now on follow it', tag: 'roles', access: 'write', errors: [404],
    body: updateRoleBody, response: z.strictObject({ role: roleView }),
    handle: async ({ deps, params, body, actor }) => ({ role: await updateRole(deps.db, params.name, { description: body.description, scopes: body.scopes }, actor) }),
  }),
  route({
    method: 'DELETE', path: '/roles/{name}', operationId: 'deleteRole',
    summary: 'Delete a role. Refused (409, naming them) while anyone holds it, another role includes it or a delegation or access policy names it, unless force; a built-in role is never deleted. Tokens carrying it stop being accepted',
    tag: 'roles', access: 'write', errors: [404, 409],
    query: deleteRoleQuery, response: z.strictObject({ deleted: deletedRoleView }),
    handle: async ({ deps, params, query, actor }) => ({
      deleted: await deleteRole(deps.db, params.name, { force: query.force === true, horizonSeconds: deps.config.signIn.sessionMaxAge, now: deps.now() }, actor),
    }),
  }),
];

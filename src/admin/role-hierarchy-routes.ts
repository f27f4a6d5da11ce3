// /roles/{name}/hierarchy, /roles/{name}/includes/{included} and /exclusive-role-sets: role
// hierarchies and separation of duties (as `govauth role show|include|exclude` and
// `govauth role exclusive add|list|remove`).
import { z } from 'zod';
import { createExclusiveSet, listExclusiveSets, removeExclusiveSet } from '../governance/exclusive-roles.ts';
import { excludeRole, includeRole, showRole } from '../governance/role-inclusions.ts';
import { route } from './route.ts';
import { list, roleName, text } from './schemas.ts';

const tag = 'roles';

const roleHierarchyView = z.strictObject({
  name: z.string(),
  description: z.string(),
  scopes: z.array(z.string()).describe('Its own scopes'),
  effective_scopes: z.array(z.string()).describe('Its own scopes and those of every role it includes, transitively: what holding it gives'),
  includes: z
    .array(z.strictObject({ name: z.string(), parent: z.string().describe('The role that includes it'), depth: z.number().int().describe('1: included directly'), scopes: z.array(z.string()) }))
    .describe('The roles it includes, transitively, depth first'),
  included_by: z.array(z.string()).describe('Roles that include it, directly or not: their holders hold it too'),
  exclusive_sets: z.array(z.strictObject({ name: z.string(), roles: z.array(z.string()), reason: z.string().nullable() })).describe('Sets of mutually exclusive roles it or a role it includes belongs to'),
});

const exclusiveSetView = z.strictObject({ name: z.string(), roles: z.array(z.string()), reason: z.string().nullable(), created_at: z.string() });
const violationView = z.strictObject({
  principal_type: z.enum(['user', 'client']),
  principal: z.string().describe('Email of a person, id of a client'),
  set: z.string(),
  roles: z.array(z.string()).describe('The roles of the set held together'),
  via: z.record(z.string(), z.array(z.string())).describe('Each of those roles → the granted roles through which it is held'),
  message: z.string(),
});

const createSetBody = z.strictObject({
  roles: list(roleName, 20).min(2).describe('Two or more roles no principal may hold at once (they must exist)'),
  name: roleName.optional().describe('The set\'s name (default: sod- and the role names)'),
  reason: text('reason', 500, 'Why they are exclusive (a control, a regulation), kept with the set and in the audit trail').optional(),
});

export const roleHierarchyRoutes = [
  route({
    method: 'GET', path: '/roles/{name}/hierarchy', operationId: 'showRoleHierarchy', summary: 'A role with the tree of roles it includes and its effective scopes', tag, access: 'read', errors: [404],
    response: z.strictObject({ role: roleHierarchyView }),
    handle: async ({ deps, params }) => ({ role: await showRole(deps.db, params.name) }),
  }),
  route({
    method: 'PUT', path: '/roles/{name}/includes/{included}', operationId: 'includeRole',
    summary: 'Make holders of a role hold another role too (its scopes, transitively); a cycle or a separation-of-duties violation answers 409', tag, access: 'write', errors: [404, 409],
    response: z.strictObject({ role: roleHierarchyView }),
    handle: async ({ deps, params, actor }) => ({ role: await includeRole(deps.db, { role: params.name, included: params.included }, actor, deps.now()) }),
  }),
  route({
    method: 'DELETE', path: '/roles/{name}/includes/{included}', operationId: 'excludeRole',
    summary: 'Stop a role including another; tokens that relied on it become inactive at introspection', tag, access: 'write', errors: [404],
    response: z.strictObject({ role: roleHierarchyView }),
    handle: async ({ deps, params, actor }) => ({ role: await excludeRole(deps.db, { role: params.name, included: params.included }, actor) }),
  }),
  route({
    method: 'GET', path: '/exclusive-role-sets', operationId: 'listExclusiveRoleSets', summary: 'Sets of mutually exclusive roles (separation of duties) and every current violation', tag, access: 'read',
    response: z.strictObject({ sets: z.array(exclusiveSetView), violations: z.array(violationView) }),
    handle: async ({ deps }) => listExclusiveSets(deps.db, deps.now()),
  }),
  route({
    method: 'POST', path: '/exclusive-role-sets', operationId: 'createExclusiveRoleSet',
    summary: 'Declare mutually exclusive roles; grants that would break it are refused from now on, and existing violations are returned (and listed by the access review)',
    tag, access: 'write', status: 201, errors: [409],
    body: createSetBody, response: z.strictObject({ set: exclusiveSetView, violations: z.array(violationView) }),
    handle: async ({ deps, body, actor }) => createExclusiveSet(deps.db, { roles: body.roles, name: body.name, reason: body.reason }, actor, deps.now()),
  }),
  route({
    method: 'DELETE', path: '/exclusive-role-sets/{name}', operationId: 'removeExclusiveRoleSet', summary: 'Withdraw a set of mutually exclusive roles', tag, access: 'write', errors: [404],
    response: z.strictObject({ set: exclusiveSetView }),
    handle: async ({ deps, params, actor }) => ({ set: await removeExclusiveSet(deps.db, params.name, actor) }),
  }),
];

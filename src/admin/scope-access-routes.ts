// /scope-access-policies: how one scope on one resource may be requested (as `govauth requests
// policy set --scope … --resource …`); /users/{email}/scope-grants and /clients/{id}/scope-grants:
// the time-boxed scope grants approved requests made, shown and ended at once (as `govauth user
// scope-grants|revoke-scope`, `govauth client …`). The rules are governance/scope-access-policies.ts
// and governance/scope-grants.ts.
import { z } from 'zod';
import { listScopePolicies, removeScopeAccessPolicy, setScopeAccessPolicy } from '../governance/scope-access-policies.ts';
import { listScopeGrants, removeScopeGrant } from '../governance/scope-grants.ts';
import type { Principal } from '../governance/role-grants.ts';
import { policyTermsFields, policyTermsInput } from './access-policy-body.ts';
import { scopeAccessPolicyView } from './access-request-views.ts';
import { recordRead } from './read-audit.ts';
import { route, type Route } from './route.ts';
import { audience, scopeName } from './schemas.ts';

const target = { resource: audience.describe('The resource (audience) the scope is on'), scope: scopeName };

const policyBody = z.strictObject({ ...target, ...policyTermsFields });

const scopeGrantView = z.strictObject({
  resource: z.string(),
  scope: z.string(),
  expires_at: z.string().describe('ISO 8601 time (UTC): the grant ends by itself then'),
  request: z.string().nullable().describe('The access request that made it'),
  reason: z.string().nullable(),
  granted_at: z.string(),
});
const grants = z.strictObject({ grants: z.array(scopeGrantView) });
const tag = 'access requests';

function scopeGrantRoutes(kind: 'user' | 'client'): Route[] {
  const base = kind === 'user' ? ('/users/{email}/scope-grants' as const) : ('/clients/{id}/scope-grants' as const);
  const Kind = kind === 'user' ? 'User' : 'Client';
  const who = (params: Record<string, string>): Principal => (kind === 'user' ? { type: 'user', email: params.email ?? '' } : { type: 'client', id: params.id ?? '' });
  return [
    route({
      method: 'GET', path: base, operationId: `list${Kind}ScopeGrants`, summary: `Show a ${kind}'s time-boxed grants of one scope on one resource (made by approved access requests)`, tag: 'role grants', access: 'read', errors: [404],
      response: z.strictObject({ id: z.string(), grants: z.array(scopeGrantView) }),
      async handle(call) {
        const { id, grants: list } = await listScopeGrants(call.deps.db, who(call.params));
        if (kind === 'user') await recordRead(call, { operation: `list${Kind}ScopeGrants`, subject: id, returned: list.length });
        return { id, grants: list };
      },
    }),
    route({
      method: 'DELETE', path: base, operationId: `remove${Kind}ScopeGrant`, summary: `End a ${kind}'s grant of one scope on one resource now: its tokens carrying the scope turn inactive on every instance`, tag: 'role grants', access: 'write', errors: [404],
      query: z.strictObject(target), response: grants,
      handle: async ({ deps, params, query, actor }) => ({ grants: await removeScopeGrant(deps.db, { principal: who(params), resource: query.resource, scope: query.scope }, actor) }),
    }),
  ];
}

export const scopeAccessRoutes = [
  route({
    method: 'GET', path: '/scope-access-policies', operationId: 'listScopeAccessPolicies', summary: 'The scopes (each on one resource) that may be requested, and how', tag, access: 'read',
    response: z.strictObject({ policies: z.array(scopeAccessPolicyView) }),
    handle: async ({ deps }) => ({ policies: await listScopePolicies(deps.db) }),
  }),
  route({
    method: 'PUT', path: '/scope-access-policies', operationId: 'setScopeAccessPolicy', summary: 'Let one scope on one resource be requested: approver role, distinct approvers (1 or 2), longest duration, lapse', tag, access: 'write', errors: [404],
    body: policyBody, response: z.strictObject({ policy: scopeAccessPolicyView }),
    async handle({ deps, body, actor }) {
      const policy = await setScopeAccessPolicy(
        deps.db,
        { resource: body.resource, scope: body.scope, ...policyTermsInput(body) },
        actor,
      );
      return { policy };
    },
  }),
  route({
    method: 'DELETE', path: '/scope-access-policies', operationId: 'removeScopeAccessPolicy', summary: 'Stop one scope on one resource being requested; pending requests for it can no longer be approved', tag, access: 'write', errors: [404],
    query: z.strictObject(target), response: z.strictObject({ removed: scopeAccessPolicyView }),
    handle: async ({ deps, query, actor }) => ({ removed: await removeScopeAccessPolicy(deps.db, query.resource, query.scope, actor) }),
  }),
  ...scopeGrantRoutes('user'),
  ...scopeGrantRoutes('client'),
];

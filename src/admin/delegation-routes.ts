// /delegation-policies: which agents may act for which people, on what (as `govauth delegation
// allow|list|show|remove`). Nothing is delegable without a policy.
import type { Context } from 'koa';
import { z } from 'zod';
import { DEFAULT_MAX_DEPTH, MAX_CHAIN_DEPTH } from '../governance/delegation.ts';
import { createDelegationPolicy, getDelegationPolicy, listDelegationPolicies, removeDelegationPolicy } from '../governance/delegation-policies.ts';
import { parseTtl } from '../governance/durations.ts';
import { governed } from './input.ts';
import { ADMIN_PREFIX, route } from './route.ts';
import { audience, list, roleName, scopeName, text, ttl } from './schemas.ts';
import { delegationPolicyView } from './views.ts';

const maxTtl = z
  .union([
    ttl('Longest lifetime of a token this policy allows'),
    z.string().max(16).superRefine(governed((v) => parseTtl(v, 'max_ttl'), 'max_ttl')).describe('The same as a duration: 90s, 10m, 8h'),
  ])
  .describe('Longest lifetime of a token this policy allows: seconds, or a duration such as 10m; absent or null: the usual token lifetimes');

const createBody = z.strictObject({
  agent_role: roleName.describe('Agents (token-exchange clients) holding this role may act…'),
  subject_role: roleName.describe('…for people holding this role'),
  audience: audience.describe('…on this resource (not urn:govauth:admin)'),
  scopes: list(scopeName).min(1).nullable().optional().describe('…with at most these scopes of the resource; absent or null: every scope it offers'),
  max_depth: z.number().int().min(1).max(MAX_CHAIN_DEPTH).optional().describe(`Agents a chain may hold, the acting one included (default ${DEFAULT_MAX_DEPTH})`),
  max_ttl: maxTtl.nullable().optional(),
  description: text('description', 500, 'Why, for people reviewing access').optional(),
});

const listQuery = z.strictObject({
  resource: audience.optional().describe('Only policies for this resource'),
  role: roleName.optional().describe('Only policies naming this role, as the agents\' or the people\'s'),
});

const policy = z.strictObject({ policy: delegationPolicyView });
const located = (ctx: Context, id: string): void => ctx.set('Location', `${ADMIN_PREFIX}/delegation-policies/${encodeURIComponent(id)}`);

export const delegationRoutes = [
  route({
    method: 'GET', path: '/delegation-policies', operationId: 'listDelegationPolicies', summary: 'List delegation policies', tag: 'delegation', access: 'read',
    query: listQuery, response: z.strictObject({ policies: z.array(delegationPolicyView) }),
    handle: async ({ deps, query }) => ({ policies: await listDelegationPolicies(deps.db, { audience: query.resource, role: query.role }) }),
  }),
  route({
    method: 'POST', path: '/delegation-policies', operationId: 'createDelegationPolicy', summary: 'Let agents holding a role act for people holding a role on a resource (RFC 8693 token exchange)', tag: 'delegation', access: 'write', status: 201, errors: [409],
    body: createBody, response: policy,
    async handle({ deps, body, actor, ctx }) {
      const created = await createDelegationPolicy(
        deps.db,
        {
          agentRole: body.agent_role,
          subjectRole: body.subject_role,
          audience: body.audience,
          scopes: body.scopes,
          maxDepth: body.max_depth,
          maxTtl: typeof body.max_ttl === 'string' ? parseTtl(body.max_ttl, 'max_ttl') : body.max_ttl,
          description: body.description,
        },
        actor,
      );
      located(ctx, created.id);
      return { policy: created };
    },
  }),
  route({
    method: 'GET', path: '/delegation-policies/{policy_id}', operationId: 'getDelegationPolicy', summary: 'Show one delegation policy', tag: 'delegation', access: 'read',
    response: policy,
    handle: async ({ deps, params }) => ({ policy: await getDelegationPolicy(deps.db, params.policy_id) }),
  }),
  route({
    method: 'DELETE', path: '/delegation-policies/{policy_id}', operationId: 'removeDelegationPolicy', summary: 'Remove a delegation policy now: no exchange relies on it again, and tokens it allowed stop being accepted', tag: 'delegation', access: 'write',
    response: z.strictObject({ removed: delegationPolicyView }),
    handle: async ({ deps, params, actor }) => ({ removed: await removeDelegationPolicy(deps.db, params.policy_id, actor) }),
  }),
];

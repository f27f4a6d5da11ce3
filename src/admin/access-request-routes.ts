// /access-policies, /access-requests and /audit/approvals: access requests with approval (as
// `govauth requests …` and `govauth audit approvals`). A request names its holder (a person by
// email, or a client); naming neither files it for the caller itself: a client with its own
// token asks for a role for itself, a person's token for that person. An approver is a person:
// a person's token decides as that person; an automation's (client) token names the person whose
// decision it relays in `as`. Either way the rules of access-request-rules.ts apply, and the
// audit trail records the principal beside the approver.
import { z } from 'zod';
import { approvalHistory, MAX_APPROVAL_ROWS } from '../audit/approval-history.ts';
import { AppError } from '../errors/app-error.ts';
import { listPolicies, removeAccessPolicy, setAccessPolicy } from '../governance/access-policies.ts';
import { cancelAccessRequest, createAccessRequest, decideAccessRequest, type Holder, type Requester } from '../governance/access-requests.ts';
import { getAccessRequest, listRequests } from '../governance/access-request-views.ts';
import { recordRead } from './read-audit.ts';
import { route, type Call } from './route.ts';
import { audience, duration, email, queryBool, queryInt, roleName, scopeName, text } from './schemas.ts';
import { policyTermsFields, policyTermsInput, seconds } from './access-policy-body.ts';
import { accessPolicyView, accessRequestView, approvedGrantsView } from './access-request-views.ts';

const USER_ID = /^usr_/;
/** The principal behind the token: a person (usr_…) or a client. */
const principalOf = (actor: Call<unknown, unknown, unknown>['actor']): Requester => {
  const id = actor.actor ?? '';
  return USER_ID.test(id) ? { type: 'user', id } : { type: 'client', id };
};

const policyBody = z.strictObject(policyTermsFields);

const requestBody = z
  .strictObject({
    user: email.optional().describe('The person the role is for'),
    client: z.string().min(1).max(128).optional().describe('The client the role is for'),
    role: roleName.optional().describe('The role asked for; or name scope and resource'),
    scope: scopeName.optional().describe('One scope asked for, on resource (instead of a role)'),
    resource: audience.optional().describe('The resource (audience) the scope is for'),
    duration: duration.describe('How long the grant lasts once approved (at most the policy’s max_duration)'),
    justification: text('justification', 1000, 'Why the access is needed; shown to approvers and kept in the audit trail'),
  })
  .refine((b) => b.user === undefined || b.client === undefined, { path: ['client'], message: 'name user or client, not both' })
  .refine((b) => (b.role !== undefined) !== (b.scope !== undefined || b.resource !== undefined), { path: ['role'], message: 'ask for a role, or for one scope on one resource (scope and resource)' })
  .refine((b) => (b.scope === undefined) === (b.resource === undefined), { path: ['resource'], message: 'a scope is asked for on one resource: give scope and resource together' });

const decisionBody = z.strictObject({
  as: email.optional().describe('The approver (a person holding the approver role). A person’s own token decides as that person; a client token must name one.'),
  reason: text('reason', 500, 'Why, kept in the audit trail').optional(),
});

const listQuery = z.strictObject({
  pending: queryBool('Only requests still waiting for a decision').optional(),
  user: email.optional().describe('Only requests for this person'),
  role: roleName.optional(),
});

const approvalsQuery = z.strictObject({
  user: email.optional().describe('Only grants to this person'),
  role: roleName.optional(),
  limit: queryInt(1, MAX_APPROVAL_ROWS, 'The most recent grants to return (default 100)').optional(),
});

const one = z.strictObject({ request: accessRequestView });
const tag = 'access requests';
const ERRORS = [404, 409] as const;

function approverOf(actor: Call<unknown, unknown, unknown>['actor'], as: string | undefined): { email: string } | { id: string } {
  const caller = principalOf(actor);
  if (caller.type === 'user') {
    if (as !== undefined) throw new AppError('forbidden', 'a person’s token decides as that person: leave out "as"');
    return { id: caller.id };
  }
  if (as === undefined) throw new AppError('invalid_request', '"as" is required with a client token: the email of the person whose decision this is');
  return { email: as };
}

function holderOf(body: { user?: string | undefined; client?: string | undefined }, caller: Requester): Holder {
  if (body.user !== undefined) return { type: 'user', email: body.user };
  if (body.client !== undefined) return { type: 'client', id: body.client };
  if (caller.type === 'client') return { type: 'client', id: caller.id };
  throw new AppError('invalid_request', 'name the person (user) or client (client) the role is for');
}

const decide = (approve: boolean) =>
  async ({ deps, params, body, actor }: Call<{ id: string }, z.output<typeof decisionBody>, unknown>) => ({
    request: await decideAccessRequest(deps.db, params.id, approverOf(actor, body.as), { approve, ...(body.reason !== undefined && { reason: body.reason }) }, actor, deps.now(), deps.accessRequests),
  });

export const accessRequestRoutes = [
  route({
    method: 'GET', path: '/access-policies', operationId: 'listAccessPolicies', summary: 'The roles that may be requested, and how', tag, access: 'read',
    response: z.strictObject({ policies: z.array(accessPolicyView) }),
    handle: async ({ deps }) => ({ policies: await listPolicies(deps.db) }),
  }),
  route({
    method: 'PUT', path: '/access-policies/{role}', operationId: 'setAccessPolicy', summary: 'Let a role be requested: approver role, distinct approvers (1 or 2), longest duration, lapse', tag, access: 'write', errors: [404],
    body: policyBody, response: z.strictObject({ policy: accessPolicyView }),
    async handle({ deps, params, body, actor }) {
      const policy = await setAccessPolicy(
        deps.db,
        { role: params.role, ...policyTermsInput(body) },
        actor,
      );
      return { policy };
    },
  }),
  route({
    method: 'DELETE', path: '/access-policies/{role}', operationId: 'removeAccessPolicy', summary: 'Stop a role being requested; pending requests for it can no longer be approved', tag, access: 'write', errors: [404],
    response: z.strictObject({ removed: accessPolicyView }),
    handle: async ({ deps, params, actor }) => ({ removed: await removeAccessPolicy(deps.db, params.role, actor) }),
  }),
  route({
    method: 'POST', path: '/access-requests', operationId: 'createAccessRequest', summary: 'Ask for a role, or one scope on one resource, for a time, with a justification (for a person, a client, or the caller itself)', tag, access: 'write', status: 201, errors: [...ERRORS],
    body: requestBody, response: one,
    async handle({ deps, body, actor }) {
      const caller = principalOf(actor);
      const holder = holderOf(body, caller);
      const request = await createAccessRequest(deps.db, { holder, role: body.role, scope: body.scope, resource: body.resource, duration: seconds(body.duration, 'duration'), justification: body.justification }, { type: caller.type === 'client' ? 'client' : 'user', id: caller.id }, actor, deps.now(), deps.accessRequests);
      return { request };
    },
  }),
  route({
    method: 'GET', path: '/access-requests', operationId: 'listAccessRequests', summary: 'Access requests, oldest first (at most 500)', tag, access: 'read', errors: [404],
    query: listQuery, response: z.strictObject({ requests: z.array(accessRequestView) }),
    async handle(call) {
      const { deps, query } = call;
      const requests = await listRequests(deps.db, { ...(query.pending !== undefined && { pending: query.pending }), ...(query.user !== undefined && { user: query.user }), ...(query.role !== undefined && { role: query.role }) }, deps.now());
      await recordRead(call, { operation: 'listAccessRequests', subject: 'access_requests', returned: requests.length, filter: query });
      return { requests };
    },
  }),
  route({
    method: 'GET', path: '/access-requests/{id}', operationId: 'getAccessRequest', summary: 'One access request with every decision on it', tag, access: 'read', errors: [404],
    response: one,
    async handle(call) {
      const request = await getAccessRequest(call.deps.db, call.params.id, call.deps.now());
      await recordRead(call, { operation: 'getAccessRequest', subject: request.holder.id, returned: 1 });
      return { request };
    },
  }),
  route({
    method: 'POST', path: '/access-requests/{id}/approve', operationId: 'approveAccessRequest', summary: 'Approve as a person holding the approver role; the approval that completes the request grants the role at once', tag, access: 'write', errors: [...ERRORS],
    body: decisionBody, response: one, handle: decide(true),
  }),
  route({
    method: 'POST', path: '/access-requests/{id}/deny', operationId: 'denyAccessRequest', summary: 'Deny as a person holding the approver role: the request ends', tag, access: 'write', errors: [...ERRORS],
    body: decisionBody, response: one, handle: decide(false),
  }),
  route({
    method: 'POST', path: '/access-requests/{id}/cancel', operationId: 'cancelAccessRequest', summary: 'Withdraw a pending request the caller filed, or that is for the caller', tag, access: 'write', errors: [...ERRORS],
    response: one,
    handle: async ({ deps, params, actor }) => ({ request: await cancelAccessRequest(deps.db, params.id, principalOf(actor), actor, deps.now(), deps.accessRequests) }),
  }),
  route({
    method: 'GET', path: '/audit/approvals', operationId: 'auditApprovals', summary: 'Who approved each grant an access request made, and whether every approver was a different person from the requester', tag: 'audit', access: 'read', errors: [404],
    query: approvalsQuery, response: approvedGrantsView,
    async handle(call) {
      const { deps, query } = call;
      const report = await approvalHistory(deps.db, { user: query.user, role: query.role, limit: query.limit ?? 100 });
      await recordRead(call, { operation: 'auditApprovals', subject: 'audit', returned: report.grants.length, filter: query });
      return report;
    },
  }),
];

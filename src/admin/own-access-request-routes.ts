// /my/access-requests: a client (an agent) asking for access for ITSELF with its own
// client_credentials token, under the narrow scope govauth.requests (admin-model.ts): it files a
// request for a role, or for one scope on one resource, lists its own requests and withdraws
// them. Nothing here names another holder, so the scope cannot be stretched to ask for someone
// else; approving stays with people (access-request-routes.ts). The audit trail records the
// client as requester. People ask on their account page (account/access-request-pages.ts).
import { z } from 'zod';
import { AppError } from '../errors/app-error.ts';
import { cancelAccessRequest, createAccessRequest } from '../governance/access-requests.ts';
import { requestsOf } from '../governance/access-request-views.ts';
import { parseDuration } from '../governance/durations.ts';
import { accessRequestView } from './access-request-views.ts';
import { route, type Call } from './route.ts';
import { audience, duration, roleName, scopeName, text } from './schemas.ts';

const USER_ID = /^usr_/;

/** The calling client; a person's token is refused: people ask on their account page. */
function callingClient(actor: Call<unknown, unknown, unknown>['actor']): string {
  const id = actor.actor ?? '';
  if (!id || USER_ID.test(id)) throw new AppError('forbidden', '/my/access-requests is for clients asking for themselves with their own token; a person asks on their account page (/account/requests)');
  return id;
}

const body = z
  .strictObject({
    role: roleName.optional().describe('The role asked for; or name scope and resource'),
    scope: scopeName.optional().describe('One scope asked for, on resource'),
    resource: audience.optional().describe('The resource (audience) the scope is for'),
    duration: duration.describe('How long the grant lasts once approved (at most the policy’s max_duration)'),
    justification: text('justification', 1000, 'Why the access is needed; shown to approvers and kept in the audit trail'),
  })
  .refine((b) => (b.role !== undefined) !== (b.scope !== undefined || b.resource !== undefined), { path: ['role'], message: 'ask for a role, or for one scope on one resource (scope and resource)' })
  .refine((b) => (b.scope === undefined) === (b.resource === undefined), { path: ['resource'], message: 'a scope is asked for on one resource: give scope and resource together' });

const one = z.strictObject({ request: accessRequestView });
const tag = 'access requests';

export const ownAccessRequestRoutes = [
  route({
    method: 'POST', path: '/my/access-requests', operationId: 'createOwnAccessRequest', summary: 'A client asks for a role, or one scope on one resource, for itself for a time, with a justification (govauth.requests)', tag, access: 'requests', status: 201, errors: [404, 409],
    body, response: one,
    async handle({ deps, body: b, actor }) {
      const id = callingClient(actor);
      const request = await createAccessRequest(
        deps.db,
        { holder: { type: 'client', id }, role: b.role, scope: b.scope, resource: b.resource, duration: parseDuration(b.duration, 'duration') / 1000, justification: b.justification },
        { type: 'client', id },
        actor,
        deps.now(),
        deps.accessRequests,
      );
      return { request };
    },
  }),
  route({
    method: 'GET', path: '/my/access-requests', operationId: 'listOwnAccessRequests', summary: 'The calling client’s own access requests, newest first', tag, access: 'requests',
    response: z.strictObject({ requests: z.array(accessRequestView) }),
    handle: async ({ deps, actor }) => ({ requests: await requestsOf(deps.db, callingClient(actor), deps.now()) }),
  }),
  route({
    method: 'POST', path: '/my/access-requests/{id}/cancel', operationId: 'cancelOwnAccessRequest', summary: 'Withdraw one of the calling client’s own pending requests', tag, access: 'requests', errors: [404, 409],
    response: one,
    handle: async ({ deps, params, actor }) => ({ request: await cancelAccessRequest(deps.db, params.id, { type: 'client', id: callingClient(actor) }, actor, deps.now(), deps.accessRequests) }),
  }),
];

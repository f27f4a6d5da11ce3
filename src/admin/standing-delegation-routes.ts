// Standing delegations people gave agents (as `govauth delegation standing …`): administrators
// read them and withdraw any of them; only the person gives one (src/account). Reading them is
// reading people's data, so it is recorded in the audit trail (read-audit.ts).
import { z } from 'zod';
import { listStandingDelegations, withdrawStandingDelegation } from '../governance/standing-delegations.ts';
import { recordRead } from './read-audit.ts';
import { route } from './route.ts';
import { standingDelegationView } from './views.ts';

const listing = z.strictObject({ id: z.string().describe("The person's or the agent's id"), delegations: z.array(standingDelegationView) });
const tag = 'delegations';

export const standingDelegationRoutes = [
  route({
    method: 'GET', path: '/users/{email}/delegations', operationId: 'listUserStandingDelegations', summary: 'Show the standing delegations a person gave agents', tag, access: 'read', errors: [404],
    response: listing,
    async handle(call) {
      const found = await listStandingDelegations(call.deps.db, { user: call.params.email });
      await recordRead(call, { operation: 'listUserStandingDelegations', subject: found.id, returned: found.delegations.length });
      return found;
    },
  }),
  route({
    method: 'GET', path: '/clients/{id}/delegations', operationId: 'listAgentStandingDelegations', summary: 'Show the standing delegations people gave an agent', tag, access: 'read', errors: [404],
    response: listing,
    async handle(call) {
      const found = await listStandingDelegations(call.deps.db, { agent: call.params.id });
      await recordRead(call, { operation: 'listAgentStandingDelegations', subject: found.id, returned: found.delegations.length });
      return found;
    },
  }),
  route({
    method: 'DELETE', path: '/delegations/standing/{delegation_id}', operationId: 'withdrawStandingDelegation', summary: 'Withdraw a standing delegation now: tokens issued under it become inactive', tag, access: 'write', errors: [404],
    response: z.strictObject({ withdrawn: standingDelegationView }),
    handle: async ({ deps, params, actor }) => ({ withdrawn: await withdrawStandingDelegation(deps.db, params.delegation_id, { as: 'administrator' }, actor) }),
  }),
];

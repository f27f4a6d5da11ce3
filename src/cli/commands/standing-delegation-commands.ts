// govauth delegation standing list | withdraw: the standing delegations people gave agents on the
// delegation consent page. Administrators read and withdraw them; only the person gives one.
import { str, UsageError, type Command } from '../command.ts';
import { table } from '../table.ts';

// Loaded when a command runs, not with the command list (src/cli/main.ts).
const standingModule = () => import('../../governance/standing-delegations.ts');

type View = Awaited<ReturnType<Awaited<ReturnType<typeof standingModule>>['listStandingDelegations']>>['delegations'][number];

const rows = (list: readonly View[]): string =>
  table(
    ['ID', 'PERSON', 'AGENT', 'RESOURCE', 'SCOPES', 'UNTIL', 'GIVEN'],
    list.map((d) => [d.id, d.user_email, `${d.agent_name} (${d.client_id})`, d.audience, d.scopes.join(' '), d.expires_at ?? '(no end)', d.granted_at]),
  );

export const standingDelegationCommands: Command[] = [
  {
    name: 'delegation standing list',
    usage: 'govauth delegation standing list --user <email> | --agent <client_id>',
    summary: 'list the standing delegations a person gave agents, or an agent holds from people',
    options: { user: { type: 'string' }, agent: { type: 'string' } },
    positionals: [],
    async run({ values }, ctx) {
      const user = str(values, 'user');
      const agent = str(values, 'agent');
      if ((user === undefined) === (agent === undefined)) throw new UsageError('name exactly one of --user <email> or --agent <client_id>');
      const { listStandingDelegations } = await standingModule();
      const found = await listStandingDelegations(await ctx.db(), user !== undefined ? { user } : { agent: agent ?? '' });
      return { json: found, text: rows(found.delegations) };
    },
  },
  {
    name: 'delegation standing withdraw',
    usage: 'govauth delegation standing withdraw <id>',
    summary: 'withdraw a standing delegation now: tokens issued under it become inactive',
    options: {},
    positionals: ['id'],
    async run({ positionals }, ctx) {
      const { withdrawStandingDelegation } = await standingModule();
      const withdrawn = await withdrawStandingDelegation(await ctx.db(), positionals[0] ?? '', { as: 'administrator' }, ctx.actor);
      return {
        json: { withdrawn },
        text: `withdrawn ${withdrawn.id}: ${withdrawn.agent_name} (${withdrawn.client_id}) no longer acts for ${withdrawn.user_email} on ${withdrawn.audience}.`,
      };
    },
  },
];

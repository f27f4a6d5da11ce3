// govauth delegation allow|list|show|remove: the administrator's delegation policies, which
// agents (by role) may act for which people (by role), on what, how deep and how long (RFC 8693
// token exchange). Nothing is delegable without one.
import type { DelegationPolicyView } from '../../governance/delegation-policies.ts';
import { int, list, required, str, type Command } from '../command.ts';
import { table } from '../table.ts';

// Loaded when a command runs, not with the command list (src/cli/main.ts).
const policies = () => import('../../governance/delegation-policies.ts');
const durations = () => import('../../governance/durations.ts');

const sentence = (p: DelegationPolicyView): string => `agents holding role ${p.agent_role} may act for people holding role ${p.subject_role} on ${p.audience}`;

const describe = (p: DelegationPolicyView): string =>
  [
    `delegation policy ${p.id}`,
    `  ${sentence(p)}`,
    `  scopes:      ${p.scopes?.join(' ') ?? '(every scope of the resource)'}`,
    `  max depth:   ${p.max_depth} (agents in a chain, the acting one included)`,
    `  max TTL:     ${p.max_ttl === null ? '(the usual token lifetimes)' : `${p.max_ttl}s`}`,
    ...(p.description ? [`  description: ${p.description}`] : []),
    `  created:     ${p.created_at}`,
  ].join('\n');

export const delegationCommands: Command[] = [
  {
    name: 'delegation allow',
    usage:
      'govauth delegation allow --agent-role <role> --for-role <role> --resource <audience-uri> [--scopes s1,s2] [--max-depth 1-5] [--max-ttl <600|10m>] [--description <text>]',
    summary: 'let agents (token-exchange clients) holding a role act for people holding a role on a resource; prints the policy',
    options: {
      'agent-role': { type: 'string' },
      'for-role': { type: 'string' },
      resource: { type: 'string' },
      scopes: { type: 'string', multiple: true },
      'max-depth': { type: 'string' },
      'max-ttl': { type: 'string' },
      description: { type: 'string' },
    },
    positionals: [],
    async run({ values }, ctx) {
      const [{ createDelegationPolicy }, { parseTtl }] = await Promise.all([policies(), durations()]);
      const maxTtl = str(values, 'max-ttl');
      const policy = await createDelegationPolicy(
        await ctx.db(),
        {
          agentRole: required(values, 'agent-role'),
          subjectRole: required(values, 'for-role'),
          audience: required(values, 'resource'),
          scopes: list(values, 'scopes'),
          maxDepth: int(values, 'max-depth'),
          maxTtl: maxTtl === undefined ? undefined : parseTtl(maxTtl, '--max-ttl'),
          description: str(values, 'description'),
        },
        ctx.actor,
      );
      return { json: { policy }, text: `allowed: ${describe(policy)}` };
    },
  },
  {
    name: 'delegation list',
    usage: 'govauth delegation list [--resource <audience-uri>] [--role <role>]',
    summary: 'list delegation policies, for one resource or naming one role (as the agents\' or the people\'s)',
    options: { resource: { type: 'string' }, role: { type: 'string' } },
    positionals: [],
    async run({ values }, ctx) {
      const { listDelegationPolicies } = await policies();
      const found = await listDelegationPolicies(await ctx.db(), { audience: str(values, 'resource'), role: str(values, 'role') });
      return {
        json: { policies: found },
        text: table(
          ['ID', 'AGENT ROLE', 'FOR ROLE', 'RESOURCE', 'SCOPES', 'DEPTH', 'MAX TTL', 'DESCRIPTION'],
          found.map((p) => [p.id, p.agent_role, p.subject_role, p.audience, p.scopes?.join(' ') ?? '(all)', String(p.max_depth), p.max_ttl === null ? '-' : `${p.max_ttl}s`, p.description]),
        ),
      };
    },
  },
  {
    name: 'delegation show',
    usage: 'govauth delegation show <policy_id>',
    summary: 'show one delegation policy',
    options: {},
    positionals: ['policy_id'],
    async run({ positionals }, ctx) {
      const { getDelegationPolicy } = await policies();
      const policy = await getDelegationPolicy(await ctx.db(), positionals[0] ?? '');
      return { json: { policy }, text: describe(policy) };
    },
  },
  {
    name: 'delegation remove',
    usage: 'govauth delegation remove <policy_id>',
    summary: 'remove a delegation policy now: no exchange relies on it again, and tokens it allowed stop being accepted',
    options: {},
    positionals: ['policy_id'],
    async run({ positionals }, ctx) {
      const { removeDelegationPolicy } = await policies();
      const policy = await removeDelegationPolicy(await ctx.db(), positionals[0] ?? '', ctx.actor);
      return {
        json: { removed: policy },
        text: `removed delegation policy ${policy.id}: ${sentence(policy).replace(' may act ', ' may no longer act ')} through it; tokens it allowed stop being accepted`,
      };
    },
  },
];

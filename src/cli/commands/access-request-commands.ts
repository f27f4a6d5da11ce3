// govauth requests …: access requests with approval (the two-person rule) for a role or for one
// scope on one resource, and the policies (per role, per resource and scope) that govern them. An approver is named with --as <email>: the person whose decision
// this is (they must hold the approver role now); the audit trail records the operator who ran
// the command (GOVAUTH_OPERATOR, as for every CLI change) beside them.
import type { AccessPolicyView } from '../../governance/access-policies.ts';
import type { ScopeAccessPolicyView } from '../../governance/scope-access-policies.ts';
import type { AccessRequestView } from '../../governance/access-request-views.ts';
import { flag, int, required, str, UsageError, type CliContext, type Command } from '../command.ts';
import { table } from '../table.ts';

// Loaded when a command runs, not with the command list (src/cli/main.ts).
const requests = () => import('../../governance/access-requests.ts');
const views = () => import('../../governance/access-request-views.ts');
const policies = () => import('../../governance/access-policies.ts');
const scopePolicies = () => import('../../governance/scope-access-policies.ts');
const events = () => import('../../governance/access-request-events.ts');
const durations = () => import('../../governance/durations.ts');

async function seconds(raw: string, what: string): Promise<number> {
  const { parseDuration } = await durations();
  return parseDuration(raw, what) / 1000;
}

const human = (s: number): string => (s % 86_400 === 0 ? `${s / 86_400}d` : s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`);

const approvers = (r: AccessRequestView): string =>
  r.decisions.map((d) => `${d.decision === 'approve' ? '+' : '-'}${d.approver_email}`).join(' ') || '-';

const requestRows = (list: readonly AccessRequestView[]): string =>
  table(
    ['ID', 'STATE', 'FOR', 'ASKS FOR', 'DURATION', 'REQUESTED BY', 'DECISIONS', 'REQUESTED', 'JUSTIFICATION'],
    list.map((r) => [r.id, r.state, r.holder.label, r.target, human(r.duration), `${r.requested_by.type}:${r.requested_by.id}`, approvers(r), r.requested_at, r.justification]),
  );

function describe(r: AccessRequestView): string {
  const lines = [
    `request ${r.id}: ${r.state}`,
    `  for:           ${r.holder.label} (${r.holder.type} ${r.holder.id})`,
    `  asks for:      ${r.target} for ${human(r.duration)}`,
    `  requested by:  ${r.requested_by.type}:${r.requested_by.id} at ${r.requested_at}`,
    `  justification: ${r.justification}`,
    ...r.decisions.map((d) => `  ${d.decision === 'approve' ? 'approved' : 'denied'} by ${d.approver_email} at ${d.at}${d.reason ? ` (${d.reason})` : ''}`),
  ];
  if (r.state === 'pending') lines.push(`  lapses at:     ${r.lapses_at}`);
  if (r.grant_expires_at) lines.push(`  granted until: ${r.grant_expires_at}`);
  return lines.join('\n');
}

const policyRows = (list: readonly AccessPolicyView[]): string =>
  table(
    ['ROLE', 'APPROVAL', 'APPROVERS', 'APPROVER ROLE', 'LONGEST', 'LAPSES AFTER'],
    list.map((p) => [p.role, p.require_approval ? 'required' : 'none', String(p.approvals), p.approver_role, human(p.max_duration), human(p.lapse_after)]),
  );

const scopePolicyRows = (list: readonly ScopeAccessPolicyView[]): string =>
  table(
    ['RESOURCE', 'SCOPE', 'APPROVAL', 'APPROVERS', 'APPROVER ROLE', 'LONGEST', 'LAPSES AFTER'],
    list.map((p) => [p.resource, p.scope, p.require_approval ? 'required' : 'none', String(p.approvals), p.approver_role, human(p.max_duration), human(p.lapse_after)]),
  );

/** A role as the positional, or --scope with --resource: exactly one. */
function policyTarget(values: Record<string, unknown>, positionals: string[]): { role: string } | { scope: string; resource: string } {
  const scope = typeof values.scope === 'string' ? values.scope : undefined;
  const resource = typeof values.resource === 'string' ? values.resource : undefined;
  const role = positionals[0];
  if (role !== undefined) {
    if (scope !== undefined || resource !== undefined) throw new UsageError('name a role, or --scope with --resource, not both');
    return { role };
  }
  if (scope === undefined || resource === undefined) throw new UsageError('name a role, or a scope on a resource: --scope <scope> --resource <audience>');
  return { scope, resource };
}

async function personId(db: Awaited<ReturnType<CliContext['db']>>, email: string): Promise<string> {
  const [{ findUserId }, { normalizeEmail }, { mustExist }] = await Promise.all([import('../../db/people-repository.ts'), import('../../governance/email-address.ts'), import('../../governance/catalog.ts')]);
  const address = normalizeEmail(email);
  return (await mustExist(findUserId(db, address), `no user ${address}`)).id;
}

async function bus() {
  return (await events()).NO_ACCESS_REQUEST_EVENTS;
}

async function decide(approve: boolean, values: Record<string, unknown>, id: string, ctx: CliContext) {
  const { decideAccessRequest } = await requests();
  const reason = typeof values.reason === 'string' ? values.reason : undefined;
  const as = typeof values.as === 'string' ? values.as : undefined;
  if (as === undefined) throw new UsageError('--as <approver email> is required: the person whose decision this is');
  return decideAccessRequest(await ctx.db(), id, { email: as }, { approve, ...(reason !== undefined && { reason }) }, ctx.actor, ctx.now(), await bus());
}

export const accessRequestCommands: Command[] = [
  {
    name: 'requests policy set',
    usage: 'govauth requests policy set (<role> | --scope <scope> --resource <audience>) [--approver-role <role>] [--max <4h>] [--approvals 1|2] [--approval required|none] [--lapse-after <24h>]',
    summary: 'let a role, or one scope on one resource, be requested: who approves (holders of --approver-role), how many distinct approvers, the longest duration, how long a request may wait',
    options: { 'approver-role': { type: 'string' }, max: { type: 'string' }, approvals: { type: 'string' }, approval: { type: 'string' }, 'lapse-after': { type: 'string' }, scope: { type: 'string' }, resource: { type: 'string' } },
    positionals: ['role'],
    positionalsOptional: true,
    async run({ values, positionals }, ctx) {
      const approval = str(values, 'approval');
      if (approval !== undefined && approval !== 'required' && approval !== 'none') throw new UsageError('--approval must be required or none');
      const max = str(values, 'max');
      const lapse = str(values, 'lapse-after');
      const approverRole = str(values, 'approver-role');
      const approvals = int(values, 'approvals');
      const target = policyTarget(values, positionals);
      const terms = {
        ...(approverRole !== undefined && { approverRole }),
        ...(approvals !== undefined && { approvals }),
        ...(approval !== undefined && { requireApproval: approval === 'required' }),
        ...(max !== undefined && { maxDuration: await seconds(max, '--max') }),
        ...(lapse !== undefined && { lapseAfter: await seconds(lapse, '--lapse-after') }),
      };
      if (!('role' in target)) {
        const { setScopeAccessPolicy } = await scopePolicies();
        const policy = await setScopeAccessPolicy(await ctx.db(), { ...target, ...terms }, ctx.actor);
        return { json: { policy }, text: scopePolicyRows([policy]) };
      }
      const { setAccessPolicy } = await policies();
      const policy = await setAccessPolicy(
        await ctx.db(),
        {
          role: target.role,
          ...(approverRole !== undefined && { approverRole }),
          ...(approvals !== undefined && { approvals }),
          ...(approval !== undefined && { requireApproval: approval === 'required' }),
          ...(max !== undefined && { maxDuration: await seconds(max, '--max') }),
          ...(lapse !== undefined && { lapseAfter: await seconds(lapse, '--lapse-after') }),
        },
        ctx.actor,
      );
      return { json: { policy }, text: policyRows([policy]) };
    },
  },
  {
    name: 'requests policy list',
    usage: 'govauth requests policy list',
    summary: 'the roles, and the scopes on resources, that may be requested, and how',
    options: {},
    positionals: [],
    async run(_input, ctx) {
      const { listPolicies } = await policies();
      const { listScopePolicies } = await scopePolicies();
      const db = await ctx.db();
      const list = await listPolicies(db);
      const scopes = await listScopePolicies(db);
      return { json: { policies: list, scope_policies: scopes }, text: `${policyRows(list)}\n\n${scopePolicyRows(scopes)}` };
    },
  },
  {
    name: 'requests policy remove',
    usage: 'govauth requests policy remove (<role> | --scope <scope> --resource <audience>)',
    summary: 'stop a role (or a scope on a resource) being requested; pending requests for it can no longer be approved',
    options: { scope: { type: 'string' }, resource: { type: 'string' } },
    positionals: ['role'],
    positionalsOptional: true,
    async run({ values, positionals }, ctx) {
      const target = policyTarget(values, positionals);
      if (!('role' in target)) {
        const { removeScopeAccessPolicy } = await scopePolicies();
        const removed = await removeScopeAccessPolicy(await ctx.db(), target.resource, target.scope, ctx.actor);
        return { json: { removed }, text: `scope ${removed.scope} on ${removed.resource} can no longer be requested` };
      }
      const { removeAccessPolicy } = await policies();
      const removed = await removeAccessPolicy(await ctx.db(), target.role, ctx.actor);
      return { json: { removed }, text: `role ${removed.role} can no longer be requested` };
    },
  },
  {
    name: 'requests create',
    usage: 'govauth requests create (--as <email> | --user <email> | --client <client_id>) (--role <role> | --scope <scope> --resource <audience>) --for <4h> --justification <text>',
    summary: 'ask for a role, or one scope on one resource, for a time; granted when the approvers its policy names approve (at once when it needs no approval). --as: the person asks for themselves (recorded as requester); --user/--client: the operator files it for them',
    options: { as: { type: 'string' }, user: { type: 'string' }, client: { type: 'string' }, role: { type: 'string' }, scope: { type: 'string' }, resource: { type: 'string' }, for: { type: 'string' }, justification: { type: 'string' } },
    positionals: [],
    async run({ values }, ctx) {
      const as = str(values, 'as');
      const user = str(values, 'user');
      const client = str(values, 'client');
      if ([as, user, client].filter((v) => v !== undefined).length !== 1) throw new UsageError('name exactly one of --as <email>, --user <email> or --client <client_id>');
      const role = str(values, 'role');
      const scope = str(values, 'scope');
      const resource = str(values, 'resource');
      if ((role === undefined) === (scope === undefined && resource === undefined)) throw new UsageError('ask for --role <role>, or for --scope <scope> --resource <audience>');
      if ((scope === undefined) !== (resource === undefined)) throw new UsageError('a scope is asked for on one resource: give --scope and --resource together');
      const duration = await seconds(required(values, 'for'), '--for');
      const justification = required(values, 'justification');
      const { createAccessRequest } = await requests();
      const db = await ctx.db();
      const holder = client !== undefined ? { type: 'client' as const, id: client } : { type: 'user' as const, email: as ?? user ?? '' };
      // --as: the person files it for themselves, so they count as requester for separation of duties.
      const requester = as !== undefined ? { type: 'user' as const, id: await personId(db, as) } : { type: 'cli' as const, id: ctx.actor.actor ?? 'cli' };
      const request = await createAccessRequest(db, { holder, role, scope, resource, duration, justification }, requester, ctx.actor, ctx.now(), await bus());
      return { json: { request }, text: describe(request) };
    },
  },
  {
    name: 'requests list',
    usage: 'govauth requests list [--pending] [--user <email>] [--role <role>]',
    summary: 'access requests, oldest first; --pending: only those still waiting for a decision',
    options: { pending: { type: 'boolean' }, user: { type: 'string' }, role: { type: 'string' } },
    positionals: [],
    async run({ values }, ctx) {
      const { listRequests } = await views();
      const user = str(values, 'user');
      const role = str(values, 'role');
      const list = await listRequests(await ctx.db(), { pending: flag(values, 'pending'), ...(user !== undefined && { user }), ...(role !== undefined && { role }) }, ctx.now());
      return { json: { requests: list }, text: requestRows(list) };
    },
  },
  {
    name: 'requests show',
    usage: 'govauth requests show <id>',
    summary: 'one access request with every decision on it',
    options: {},
    positionals: ['id'],
    async run({ positionals }, ctx) {
      const { getAccessRequest } = await views();
      const request = await getAccessRequest(await ctx.db(), positionals[0] ?? '', ctx.now());
      return { json: { request }, text: describe(request) };
    },
  },
  {
    name: 'requests approve',
    usage: 'govauth requests approve <id> --as <approver email> [--reason <text>]',
    summary: 'approve as a person holding the approver role; the approval that completes the request grants the role at once',
    options: { as: { type: 'string' }, reason: { type: 'string' } },
    positionals: ['id'],
    async run({ values, positionals }, ctx) {
      const request = await decide(true, values, positionals[0] ?? '', ctx);
      const left = request.state === 'pending' ? '\n  waiting for another approver' : '';
      return { json: { request }, text: `${describe(request)}${left}` };
    },
  },
  {
    name: 'requests deny',
    usage: 'govauth requests deny <id> --as <approver email> [--reason <text>]',
    summary: 'deny as a person holding the approver role: the request ends',
    options: { as: { type: 'string' }, reason: { type: 'string' } },
    positionals: ['id'],
    async run({ values, positionals }, ctx) {
      const request = await decide(false, values, positionals[0] ?? '', ctx);
      return { json: { request }, text: describe(request) };
    },
  },
  {
    name: 'requests cancel',
    usage: 'govauth requests cancel <id> [--as <email>]',
    summary: 'withdraw a pending request: as the operator who filed it, or --as the person it is for',
    options: { as: { type: 'string' } },
    positionals: ['id'],
    async run({ values, positionals }, ctx) {
      const { cancelAccessRequest } = await requests();
      const db = await ctx.db();
      const as = str(values, 'as');
      const who = as === undefined ? { type: 'cli', id: ctx.actor.actor ?? 'cli' } : { type: 'user' as const, email: as };
      const request = await cancelAccessRequest(db, positionals[0] ?? '', who, ctx.actor, ctx.now(), await bus());
      return { json: { request }, text: describe(request) };
    },
  },
];

// govauth (user|client) scope-grants|revoke-scope: the time-boxed grants of one scope on one
// resource that approved access requests made (governance/scope-grants.ts), shown and ended at
// once, beside `govauth (user|client) roles|revoke-role` for role grants.
import type { Principal } from '../../governance/role-grants.ts';
import type { ScopeGrantView } from '../../governance/scope-grants.ts';
import { required, type Command } from '../command.ts';
import { table } from '../table.ts';

// Loaded when a command runs, not with the command list (src/cli/main.ts).
const scopeGrants = () => import('../../governance/scope-grants.ts');

const grantsTable = (grants: readonly ScopeGrantView[]): string =>
  table(['RESOURCE', 'SCOPE', 'EXPIRES', 'REQUEST', 'GRANTED'], grants.map((g) => [g.resource, g.scope, g.expires_at, g.request ?? '', g.granted_at]));

function commandsFor(kind: 'user' | 'client'): Command[] {
  const noun = kind === 'user' ? '<email>' : '<client_id>';
  const positional = kind === 'user' ? 'email' : 'client_id';
  const principal = (key: string): Principal => (kind === 'user' ? { type: 'user', email: key } : { type: 'client', id: key });
  return [
    {
      name: `${kind} scope-grants`,
      usage: `govauth ${kind} scope-grants ${noun}`,
      summary: 'show time-boxed grants of one scope on one resource (made by approved access requests) with their expiry',
      options: {},
      positionals: [positional],
      async run({ positionals }, ctx) {
        const { listScopeGrants } = await scopeGrants();
        const { id, label, grants } = await listScopeGrants(await ctx.db(), principal(positionals[0] ?? ''));
        return { json: { id, grants }, text: `${label} (${id})\n${grantsTable(grants)}` };
      },
    },
    {
      name: `${kind} revoke-scope`,
      usage: `govauth ${kind} revoke-scope ${noun} --scope <scope> --resource <audience>`,
      summary: 'end a grant of one scope on one resource now: tokens carrying it turn inactive on every instance',
      options: { scope: { type: 'string' }, resource: { type: 'string' } },
      positionals: [positional],
      async run({ values, positionals }, ctx) {
        const { removeScopeGrant } = await scopeGrants();
        const grants = await removeScopeGrant(await ctx.db(), { principal: principal(positionals[0] ?? ''), scope: required(values, 'scope'), resource: required(values, 'resource') }, ctx.actor);
        return { json: { grants }, text: grantsTable(grants) };
      },
    },
  ];
}

export const scopeGrantCommands: Command[] = [...commandsFor('user'), ...commandsFor('client')];

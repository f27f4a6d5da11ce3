// govauth scope|resource|role …: the governance catalogue.
import type { ResourceView, RoleView, ScopeView } from '../../governance/catalog.ts';
import { loadConfig } from '../../config/load-config.ts';
import { AppError } from '../../errors/app-error.ts';
import { flag, int, list, required, str, UsageError, type Command } from '../command.ts';
import { table } from '../table.ts';

// Loaded when a command runs, not with the command list (src/cli/main.ts).
const catalog = () => import('../../governance/catalog.ts');
const roleDeletion = () => import('../../governance/role-deletion.ts');

const scopeLine = (s: ScopeView): string => `scope ${s.name} (${s.sensitivity}${s.max_ttl ? `, max TTL ${s.max_ttl}s` : ''}): ${s.description}`;
const resourceLine = (r: ResourceView): string =>
  `resource ${r.audience} "${r.name}" scopes: ${r.scopes.join(' ') || '(none)'}${r.token_ttl ? `, token TTL ${r.token_ttl}s` : ''}${r.require_pop ? ', bound tokens only' : ''}`;
const roleLine = (r: RoleView): string => `role ${r.name}: ${r.scopes.join(' ') || '(no scopes)'}`;

function ttlOption(values: Record<string, unknown>, name: string): number | null | undefined {
  if (values[name] === 'none') return null;
  return int(values as never, name);
}

export const catalogCommands: Command[] = [
  {
    name: 'scope create',
    usage: 'govauth scope create <name> --description <text> [--sensitivity low|medium|high] [--max-ttl <seconds>]',
    summary: 'define a scope',
    options: { description: { type: 'string' }, sensitivity: { type: 'string' }, 'max-ttl': { type: 'string' } },
    positionals: ['name'],
    async run({ values, positionals }, ctx) {
      const { createScope } = await catalog();
      const scope = await createScope(await ctx.db(), {
        name: positionals[0] ?? '',
        description: required(values, 'description'),
        sensitivity: str(values, 'sensitivity'),
        maxTtl: int(values, 'max-ttl'),
      }, ctx.actor);
      return { json: { scope }, text: `created ${scopeLine(scope)}` };
    },
  },
  {
    name: 'scope update',
    usage: 'govauth scope update <name> [--description <text>] [--sensitivity low|medium|high] [--max-ttl <seconds>|none]',
    summary: 'change a scope',
    options: { description: { type: 'string' }, sensitivity: { type: 'string' }, 'max-ttl': { type: 'string' } },
    positionals: ['name'],
    async run({ values, positionals }, ctx) {
      const { updateScope } = await catalog();
      const scope = await updateScope(await ctx.db(), positionals[0] ?? '', {
        description: str(values, 'description'),
        sensitivity: str(values, 'sensitivity'),
        maxTtl: ttlOption(values, 'max-ttl'),
      }, ctx.actor);
      return { json: { scope }, text: `updated ${scopeLine(scope)}` };
    },
  },
  {
    name: 'scope list',
    usage: 'govauth scope list',
    summary: 'list scopes',
    options: {},
    positionals: [],
    async run(_input, ctx) {
      const { listScopes } = await catalog();
      const scopes = await listScopes(await ctx.db());
      return {
        json: { scopes },
        text: table(['SCOPE', 'SENSITIVITY', 'MAX TTL', 'DESCRIPTION'], scopes.map((s) => [s.name, s.sensitivity, s.max_ttl ? `${s.max_ttl}s` : '-', s.description])),
      };
    },
  },
  {
    name: 'resource create',
    usage: 'govauth resource create <audience-uri> --name <text> --scopes <s1,s2> [--token-ttl <seconds>] [--require-pop]',
    summary: 'register a resource server (an audience)',
    options: { name: { type: 'string' }, scopes: { type: 'string', multiple: true }, 'token-ttl': { type: 'string' }, 'require-pop': { type: 'boolean' } },
    positionals: ['audience-uri'],
    async run({ values, positionals }, ctx) {
      const { createResource } = await catalog();
      const resource = await createResource(await ctx.db(), {
        audience: positionals[0] ?? '',
        name: required(values, 'name'),
        scopes: list(values, 'scopes') ?? [],
        tokenTtl: int(values, 'token-ttl'),
        requirePop: flag(values, 'require-pop'),
      }, ctx.actor);
      return { json: { resource }, text: `created ${resourceLine(resource)}` };
    },
  },
  {
    name: 'resource update',
    usage: 'govauth resource update <audience-uri> [--name <text>] [--scopes <s1,s2>] [--token-ttl <seconds>|none] [--require-pop | --no-require-pop]',
    summary: 'change a resource server',
    options: {
      name: { type: 'string' },
      scopes: { type: 'string', multiple: true },
      'token-ttl': { type: 'string' },
      'require-pop': { type: 'boolean' },
      'no-require-pop': { type: 'boolean' },
    },
    positionals: ['audience-uri'],
    async run({ values, positionals }, ctx) {
      const { updateResource } = await catalog();
      if (flag(values, 'require-pop') && flag(values, 'no-require-pop')) throw new UsageError('give --require-pop or --no-require-pop, not both');
      const resource = await updateResource(await ctx.db(), positionals[0] ?? '', {
        name: str(values, 'name'),
        scopes: list(values, 'scopes'),
        tokenTtl: ttlOption(values, 'token-ttl'),
        requirePop: flag(values, 'require-pop') ? true : flag(values, 'no-require-pop') ? false : undefined,
      }, ctx.actor);
      return { json: { resource }, text: `updated ${resourceLine(resource)}` };
    },
  },
  {
    name: 'resource list',
    usage: 'govauth resource list',
    summary: 'list resource servers',
    options: {},
    positionals: [],
    async run(_input, ctx) {
      const { listResources } = await catalog();
      const resources = await listResources(await ctx.db());
      return {
        json: { resources },
        text: table(['AUDIENCE', 'NAME', 'TOKEN TTL', 'BOUND ONLY', 'SCOPES'], resources.map((r) => [r.audience, r.name, r.token_ttl ? `${r.token_ttl}s` : 'default', r.require_pop ? 'yes' : 'no', r.scopes.join(' ')])),
      };
    },
  },
  {
    name: 'role create',
    usage: 'govauth role create <name> --scopes <s1,s2> [--description <text>]',
    summary: 'define a role (role → scopes)',
    options: { scopes: { type: 'string', multiple: true }, description: { type: 'string' } },
    positionals: ['name'],
    async run({ values, positionals }, ctx) {
      const { createRole } = await catalog();
      const scopes = list(values, 'scopes');
      if (!scopes) throw new UsageError('--scopes is required (a comma-separated list)');
      const role = await createRole(await ctx.db(), { name: positionals[0] ?? '', scopes, description: str(values, 'description') }, ctx.actor);
      return { json: { role }, text: `created ${roleLine(role)}` };
    },
  },
  {
    name: 'role update',
    usage: 'govauth role update <name> [--scopes <s1,s2>] [--description <text>]',
    summary: 'change a role; tokens issued from now on follow it',
    options: { scopes: { type: 'string', multiple: true }, description: { type: 'string' } },
    positionals: ['name'],
    async run({ values, positionals }, ctx) {
      const { updateRole } = await catalog();
      const role = await updateRole(await ctx.db(), positionals[0] ?? '', { scopes: list(values, 'scopes'), description: str(values, 'description') }, ctx.actor);
      return { json: { role }, text: `updated ${roleLine(role)}` };
    },
  },
  {
    name: 'role list',
    usage: 'govauth role list',
    summary: 'list roles',
    options: {},
    positionals: [],
    async run(_input, ctx) {
      const { listRoles } = await catalog();
      const roles = await listRoles(await ctx.db());
      return { json: { roles }, text: table(['ROLE', 'SCOPES', 'DESCRIPTION'], roles.map((r) => [r.name, r.scopes.join(' '), r.description])) };
    },
  },
  {
    name: 'role delete',
    usage: 'govauth role delete <name> [--force]',
    summary:
      'delete a role; refused while anyone holds it, another role includes it or a delegation or access policy names it. --force takes it from its holders, removes those policies and ends tokens carrying it. Built-in roles are never deleted',
    options: { force: { type: 'boolean' } },
    positionals: ['name'],
    async run({ values, positionals }, ctx) {
      const { deleteRole, RoleInUse } = await roleDeletion();
      const force = flag(values, 'force');
      const deleted = await deleteRole(await ctx.db(), positionals[0] ?? '', { force, horizonSeconds: loadConfig(ctx.env).signIn.sessionMaxAge, now: ctx.now() }, ctx.actor).catch((err: unknown) => {
        if (err instanceof RoleInUse) throw new AppError('conflict', `${err.message} (run it again with --force)`);
        throw err;
      });
      const { people, clients } = deleted.holders;
      const lost = people + clients ? `; ${people} ${people === 1 ? 'person' : 'people'} and ${clients} ${clients === 1 ? 'client' : 'clients'} lost it` : '';
      return {
        json: { deleted },
        text: `deleted role ${deleted.name} (${deleted.scopes.join(' ') || 'no scopes'})${lost}.\nTokens carrying it issued until ${deleted.revoked.cutoff} are no longer accepted.`,
      };
    },
  },
];

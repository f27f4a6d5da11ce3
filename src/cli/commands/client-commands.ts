// govauth client …: AI services, bots, agents that act for people, resource servers and apps.
import type { ClientView } from '../../governance/client-registry.ts';
import { flag, list, required, str, UsageError, type Command } from '../command.ts';
import { table } from '../table.ts';

// Loaded when a command runs, not with the command list (src/cli/main.ts).
const clientRegistry = () => import('../../governance/client-registry.ts');

const describe = (c: ClientView): string =>
  [
    `client_id:  ${c.client_id}`,
    `name:       ${c.name}`,
    `grants:     ${c.grant_types.join(' ') || '(none)'}`,
    `roles:      ${c.roles.map((r) => (r.expires_at ? `${r.role} (until ${r.expires_at})` : r.role)).join(' ') || '(none)'}`,
    ...(c.introspect_audience ? [`introspects: ${c.introspect_audience}`] : []),
    ...(c.redirect_uris.length ? [`redirects:  ${c.redirect_uris.join(' ')}`] : []),
    `admin API:  ${c.admin_access ? 'allowed (may obtain tokens for urn:govauth:admin)' : 'not allowed'}`,
    `tokens:     ${c.require_pop ? 'bound only (a DPoP proof is required)' : 'bound when the client sends a DPoP proof, else bearer'}`,
    `status:     ${c.disabled ? 'DISABLED' : 'active'}`,
  ].join('\n');

const secretNotice = (id: string, secret: string | null): string =>
  secret === null
    ? `client_id:     ${id}\n(public client: no secret; it must use PKCE)`
    : `client_id:     ${id}\nclient_secret: ${secret}\n\nStore the secret now: it is not shown again (only its hash is kept).`;

export const clientCommands: Command[] = [
  {
    name: 'client create',
    usage:
      'govauth client create --name <text> (--grant client_credentials [--roles r1,r2] | --grant token-exchange [--grant client_credentials] [--roles r1,r2] | --grant authorization_code --redirect-uri <uri>… [--post-logout-redirect-uri <uri>…] [--scopes s1,s2] [--public] | --resource <audience-uri> --introspect) [--admin-access] [--require-pop]',
    summary: 'register a client; prints its secret once',
    options: {
      name: { type: 'string' },
      grant: { type: 'string', multiple: true },
      roles: { type: 'string', multiple: true },
      resource: { type: 'string' },
      introspect: { type: 'boolean' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      scopes: { type: 'string', multiple: true },
      public: { type: 'boolean' },
      'admin-access': { type: 'boolean' },
      'require-pop': { type: 'boolean' },
    },
    positionals: [],
    async run({ values }, ctx) {
      const { createClient } = await clientRegistry();
      const resource = str(values, 'resource');
      if (flag(values, 'introspect') !== (resource !== undefined)) {
        throw new UsageError('--introspect and --resource <audience-uri> go together (credentials a resource server uses to introspect tokens)');
      }
      const created = await createClient(await ctx.db(), {
        name: required(values, 'name'),
        grants: list(values, 'grant'),
        roles: list(values, 'roles'),
        introspectAudience: resource,
        redirectUris: list(values, 'redirect-uri'),
        postLogoutRedirectUris: list(values, 'post-logout-redirect-uri'),
        scopeCeiling: list(values, 'scopes'),
        isPublic: flag(values, 'public'),
        adminAccess: flag(values, 'admin-access'),
        requirePop: flag(values, 'require-pop'),
      }, ctx.actor);
      return { json: { ...created }, text: secretNotice(created.client_id, created.client_secret) };
    },
  },
  {
    name: 'client list',
    usage: 'govauth client list',
    summary: 'list clients',
    options: {},
    positionals: [],
    async run(_input, ctx) {
      const { listClients } = await clientRegistry();
      const clients = await listClients(await ctx.db());
      return {
        json: { clients },
        text: table(
          ['CLIENT_ID', 'NAME', 'GRANTS', 'ROLES', 'STATUS'],
          clients.map((c) => [
            c.client_id,
            c.name,
            c.introspect_audience ? `introspect ${c.introspect_audience}` : c.grant_types.join(' '),
            c.roles.map((r) => r.role).join(' ') || '-',
            c.disabled ? 'disabled' : 'active',
          ]),
        ),
      };
    },
  },
  {
    name: 'client show',
    usage: 'govauth client show <client_id>',
    summary: 'show one client',
    options: {},
    positionals: ['client_id'],
    async run({ positionals }, ctx) {
      const { getClient } = await clientRegistry();
      const client = await getClient(await ctx.db(), positionals[0] ?? '');
      return { json: { client }, text: describe(client) };
    },
  },
  {
    name: 'client update',
    usage: 'govauth client update <client_id> [--name <text>] [--roles r1,r2] [--admin-access | --no-admin-access] [--require-pop | --no-require-pop]',
    summary: 'rename a client, replace its roles, allow or withdraw the admin API, or require proof of possession (next token follows)',
    options: { name: { type: 'string' }, roles: { type: 'string', multiple: true }, 'admin-access': { type: 'boolean' }, 'no-admin-access': { type: 'boolean' }, 'require-pop': { type: 'boolean' }, 'no-require-pop': { type: 'boolean' } },
    positionals: ['client_id'],
    async run({ values, positionals }, ctx) {
      const { updateClient } = await clientRegistry();
      if (flag(values, 'admin-access') && flag(values, 'no-admin-access')) throw new UsageError('give --admin-access or --no-admin-access, not both');
      const adminAccess = flag(values, 'admin-access') ? true : flag(values, 'no-admin-access') ? false : undefined;
      if (flag(values, 'require-pop') && flag(values, 'no-require-pop')) throw new UsageError('give --require-pop or --no-require-pop, not both');
      const requirePop = flag(values, 'require-pop') ? true : flag(values, 'no-require-pop') ? false : undefined;
      const patch = { name: str(values, 'name'), roles: list(values, 'roles'), adminAccess, requirePop };
      if (Object.values(patch).every((v) => v === undefined)) {
        throw new UsageError('nothing to change: give --name, --roles, --admin-access, --no-admin-access, --require-pop or --no-require-pop');
      }
      const client = await updateClient(await ctx.db(), positionals[0] ?? '', patch, ctx.actor);
      return { json: { client }, text: describe(client) };
    },
  },
  {
    name: 'client rotate-secret',
    usage: 'govauth client rotate-secret <client_id>',
    summary: 'issue a new secret; the old one stops working at once',
    options: {},
    positionals: ['client_id'],
    async run({ positionals }, ctx) {
      const { rotateClientSecret } = await clientRegistry();
      const rotated = await rotateClientSecret(await ctx.db(), positionals[0] ?? '', ctx.actor, ctx.now());
      return { json: { ...rotated }, text: secretNotice(rotated.client_id, rotated.client_secret) };
    },
  },
  {
    name: 'client disable',
    usage: 'govauth client disable <client_id>',
    summary: 'stop a client from authenticating',
    options: {},
    positionals: ['client_id'],
    async run({ positionals }, ctx) {
      const { setClientDisabled } = await clientRegistry();
      const client = await setClientDisabled(await ctx.db(), positionals[0] ?? '', true, ctx.actor);
      return { json: { client }, text: `disabled client ${client.client_id} (${client.name})` };
    },
  },
  {
    name: 'client enable',
    usage: 'govauth client enable <client_id>',
    summary: 'let a disabled client authenticate again',
    options: {},
    positionals: ['client_id'],
    async run({ positionals }, ctx) {
      const { setClientDisabled } = await clientRegistry();
      const client = await setClientDisabled(await ctx.db(), positionals[0] ?? '', false, ctx.actor);
      return { json: { client }, text: `enabled client ${client.client_id} (${client.name})` };
    },
  },
];

// govauth client registration-token | trust-policy | self-registered | approve | restrict | block:
// clients that identify or register themselves (Client ID Metadata Documents, RFC 7591) and
// what governance lets them receive (src/governance/self-registration.ts).
import type { SelfRegisteredView, TrustAction, TrustPolicyView } from '../../governance/self-registration-admin.ts';
import { flag, int, list, required, UsageError, type Command } from '../command.ts';
import { table } from '../table.ts';

// Loaded when a command runs, not with the command list (src/cli/main.ts).
const admin = () => import('../../governance/self-registration-admin.ts');
const tokens = () => import('../../governance/registration-tokens.ts');

const describePolicy = (p: TrustPolicyView): string =>
  [
    `trusted hosts:       ${p.trusted_hosts.join(' ') || '(none)'}`,
    `unknown hosts:       ${p.allow_unknown_hosts ? 'allowed, as unvetted clients' : 'refused (invalid_client)'}`,
    `unvetted scopes:     ${p.scope_ceiling === null ? 'every scope below high sensitivity (default)' : p.scope_ceiling.join(' ') || '(none)'}`,
    `unvetted resources:  ${p.resource_ceiling === null ? 'any resource' : p.resource_ceiling.join(' ') || '(none)'}`,
  ].join('\n');

const trustLine = (c: SelfRegisteredView): string =>
  c.trust === 'unreviewed' ? (c.vetted ? 'unreviewed (trusted host)' : 'unreviewed (unvetted ceiling)') : c.trust;

const describeClient = (c: SelfRegisteredView): string =>
  [
    `client_id:  ${c.client_id}`,
    `name:       ${c.name}`,
    `kind:       ${c.kind === 'metadata_document' ? `client ID metadata document (verified domain ${c.host ?? '?'})` : 'dynamic registration (RFC 7591)'}`,
    `trust:      ${trustLine(c)}`,
    ...(c.trust === 'restricted' ? [`ceiling:    scopes ${c.scope_ceiling?.join(' ') ?? '(policy)'}; resources ${c.resource_ceiling?.join(' ') ?? '(policy)'}`] : []),
    `since:      ${c.created_at}`,
  ].join('\n');

function trustCommand(action: TrustAction, summary: string): Command {
  const restrict = action === 'restrict';
  return {
    name: `client ${action === 'unreview' ? 'reset-trust' : action}`,
    usage: `govauth client ${action === 'unreview' ? 'reset-trust' : action} <client_id>${restrict ? ' [--scope <scope>]... [--resource <audience>]...' : ''}`,
    summary,
    options: restrict ? { scope: { type: 'string', multiple: true }, resource: { type: 'string', multiple: true } } : {},
    positionals: ['client_id'],
    async run({ values, positionals }, ctx) {
      const { decideSelfRegistered } = await admin();
      const ceiling = restrict ? { scopes: list(values, 'scope'), resources: list(values, 'resource') } : {};
      const client = await decideSelfRegistered(await ctx.db(), positionals[0] ?? '', action, ctx.actor, ctx.now(), Object.fromEntries(Object.entries(ceiling).filter(([, v]) => v !== undefined)));
      return { json: { client }, text: describeClient(client) };
    },
  };
}

export const selfRegistrationCommands: readonly Command[] = [
  {
    name: 'client registration-token',
    usage: 'govauth client registration-token --expires-in 1d --max-uses 10',
    summary: 'issue an initial access token for RFC 7591 dynamic registration (GOVAUTH_DYNAMIC_REGISTRATION=token); shown once',
    options: { 'expires-in': { type: 'string' }, 'max-uses': { type: 'string' } },
    positionals: [],
    async run({ values }, ctx) {
      const { issueRegistrationToken } = await tokens();
      const issued = await issueRegistrationToken(await ctx.db(), { expiresIn: required(values, 'expires-in'), maxUses: int(values, 'max-uses') ?? 1 }, ctx.actor, ctx.now());
      return {
        json: { ...issued },
        text: `id:          ${issued.id}\ntoken:       ${issued.token}\nexpires at:  ${issued.expires_at}\nuses:        ${issued.max_uses}\n\nStore the token now: it is not shown again (only its digest is kept).\nA client registers with it: POST /reg with Authorization: Bearer <token> (RFC 7591 §3).`,
      };
    },
  },
  {
    name: 'client registration-token list',
    usage: 'govauth client registration-token list',
    summary: 'list initial access tokens: expiry, uses, state',
    options: {},
    positionals: [],
    async run(_input, ctx) {
      const { listRegistrationTokens } = await tokens();
      const all = await listRegistrationTokens(await ctx.db(), ctx.now());
      return { json: { tokens: all }, text: table(['ID', 'EXPIRES', 'USES', 'STATE'], all.map((t) => [t.id, t.expires_at, `${t.uses}/${t.max_uses}`, t.state])) };
    },
  },
  {
    name: 'client registration-token revoke',
    usage: 'govauth client registration-token revoke <id>',
    summary: 'revoke an initial access token: no further registration with it',
    options: {},
    positionals: ['id'],
    async run({ positionals }, ctx) {
      const { revokeRegistrationToken } = await tokens();
      const token = await revokeRegistrationToken(await ctx.db(), positionals[0] ?? '', ctx.actor, ctx.now());
      return { json: { token }, text: `revoked registration token ${token.id}` };
    },
  },
  {
    name: 'client trust-policy',
    usage:
      'govauth client trust-policy [--trust-host <host|*.domain>]... [--untrust-host <host>]... [--allow-unknown-hosts | --refuse-unknown-hosts] [--unvetted-scopes a,b | --default-unvetted-scopes] [--unvetted-resources <aud>,… | --any-resource]',
    summary: 'show or change what self-registered clients may receive: trusted metadata document hosts, unknown hosts, the unvetted ceiling',
    options: {
      'trust-host': { type: 'string', multiple: true },
      'untrust-host': { type: 'string', multiple: true },
      'allow-unknown-hosts': { type: 'boolean' },
      'refuse-unknown-hosts': { type: 'boolean' },
      'unvetted-scopes': { type: 'string', multiple: true },
      'default-unvetted-scopes': { type: 'boolean' },
      'unvetted-resources': { type: 'string', multiple: true },
      'any-resource': { type: 'boolean' },
    },
    positionals: [],
    async run({ values }, ctx) {
      const { getTrustPolicy, updateTrustPolicy } = await admin();
      const either = (a: string, b: string): boolean | undefined => {
        if (flag(values, a) && flag(values, b)) throw new UsageError(`give --${a} or --${b}, not both`);
        return flag(values, a) ? true : flag(values, b) ? false : undefined;
      };
      const allowUnknownHosts = either('allow-unknown-hosts', 'refuse-unknown-hosts');
      const scopes = list(values, 'unvetted-scopes');
      const resources = list(values, 'unvetted-resources');
      if (scopes && flag(values, 'default-unvetted-scopes')) throw new UsageError('give --unvetted-scopes or --default-unvetted-scopes, not both');
      if (resources && flag(values, 'any-resource')) throw new UsageError('give --unvetted-resources or --any-resource, not both');
      const change = {
        ...(list(values, 'trust-host') && { addTrustedHosts: list(values, 'trust-host') }),
        ...(list(values, 'untrust-host') && { removeTrustedHosts: list(values, 'untrust-host') }),
        ...(allowUnknownHosts !== undefined && { allowUnknownHosts }),
        ...(scopes ? { scopeCeiling: scopes } : flag(values, 'default-unvetted-scopes') ? { scopeCeiling: null } : {}),
        ...(resources ? { resourceCeiling: resources } : flag(values, 'any-resource') ? { resourceCeiling: null } : {}),
      };
      const db = await ctx.db();
      const policy = Object.keys(change).length ? await updateTrustPolicy(db, change, ctx.actor) : await getTrustPolicy(db);
      return { json: { policy }, text: describePolicy(policy) };
    },
  },
  {
    name: 'client self-registered',
    usage: 'govauth client self-registered',
    summary: 'list clients that identified (metadata document) or registered (RFC 7591) themselves, with their trust',
    options: {},
    positionals: [],
    async run(_input, ctx) {
      const { listSelfRegistered } = await admin();
      const clients = await listSelfRegistered(await ctx.db());
      return { json: { clients }, text: table(['CLIENT_ID', 'NAME', 'KIND', 'HOST', 'TRUST'], clients.map((c) => [c.client_id, c.name, c.kind, c.host ?? '-', trustLine(c)])) };
    },
  },
  trustCommand('approve', 'vouch for a self-registered client: no unvetted ceiling (its people\'s roles still decide)'),
  trustCommand('restrict', 'hold a self-registered client to its own ceiling of scopes and/or resources'),
  trustCommand('block', 'refuse a self-registered client at once, on every instance (invalid_client)'),
  trustCommand('unreview', 'put a self-registered client back under the trust policy'),
];

// govauth client …: AI services, bots, agents that act for people, resource servers and apps.
import { readFile } from 'node:fs/promises';
import type { ClientView } from '../../governance/client-registry.ts';
import { flag, list, required, str, UsageError, type Command } from '../command.ts';
import { table } from '../table.ts';

// Loaded when a command runs, not with the command list (src/cli/main.ts).
const clientRegistry = () => import('../../governance/client-registry.ts');
/** The server's rules for URLs it fetches (a --jwks-uri), with its development allowance if set. */
const urlRules = async (env: Readonly<Record<string, string | undefined>>) => (await import('../../config/load-config.ts')).loadConfig(env).outboundFetch;

const DAY_MS = 86_400_000;
const days = (ms: number): string => `${Math.floor(ms / DAY_MS)}d`;

/** The secret's age, expiry and grace as an operator reads them, relative to `now`. */
function secretSummary(c: ClientView, now: number): string {
  if (!c.secret) return c.public ? '(none: public client)' : '(none)';
  const parts = [`issued ${days(now - Date.parse(c.secret.set_at))} ago`];
  const expires = c.secret.expires_at === null ? null : Date.parse(c.secret.expires_at);
  parts.push(expires === null ? 'no expiry' : expires <= now ? `EXPIRED ${c.secret.expires_at}` : `expires ${c.secret.expires_at} (in ${days(expires - now)})`);
  const previous = c.secret.previous_valid_until === null ? null : Date.parse(c.secret.previous_valid_until);
  if (previous !== null && previous > now) parts.push(`previous secret still works until ${c.secret.previous_valid_until}`);
  return parts.join('; ');
}

/** The JWK Set file's text (client-jwks.ts checks what is in it); a missing or oversized file is a usage error, not a stack trace. */
async function readJwksFile(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --jwks-file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  return text;
}

const authMethodLine = (c: ClientView): string =>
  c.token_endpoint_auth_method === 'private_key_jwt'
    ? c.jwks_uri !== null
      ? `private_key_jwt (no secret; keys fetched from ${c.jwks_uri})`
      : `private_key_jwt (no secret; keys: ${c.jwks?.keys.map((k) => (k as { kid?: string }).kid ?? '(no kid)').join(' ')})`
    : c.token_endpoint_auth_method === 'tls_client_auth' || c.token_endpoint_auth_method === 'self_signed_tls_client_auth'
      ? `${c.token_endpoint_auth_method} (no secret; its TLS client certificate, RFC 8705)`
      : c.token_endpoint_auth_method === 'none' ? 'none (public client)' : 'client_secret_basic / client_secret_post';

const describe = (c: ClientView, now: number): string =>
  [
    `client_id:  ${c.client_id}`,
    `name:       ${c.name}`,
    `grants:     ${c.grant_types.join(' ') || '(none)'}`,
    `roles:      ${c.roles.map((r) => (r.expires_at ? `${r.role} (until ${r.expires_at})` : r.role)).join(' ') || '(none)'}`,
    ...(c.introspect_audience ? [`introspects: ${c.introspect_audience}`] : []),
    ...(c.redirect_uris.length ? [`redirects:  ${c.redirect_uris.join(' ')}`] : []),
    `auth:       ${authMethodLine(c)}`,
    `admin API:  ${c.admin_access ? 'allowed (may obtain tokens for urn:govauth:admin)' : 'not allowed'}`,
    ...(c.tls_subject_dn !== null || c.tls_san !== null ? [`certificate: ${c.tls_subject_dn !== null ? `subject ${c.tls_subject_dn}` : `SAN ${c.tls_san ?? ''}`}`] : []),
    ...(c.certificate_bound_tokens ? ['tokens:     bound to the client certificate (cnf x5t#S256)'] : []),
    `secret:     ${secretSummary(c, now)}`,
    ...(c.certificate_bound_tokens && !c.require_pop ? [] : [`tokens:     ${c.require_pop ? 'bound only (a DPoP proof is required)' : 'bound when the client sends a DPoP proof, else bearer'}`]),
    ...(c.ciba ? [`CIBA:       ${c.ciba.mode}${c.ciba.notification_endpoint ? ` (notifies ${c.ciba.notification_endpoint})` : ''}: may ask people for approval at /backchannel`] : []),
    `status:     ${c.disabled ? 'DISABLED' : 'active'}`,
  ].join('\n');

/** The list's SECRET column: age, and expiry or grace when there is one. */
function secretColumn(c: ClientView, now: number): string {
  if (!c.secret) return '-';
  const expires = c.secret.expires_at === null ? null : Date.parse(c.secret.expires_at);
  const previous = c.secret.previous_valid_until === null ? null : Date.parse(c.secret.previous_valid_until);
  return [
    `age ${days(now - Date.parse(c.secret.set_at))}`,
    ...(expires === null ? [] : [expires <= now ? 'EXPIRED' : `expires in ${days(expires - now)}`]),
    ...(previous !== null && previous > now ? ['grace'] : []),
  ].join(', ');
}

const secretNotice = (id: string, secret: string | null, credential: 'secret' | 'tls' | 'keys' = 'secret', method = 'tls_client_auth'): string =>
  credential === 'tls'
    ? `client_id:     ${id}\n(no secret: it authenticates with its TLS client certificate, ${method})`
    : credential === 'keys'
      ? `client_id:     ${id}\n(private_key_jwt: no secret; it authenticates with assertions signed by its private key)`
    : secret === null
    ? `client_id:     ${id}\n(public client: no secret; it must use PKCE)`
    : `client_id:     ${id}\nclient_secret: ${secret}\n\nStore the secret now: it is not shown again (only its hash is kept).`;

/** `--ciba poll|ping|off` with ping mode's `--ciba-notification-endpoint` (governance/client-ciba.ts checks them). */
function cibaOption(values: Parameters<typeof str>[0]): { mode: string; notificationEndpoint: string | undefined } | undefined {
  const mode = str(values, 'ciba');
  const endpoint = str(values, 'ciba-notification-endpoint');
  if (mode === undefined && endpoint !== undefined) throw new UsageError('--ciba-notification-endpoint goes with --ciba ping');
  return mode === undefined ? undefined : { mode, notificationEndpoint: endpoint };
}

/** One of --tls-san-dns, --tls-san-uri, --tls-san-ip, --tls-san-email (client-certificates.ts checks the value). */
function sanOption(values: Parameters<typeof str>[0]): { kind: 'dns' | 'uri' | 'ip' | 'email'; value: string } | undefined {
  const sans = (['dns', 'uri', 'ip', 'email'] as const).flatMap((kind) => {
    const value = str(values, `tls-san-${kind}`);
    return value === undefined ? [] : [{ kind, value }];
  });
  if (sans.length > 1) throw new UsageError('register one subject alternative name (RFC 8705 §2.1.2): one of --tls-san-dns, --tls-san-uri, --tls-san-ip, --tls-san-email');
  return sans[0];
}

const SAN_OPTIONS = { 'tls-san-dns': { type: 'string' }, 'tls-san-uri': { type: 'string' }, 'tls-san-ip': { type: 'string' }, 'tls-san-email': { type: 'string' } } as const;

export const clientCommands: Command[] = [
  {
    name: 'client create',
    usage:
      'govauth client create --name <text> (--grant client_credentials [--roles r1,r2] | --grant token-exchange [--grant client_credentials] [--roles r1,r2] | --grant authorization_code --redirect-uri <uri>… [--post-logout-redirect-uri <uri>…] [--scopes s1,s2] [--public] | --resource <audience-uri> --introspect) [--jwks-file <public-jwks.json> | --jwks-uri <https URL>] [--admin-access] [--secret-expires 90d|<ISO time>|never] [--tls-subject-dn <RFC 4514 DN> | --tls-san-dns|--tls-san-uri|--tls-san-ip|--tls-san-email <value>] [--bind-certificate] [--require-pop] [--ciba poll|ping [--ciba-notification-endpoint <https URL>]] [--auth self_signed_tls_client_auth (with --jwks-file holding its certificate in x5c) | <method>]',
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
      'secret-expires': { type: 'string' },
      'tls-subject-dn': { type: 'string' },
      ...SAN_OPTIONS,
      'bind-certificate': { type: 'boolean' },
      'jwks-file': { type: 'string' },
      'jwks-uri': { type: 'string' },
      'require-pop': { type: 'boolean' },
      ciba: { type: 'string' },
      'ciba-notification-endpoint': { type: 'string' },
      auth: { type: 'string' },
    },
    positionals: [],
    async run({ values }, ctx) {
      const { createClient } = await clientRegistry();
      const tls = { subjectDn: str(values, 'tls-subject-dn'), san: sanOption(values), boundTokens: flag(values, 'bind-certificate') };
      const resource = str(values, 'resource');
      if (flag(values, 'introspect') !== (resource !== undefined)) {
        throw new UsageError('--introspect and --resource <audience-uri> go together (credentials a resource server uses to introspect tokens)');
      }
      const jwks = await readJwksFile(str(values, 'jwks-file'));
      const jwksUri = str(values, 'jwks-uri');
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
        secretExpires: str(values, 'secret-expires'),
        tls,
        jwks,
        jwksUri,
        requirePop: flag(values, 'require-pop'),
        ciba: cibaOption(values),
        authMethod: str(values, 'auth'),
      }, ctx.actor, ctx.now(), await urlRules(ctx.env));
      const selfSigned = str(values, 'auth')?.trim() === 'self_signed_tls_client_auth';
      const credential = selfSigned || tls.subjectDn !== undefined || tls.san !== undefined ? 'tls' : jwks !== undefined || jwksUri !== undefined ? 'keys' : 'secret';
      return { json: { ...created }, text: secretNotice(created.client_id, created.client_secret, credential, selfSigned ? 'self_signed_tls_client_auth' : undefined) };
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
      const now = ctx.now();
      return {
        json: { clients },
        text: table(
          ['CLIENT_ID', 'NAME', 'GRANTS', 'ROLES', 'AUTH', 'SECRET', 'STATUS'],
          clients.map((c) => [
            c.client_id,
            c.name,
            c.introspect_audience ? `introspect ${c.introspect_audience}` : c.grant_types.join(' '),
            c.roles.map((r) => r.role).join(' ') || '-',
            c.auth_method,
            secretColumn(c, now),
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
      return { json: { client }, text: describe(client, ctx.now()) };
    },
  },
  {
    name: 'client update',
    usage:
      'govauth client update <client_id> [--name <text>] [--roles r1,r2] [--admin-access | --no-admin-access] [--jwks-file <public-jwks.json> | --jwks-uri <https URL>] [--require-pop | --no-require-pop] [--ciba poll|ping|off [--ciba-notification-endpoint <https URL>]] [--auth client_secret [--secret-expires 90d|<ISO time>|never] | --auth private_key_jwt (--jwks-file | --jwks-uri) | --auth tls_client_auth (--tls-subject-dn <DN> | --tls-san-*) | --auth self_signed_tls_client_auth --jwks-file <with x5c>]',
    summary: 'rename a client, replace its roles or its keys, change how it authenticates (a new secret is printed once), allow or withdraw the admin API or CIBA, or require proof of possession (next token follows)',
    options: {
      name: { type: 'string' }, roles: { type: 'string', multiple: true }, 'admin-access': { type: 'boolean' }, 'no-admin-access': { type: 'boolean' }, 'jwks-file': { type: 'string' }, 'jwks-uri': { type: 'string' },
      'require-pop': { type: 'boolean' }, 'no-require-pop': { type: 'boolean' }, ciba: { type: 'string' }, 'ciba-notification-endpoint': { type: 'string' },
      auth: { type: 'string' }, 'tls-subject-dn': { type: 'string' }, ...SAN_OPTIONS, 'secret-expires': { type: 'string' },
    },
    positionals: ['client_id'],
    async run({ values, positionals }, ctx) {
      const { updateClient } = await clientRegistry();
      if (flag(values, 'admin-access') && flag(values, 'no-admin-access')) throw new UsageError('give --admin-access or --no-admin-access, not both');
      const adminAccess = flag(values, 'admin-access') ? true : flag(values, 'no-admin-access') ? false : undefined;
      if (flag(values, 'require-pop') && flag(values, 'no-require-pop')) throw new UsageError('give --require-pop or --no-require-pop, not both');
      const requirePop = flag(values, 'require-pop') ? true : flag(values, 'no-require-pop') ? false : undefined;
      const subjectDn = str(values, 'tls-subject-dn');
      const san = sanOption(values);
      const tls = subjectDn !== undefined || san !== undefined ? { subjectDn, san } : undefined;
      const patch = {
        name: str(values, 'name'), roles: list(values, 'roles'), adminAccess, jwks: await readJwksFile(str(values, 'jwks-file')), jwksUri: str(values, 'jwks-uri'), requirePop, ciba: cibaOption(values),
        authMethod: str(values, 'auth'), tls, secretExpires: str(values, 'secret-expires'),
      };
      if (Object.values(patch).every((v) => v === undefined)) {
        throw new UsageError('nothing to change: give --name, --roles, --admin-access, --no-admin-access, --jwks-file, --jwks-uri, --require-pop, --no-require-pop, --ciba or --auth');
      }
      const { client, clientSecret } = await updateClient(await ctx.db(), positionals[0] ?? '', patch, ctx.actor, patch.jwksUri === undefined && patch.ciba === undefined ? undefined : await urlRules(ctx.env));
      const text = describe(client, ctx.now());
      return clientSecret === null
        ? { json: { client }, text }
        : { json: { client, client_secret: clientSecret }, text: `${text}\n\n${secretNotice(client.client_id, clientSecret)}\nIts keys or certificate no longer authenticate it.` };
    },
  },
  {
    name: 'client rotate-secret',
    usage: 'govauth client rotate-secret <client_id> [--grace 24h] [--secret-expires 90d|<ISO time>|never]',
    summary: 'issue a new secret; the old one stops at once, or with --grace (up to 30d) when the grace ends',
    options: { grace: { type: 'string' }, 'secret-expires': { type: 'string' } },
    positionals: ['client_id'],
    async run({ values, positionals }, ctx) {
      const { rotateClientSecret } = await clientRegistry();
      const grace = str(values, 'grace');
      const rotated = await rotateClientSecret(await ctx.db(), positionals[0] ?? '', ctx.actor, ctx.now(), { grace, secretExpires: str(values, 'secret-expires') });
      const note =
        grace === undefined || grace.trim() === '0'
          ? '\nThe previous secret has stopped working.'
          : `\nThe previous secret keeps working for ${grace.trim()}; each use is audited as client.old_secret_used (govauth audit tail --action client.old_secret_used).`;
      return { json: { ...rotated }, text: secretNotice(rotated.client_id, rotated.client_secret) + note };
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

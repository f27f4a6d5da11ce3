// Clients: a paged, searchable list from the policy snapshot (in memory, so 10,000 clients cost
// no query), one client's page, and the actions, each an admin operation (client-routes.ts,
// grant-routes.ts): create (the secret shown once), rotate the secret, change the authentication
// method (a new secret shown once), disable/enable, roles, and the proof-of-possession requirement.
import { isConsoleClient } from '../governance/console-client.ts';
import { CLIENT_AUTH_METHODS } from '../governance/client-auth-method.ts';
import type { ConsoleAction, ConsolePage } from './console-kit.ts';
import { checked, csv, defined, offsetOf, required, text } from './form-values.ts';
import { href, paginate, when, type PageModel } from './page-model.ts';

const PAGE = 50;

interface ClientView {
  client_id: string; name: string; grant_types: string[]; roles: { role: string; expires_at: string | null }[]; auth_method: string; token_endpoint_auth_method: string;
  require_pop: boolean; admin_access: boolean; disabled: boolean; public: boolean; created_at: string; secret: { set_at: string; expires_at: string | null } | null; introspect_audience: string | null; redirect_uris: string[];
}

const listPage: ConsolePage = {
  path: 'clients',
  nav: 'Clients',
  render({ deps, query, who }) {
    const q = (query.q ?? '').toLowerCase().slice(0, 200);
    const all = [...deps.policy.snapshot().clients.values()].filter((c) => !isConsoleClient(c.id)).filter((c) => !q || c.id.toLowerCase().includes(q) || c.name.toLowerCase().includes(q)).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    const { page, pager } = paginate(all, offsetOf(query), PAGE, (offset) => href('/console/clients', { q: query.q, offset }));
    const model: PageModel = {
      title: 'Clients',
      sections: [
        { kind: 'form', title: 'Find a client', method: 'get', action: '/console/clients', form: { action: '', label: 'Search', inputs: [{ name: 'q', label: 'Name or client_id contains', type: 'text', value: query.q ?? '' }] } },
        {
          kind: 'table', title: `Clients (${all.length})`, columns: ['Name', 'client_id', 'Grants', 'Roles', 'State'], empty: 'No client matches.', pager,
          rows: page.map((c) => [{ text: c.name, href: href('/console/client', { id: c.id }) }, { text: c.id, code: true }, c.grantTypes.join(', ') || 'resource server', c.roles.map((r) => r.role).join(', ') || null, c.disabled ? { text: 'disabled', badge: 'high' } : { text: 'active', badge: 'low' }]),
        },
        ...(who.role === 'admin'
          ? [{
              kind: 'form' as const, title: 'Register a client', intro: 'The secret is shown once, on the next page.',
              form: {
                action: 'client-create', label: 'Register',
                inputs: [
                  { name: 'name', label: 'Name', type: 'text' as const, required: true },
                  { name: 'grants', label: 'Grant types', type: 'text' as const, hint: 'Comma-separated: client_credentials, token-exchange, authorization_code; empty for a resource server' },
                  { name: 'roles', label: 'Roles', type: 'text' as const, hint: 'Comma-separated role names' },
                  { name: 'redirect_uris', label: 'Redirect URIs', type: 'text' as const, hint: 'authorization_code clients: comma-separated' },
                  { name: 'introspect_audience', label: 'Resource server for audience', type: 'text' as const, hint: 'May introspect tokens for this audience' },
                  { name: 'auth_method', label: 'Authentication method', type: 'select' as const, value: '', options: [{ value: '', label: 'implied by the fields (a secret by default)' }, ...CLIENT_AUTH_METHODS.map((m) => ({ value: m, label: m }))] },
                  { name: 'jwks', label: 'Public keys (JWK Set, JSON)', type: 'textarea' as const, hint: 'private_key_jwt (RFC 7523) or self_signed_tls_client_auth: the client gets no secret' },
                  { name: 'tls_subject_dn', label: 'Certificate subject DN', type: 'text' as const, hint: 'tls_client_auth (RFC 8705 §2.1.2)' },
                  { name: 'require_pop', label: 'Require proof of possession (DPoP) for its tokens', type: 'checkbox' as const },
                  { name: 'public', label: 'Public client (no secret, PKCE)', type: 'checkbox' as const },
                ],
              },
            }]
          : []),
      ],
    };
    return Promise.resolve(model);
  },
};

const detailPage: ConsolePage = {
  path: 'client',
  async render({ query, operation, who }) {
    const id = required(query, 'id');
    const { client: c } = await operation<{ client: ClientView }>('getClient', { params: { id } });
    const admin = who.role === 'admin';
    const fields = { id: c.client_id };
    return {
      title: `Client ${c.name}`,
      sections: [
        {
          kind: 'facts', title: 'Client',
          items: [
            { label: 'client_id', value: c.client_id },
            { label: 'State', value: c.disabled ? 'disabled' : 'active', tone: c.disabled ? 'bad' : 'ok' },
            { label: 'Grant types', value: c.grant_types.join(', ') || 'none (resource server)' },
            { label: 'Authentication', value: `${c.auth_method} (${c.token_endpoint_auth_method})` },
            { label: 'Proof of possession', value: c.require_pop ? 'required (DPoP)' : 'not required' },
            { label: 'Admin API access', value: c.admin_access ? 'yes' : 'no' },
            { label: 'Secret', value: c.secret ? `set ${when(c.secret.set_at)}${c.secret.expires_at ? `, expires ${when(c.secret.expires_at)}` : ''}` : 'none' },
            { label: 'Registered', value: when(c.created_at) },
          ],
        },
        {
          kind: 'table', title: 'Roles', columns: ['Role', 'Until', ''], empty: 'No roles.',
          rows: c.roles.map((r) => [r.role, r.expires_at ? when(r.expires_at) : 'no end', admin ? { forms: [{ action: 'client-role-remove', label: 'Remove', danger: true, aria: `Remove role ${r.role}`, fields: { ...fields, role: r.role } }] } : null]),
        },
        ...(admin
          ? [
              { kind: 'form' as const, title: 'Grant a role', form: { action: 'client-role-grant', label: 'Grant role', fields, inputs: [{ name: 'role', label: 'Role', type: 'text' as const, required: true }, { name: 'expires_in', label: 'For how long', type: 'text' as const, hint: 'Empty for no end; or 8h, 7d' }, { name: 'reason', label: 'Reason', type: 'text' as const }] } },
              { kind: 'form' as const, title: 'Proof of possession', form: { action: 'client-pop', label: 'Save', fields, inputs: [{ name: 'require_pop', label: 'Require DPoP-bound tokens', type: 'checkbox' as const, value: c.require_pop ? 'yes' : '' }] } },
              ...(c.public ? [] : [authMethodForm(c, fields)]),
              ...(c.secret ? [{ kind: 'form' as const, title: 'Rotate the secret', form: { action: 'client-rotate', label: 'Rotate secret', danger: true, fields, inputs: [{ name: 'grace', label: 'Grace for the old secret', type: 'text' as const, hint: 'Empty: it stops at once; or 24h, 7d' }] } }] : []),
              { kind: 'form' as const, title: c.disabled ? 'Enable' : 'Disable', form: { action: c.disabled ? 'client-enable' : 'client-disable', label: c.disabled ? 'Enable client' : 'Disable client', danger: !c.disabled, fields } },
            ]
          : []),
      ],
    };
  },
};

/** Switching a confidential client to another method, with that method's credentials (a public client stays public). */
const authMethodForm = (c: ClientView, fields: Record<string, string>) => ({
  kind: 'form' as const,
  title: 'Change the authentication method',
  intro: `Now ${c.token_endpoint_auth_method}. The current credentials stop working at once; tokens already issued are not affected. Moving to client_secret shows the new secret once, on the next page.`,
  form: {
    action: 'client-auth', label: 'Change method', danger: true, fields,
    inputs: [
      { name: 'auth_method', label: 'New method', type: 'select' as const, required: true, value: '', options: [{ value: '', label: 'choose' }, ...CLIENT_AUTH_METHODS.filter((m) => m !== 'none').map((m) => ({ value: m, label: m }))] },
      { name: 'jwks', label: 'Public keys (JWK Set, JSON)', type: 'textarea' as const, hint: 'private_key_jwt, or self_signed_tls_client_auth with the certificate in x5c' },
      { name: 'jwks_uri', label: 'Or the URL of its keys', type: 'text' as const, hint: 'private_key_jwt: an https URL' },
      { name: 'tls_subject_dn', label: 'Certificate subject DN', type: 'text' as const, hint: 'tls_client_auth: CN=bot,O=Example' },
      { name: 'tls_san', label: 'Or a subject alternative name', type: 'text' as const, hint: 'tls_client_auth: dns:…, uri:…, ip:… or email:…' },
      { name: 'secret_expires', label: 'New secret expires', type: 'text' as const, hint: 'client_secret: 90d, an ISO time, or empty for never' },
    ],
  },
});

export const clientPages: readonly ConsolePage[] = [listPage, detailPage];

const secretPage = (id: string, secret: string | null): PageModel => ({
  title: 'Client secret',
  sections: [
    ...(secret ? [{ kind: 'secret' as const, title: 'Credentials', items: [{ label: 'client_id', value: id }, { label: 'client_secret', value: secret }] }] : [{ kind: 'notice' as const, title: 'Credentials', text: `client_id ${id}: this client has no secret.`, tone: 'ok' as const }]),
    { kind: 'form', title: 'Next', method: 'get', action: '/console/client', form: { action: '', label: 'Open the client', inputs: [{ name: 'id', label: 'client_id', type: 'text', value: id }] } },
  ],
});

/** JSON text as a value; text that is not JSON is passed on as text, for the schema to refuse with its own words. */
const json = (raw: string | undefined): unknown => {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
};

const byId = (form: Readonly<Record<string, string>>) => ({ id: required(form, 'id') });

export const clientActions: readonly ConsoleAction[] = [
  {
    name: 'client-create', operationId: 'createClient',
    input: (f) => ({
      body: defined({
        name: required(f, 'name'), grants: csv(f, 'grants') ?? [], roles: csv(f, 'roles'), redirect_uris: csv(f, 'redirect_uris'), introspect_audience: text(f, 'introspect_audience'),
        auth_method: text(f, 'auth_method'), jwks: json(text(f, 'jwks')), tls_subject_dn: text(f, 'tls_subject_dn'),
        require_pop: checked(f, 'require_pop') || undefined, public: checked(f, 'public') || undefined,
      }),
    }),
    done: ({ result }) => {
      const r = result as { client_id: string; client_secret: string | null };
      return { message: `Registered ${r.client_id}.`, page: secretPage(r.client_id, r.client_secret) };
    },
  },
  {
    name: 'client-rotate', operationId: 'rotateClientSecret',
    input: (f) => ({ params: byId(f), body: defined({ grace: text(f, 'grace') }) }),
    confirm: (f) => `A new secret replaces the current one of ${f.id ?? ''}; the old one stops working ${text(f, 'grace') ? `after ${text(f, 'grace')}` : 'at once'}.`,
    done: ({ result }) => {
      const r = result as { client_id: string; client_secret: string | null };
      return { message: `New secret for ${r.client_id}.`, page: secretPage(r.client_id, r.client_secret) };
    },
  },
  {
    name: 'client-auth', operationId: 'updateClient',
    input: (f) => ({
      params: byId(f),
      body: defined({ auth_method: required(f, 'auth_method'), jwks: json(text(f, 'jwks')), jwks_uri: text(f, 'jwks_uri'), tls_subject_dn: text(f, 'tls_subject_dn'), tls_san: text(f, 'tls_san'), secret_expires: text(f, 'secret_expires') }),
    }),
    confirm: (f) => `${f.id ?? ''} will authenticate with ${f.auth_method ?? ''}: its current secret, keys or certificate stop working at once. Tokens it already holds are not affected.`,
    done: ({ result }, f) => {
      const r = result as { client: ClientView; client_secret?: string };
      const message = `${f.id ?? ''} now authenticates with ${r.client.token_endpoint_auth_method}.`;
      return r.client_secret === undefined ? { message } : { message, page: secretPage(r.client.client_id, r.client_secret) };
    },
  },
  { name: 'client-disable', operationId: 'disableClient', input: (f) => ({ params: byId(f) }), confirm: (f) => `${f.id ?? ''} can no longer authenticate, and every token it holds turns inactive.`, done: (_, f) => ({ message: `Disabled ${f.id ?? ''}.` }) },
  { name: 'client-enable', operationId: 'enableClient', input: (f) => ({ params: byId(f) }), done: (_, f) => ({ message: `Enabled ${f.id ?? ''}.` }) },
  { name: 'client-pop', operationId: 'updateClient', input: (f) => ({ params: byId(f), body: { require_pop: checked(f, 'require_pop') } }), done: (_, f) => ({ message: `Saved: proof of possession ${checked(f, 'require_pop') ? 'required' : 'not required'} for ${f.id ?? ''}.` }) },
  { name: 'client-role-grant', operationId: 'grantClientRole', input: (f) => ({ params: byId(f), body: defined({ role: required(f, 'role'), expires_in: text(f, 'expires_in'), reason: text(f, 'reason') }) }), done: (_, f) => ({ message: `Granted ${f.role ?? ''} to ${f.id ?? ''}.` }) },
  { name: 'client-role-remove', operationId: 'removeClientRoleGrant', input: (f) => ({ params: { ...byId(f), role: required(f, 'role') } }), confirm: (f) => `${f.id ?? ''} loses the role ${f.role ?? ''} now; tokens carrying it turn inactive.`, done: (_, f) => ({ message: `Removed ${f.role ?? ''} from ${f.id ?? ''}.` }) },
];

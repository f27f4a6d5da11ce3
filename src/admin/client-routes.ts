// /clients: AI services, bots, resource servers and apps (as `govauth client …`). Secrets are
// shown once, in the response that creates or rotates them, and never recorded.
import type { Context } from 'koa';
import { z } from 'zod';
import { CLIENT_GRANTS, mayHoldRoles, ROLES_APPLY, SECRET_GRANTS } from '../governance/client-grants.ts';
import { authFieldProblems, authMethodInput, certificateBoundTokens, tlsSan, tlsSubjectDn } from './client-auth-fields.ts';
import { splitSan } from '../governance/client-certificates.ts';
import { createClient, getClient, listClients, rotateClientSecret, setClientDisabled, updateClient } from '../governance/client-registry.ts';
import { ADMIN_PREFIX, route } from './route.ts';
import { nonEmptyPatch } from './input.ts';
import { audience, list, redirectUri, roleName, scopeName, text } from './schemas.ts';
import { clientCredentials, clientView } from './views.ts';

const name = text('name', 200, 'A name for people');
// The shape only: governance/client-jwks.ts checks the keys (public, asymmetric, kid) and says what is wrong.
const jwks = z
  .strictObject({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(5) })
  .describe('private_key_jwt (RFC 7523): the public JWK Set (RS256, PS256, ES256 or EdDSA keys; a kid on each when several; no private members). The client gets no secret.');
// The shape only: governance/client-jwks.ts checkJwksUri applies the server-side fetch rules.
const jwksUri = z
  .string()
  .max(2048)
  .describe('private_key_jwt (RFC 7523) with keys published at this https URL (RFC 7591 §2), fetched and cached by the server: https only, no credentials or fragment, no private, loopback or link-local address; the server follows no redirects. Exactly one of jwks and jwks_uri. The client gets no secret.');
const adminAccess = z
  .boolean()
  .describe('May obtain tokens for urn:govauth:admin: for a bot, with client_credentials; for an app, on behalf of people whose roles carry admin scopes. Never a public client. Setting it to false ends tokens already issued.');

const secretExpires = z
  .string()
  .max(40)
  .describe('When the secret stops working: a duration from now (90d), an ISO 8601 time, or never. A rotation without it keeps the lifetime the replaced secret had');
const requirePop = z
  .boolean()
  .describe('Its access tokens are only issued sender-constrained: every token request must carry a DPoP proof (RFC 9449), else invalid_dpop_proof');

const ciba = z
  .strictObject({
    mode: z.enum(['poll', 'ping', 'off']).describe('poll: the client polls the token endpoint; ping: govauth POSTs to its notification endpoint when the person decided (OpenID CIBA Core §5, §10.2); off (update only): withdraw it'),
    notification_endpoint: z.string().max(2048).optional().describe('ping mode only: the https URL govauth notifies (backchannel_client_notification_endpoint)'),
  })
  .describe('Allows the client to ask a person for approval out of band (OpenID CIBA, the /backchannel endpoint); other clients get unauthorized_client there');

// The combinations createClient accepts, said in this API's field names (it says them in the
// CLI's flags); createClient still checks them.
const createClientBody = z
  .strictObject({
    name,
    grants: list(z.enum(CLIENT_GRANTS), CLIENT_GRANTS.length).describe(
      'client_credentials (bots, services), token-exchange (agents acting for people, RFC 8693; stored as urn:ietf:params:oauth:grant-type:token-exchange), authorization_code (apps for people), or none for a resource server',
    ),
    roles: list(roleName).optional().describe('Roles of a client_credentials client (its own access) or a token-exchange client (which delegation policies apply to it)'),
    introspect_audience: audience.optional().describe('For a resource server: the audience whose tokens it may introspect'),
    redirect_uris: list(redirectUri, 20).optional(),
    post_logout_redirect_uris: list(redirectUri, 20).optional(),
    scope_ceiling: list(scopeName).optional().describe('The most an app may ever request, whatever its users hold'),
    public: z.boolean().optional().describe('An app without a secret (native or browser app; PKCE)'),
    admin_access: adminAccess.optional(),
    secret_expires: secretExpires.optional(),
    jwks: jwks.optional(),
    jwks_uri: jwksUri.optional(),
    require_pop: requirePop.optional(),
    auth_method: authMethodInput.optional(),
    tls_subject_dn: tlsSubjectDn.optional(),
    tls_san: tlsSan.optional(),
    certificate_bound_tokens: certificateBoundTokens.optional(),
    ciba: ciba.optional(),
  })
  .superRefine((b, ctx) => {
    const problem = (path: string, message: string): void => void ctx.addIssue({ code: 'custom', path: [path], message });
    const code = b.grants.includes('authorization_code');
    if (!b.grants.length && !b.introspect_audience && !b.ciba) problem('grants', 'name a grant, allow ciba, or give introspect_audience for a resource server');
    if (code && !b.redirect_uris?.length) problem('redirect_uris', 'an authorization_code client needs at least one');
    if (!code && (b.redirect_uris?.length || b.post_logout_redirect_uris?.length)) problem('redirect_uris', 'only apply to authorization_code clients');
    if (b.public && (b.grants.some((g) => SECRET_GRANTS.includes(g)) || b.introspect_audience)) problem('public', 'a public client has no secret, so it cannot use client_credentials, token-exchange (an agent must authenticate) or introspection');
    if (b.roles?.length && !mayHoldRoles(b.grants)) problem('roles', ROLES_APPLY);
    if (b.jwks && b.public) problem('jwks', 'a client with registered keys is not public');
    if (b.jwks_uri !== undefined && b.public) problem('jwks_uri', 'a client with registered keys is not public');
    if (b.admin_access && b.public) problem('admin_access', 'cannot be given to a public client: it has no secret, so anyone can act in its name');
    authFieldProblems(b, problem);
  });

const updateClientBody = nonEmptyPatch(
  z.strictObject({
    name: name.optional(),
    roles: list(roleName).optional().describe('Replaces the roles (client_credentials and token-exchange clients)'),
    admin_access: adminAccess.optional(),
    jwks: jwks.optional().describe('Replaces the keys of a private_key_jwt client (key rotation: register old and new together, then the new alone); with auth_method, the keys of the new method'),
    jwks_uri: jwksUri.optional().describe('Replaces the keys of a private_key_jwt client with the URL they are published at (or moves it there); with auth_method private_key_jwt, where the new keys are'),
    require_pop: requirePop.optional(),
    ciba: ciba.optional(),
    auth_method: authMethodInput.optional().describe(
      'Changes how a confidential client authenticates, with the new credentials in the same body: client_secret (a new secret, in this response only, as client_secret), private_key_jwt (jwks or jwks_uri), tls_client_auth (tls_subject_dn or tls_san), self_signed_tls_client_auth (jwks with x5c). The credentials of the old method stop working at once (a secret is deleted, with any replaced one in its grace); tokens already issued are not affected. A public client stays public (409)',
    ),
    tls_subject_dn: tlsSubjectDn.optional().describe('With auth_method tls_client_auth, or alone on a tls_client_auth client: the subject DN its certificate must carry, RFC 4514 (RFC 8705 §2.1.2)'),
    tls_san: tlsSan.optional().describe('With auth_method tls_client_auth, or alone on a tls_client_auth client: instead of a subject DN, one subject alternative name (dns:…, uri:…, ip:…, email:…)'),
    secret_expires: secretExpires.optional().describe('With auth_method client_secret: when the new secret stops working (90d, an ISO 8601 time, or never; default never)'),
  }).superRefine((b, ctx) => authFieldProblems(b, (path, message) => void ctx.addIssue({ code: 'custom', path: [path], message }))),
);

const rotateSecretBody = z
  .strictObject({
    grace: z.string().max(20).optional().describe('How long the replaced secret keeps working, up to 30d (24h, 7d); each use is audited as client.old_secret_used. Without it (or 0) it stops at once'),
    secret_expires: secretExpires.optional(),
  })
  .optional();

const located = (ctx: Context, id: string): void => ctx.set('Location', `${ADMIN_PREFIX}/clients/${encodeURIComponent(id)}`);

export const clientRoutes = [
  route({
    method: 'GET', path: '/clients', operationId: 'listClients', summary: 'List clients', tag: 'clients', access: 'read',
    response: z.strictObject({ clients: z.array(clientView) }),
    handle: async ({ deps }) => ({ clients: await listClients(deps.db) }),
  }),
  route({
    method: 'GET', path: '/clients/{id}', operationId: 'getClient', summary: 'Show one client', tag: 'clients', access: 'read', errors: [404],
    response: z.strictObject({ client: clientView }),
    handle: async ({ deps, params }) => ({ client: await getClient(deps.db, params.id) }),
  }),
  route({
    method: 'POST', path: '/clients', operationId: 'createClient', summary: 'Register a client; its secret is in this response only', tag: 'clients', access: 'write', status: 201, errors: [404, 409],
    body: createClientBody, response: clientCredentials,
    async handle({ deps, body, actor, ctx }) {
      const created = await createClient(
        deps.db,
        {
          name: body.name,
          grants: body.grants,
          roles: body.roles,
          introspectAudience: body.introspect_audience,
          redirectUris: body.redirect_uris,
          postLogoutRedirectUris: body.post_logout_redirect_uris,
          scopeCeiling: body.scope_ceiling,
          isPublic: body.public,
          adminAccess: body.admin_access,
          secretExpires: body.secret_expires,
          jwks: body.jwks,
          jwksUri: body.jwks_uri,
          requirePop: body.require_pop,
          ...(body.ciba && { ciba: { mode: body.ciba.mode, notificationEndpoint: body.ciba.notification_endpoint } }),
          authMethod: body.auth_method,
          tls: { subjectDn: body.tls_subject_dn, san: body.tls_san === undefined ? undefined : splitSan(body.tls_san), boundTokens: body.certificate_bound_tokens },
        },
        actor,
        deps.now(),
        deps.config.outboundFetch,
      );
      located(ctx, created.client_id);
      return created;
    },
  }),
  route({
    method: 'PATCH', path: '/clients/{id}', operationId: 'updateClient', summary: 'Rename a client, replace its roles or keys (private_key_jwt, self_signed_tls_client_auth), change how it authenticates (a new secret is in this response only), allow or withdraw admin access, require proof of possession, or allow or withdraw CIBA', tag: 'clients', access: 'write', errors: [404, 409],
    body: updateClientBody,
    response: z.strictObject({ client: clientView, client_secret: z.string().optional().describe('Only when auth_method client_secret gave the client a new secret: shown in this response only') }),
    async handle({ deps, params, body, actor }) {
      const tls = body.tls_subject_dn !== undefined || body.tls_san !== undefined ? { subjectDn: body.tls_subject_dn, san: body.tls_san === undefined ? undefined : splitSan(body.tls_san) } : undefined;
      const { client, clientSecret } = await updateClient(
        deps.db,
        params.id,
        {
          name: body.name, roles: body.roles, adminAccess: body.admin_access, jwks: body.jwks, jwksUri: body.jwks_uri, requirePop: body.require_pop,
          ...(body.ciba && { ciba: { mode: body.ciba.mode, notificationEndpoint: body.ciba.notification_endpoint } }),
          authMethod: body.auth_method, tls, secretExpires: body.secret_expires,
        },
        actor,
        deps.config.outboundFetch,
      );
      return { client, ...(clientSecret !== null && { client_secret: clientSecret }) };
    },
  }),
  route({
    method: 'POST', path: '/clients/{id}/rotate-secret', operationId: 'rotateClientSecret', summary: 'Issue a new secret; the old one stops at once or, with a grace, when the grace ends', tag: 'clients', access: 'write', errors: [404],
    body: rotateSecretBody, response: clientCredentials,
    handle: ({ deps, params, body, actor }) => rotateClientSecret(deps.db, params.id, actor, deps.now(), { grace: body?.grace, secretExpires: body?.secret_expires }),
  }),
  route({
    method: 'POST', path: '/clients/{id}/disable', operationId: 'disableClient', summary: 'Stop a client from authenticating; its tokens turn inactive', tag: 'clients', access: 'write', errors: [404],
    response: z.strictObject({ client: clientView }),
    handle: async ({ deps, params, actor }) => ({ client: await setClientDisabled(deps.db, params.id, true, actor) }),
  }),
  route({
    method: 'POST', path: '/clients/{id}/enable', operationId: 'enableClient', summary: 'Let a disabled client authenticate again', tag: 'clients', access: 'write', errors: [404],
    response: z.strictObject({ client: clientView }),
    handle: async ({ deps, params, actor }) => ({ client: await setClientDisabled(deps.db, params.id, false, actor) }),
  }),
];

// /self-registration: clients that identify (Client ID Metadata Documents) or register (RFC
// 7591) themselves, as `govauth client trust-policy | self-registered | approve | restrict |
// block | registration-token`. The trust policy and each client's standing reach every
// instance through the change feed; initial access tokens are shown once, when issued.
import { z } from 'zod';
import { issueRegistrationToken, listRegistrationTokens, revokeRegistrationToken, type RegistrationTokenView } from '../governance/registration-tokens.ts';
import { decideSelfRegistered, getTrustPolicy, listSelfRegistered, updateTrustPolicy, type SelfRegisteredView, type TrustPolicyView } from '../governance/self-registration-admin.ts';
import { TRUST_DECISIONS } from '../governance/self-registration.ts';
import { nonEmptyPatch } from './input.ts';
import { route } from './route.ts';
import { audience, list, scopeName } from './schemas.ts';

const isoTime = z.string().describe('ISO 8601 time (UTC)');
const host = z.string().max(253).describe('A host name (mcp.example.com) or a pattern *.example.com');

const trustPolicyView = z.strictObject({
  trusted_hosts: z.array(z.string()).describe('Metadata document hosts the organisation trusts: their clients are vetted'),
  allow_unknown_hosts: z.boolean().describe('Metadata documents from other hosts: accepted as unvetted clients (true) or refused with invalid_client'),
  scope_ceiling: z.array(z.string()).nullable().describe('The most an unvetted client may ever receive; null: every scope below high sensitivity'),
  resource_ceiling: z.array(z.string()).nullable().describe('The audiences an unvetted client may receive tokens for; null: any'),
}) satisfies z.ZodType<TrustPolicyView>;

const selfRegisteredView = z.strictObject({
  client_id: z.string().describe('A metadata document URL, or the id RFC 7591 registration gave'),
  kind: z.enum(['metadata_document', 'dynamic']),
  host: z.string().nullable().describe("Metadata documents: the verified domain (the URL's host)"),
  name: z.string().describe('The name the client gave itself'),
  trust: z.enum(TRUST_DECISIONS),
  vetted: z.boolean().describe('Approved, or from a trusted host: no unvetted ceiling'),
  scope_ceiling: z.array(z.string()).nullable(),
  resource_ceiling: z.array(z.string()).nullable(),
  created_at: isoTime,
  reviewed_at: isoTime.nullable(),
}) satisfies z.ZodType<SelfRegisteredView>;

const tokenView = z.strictObject({
  id: z.string(),
  expires_at: isoTime,
  max_uses: z.number().int(),
  uses: z.number().int(),
  revoked_at: isoTime.nullable(),
  created_at: isoTime,
  state: z.enum(['live', 'expired', 'used_up', 'revoked']),
}) satisfies z.ZodType<RegistrationTokenView>;

const policyPatch = nonEmptyPatch(
  z.strictObject({
    add_trusted_hosts: list(host, 100).optional(),
    remove_trusted_hosts: list(host, 100).optional(),
    allow_unknown_hosts: z.boolean().optional(),
    scope_ceiling: list(scopeName).nullable().optional().describe('null: back to the default (every scope below high sensitivity)'),
    resource_ceiling: list(audience).nullable().optional().describe('null: any resource'),
  }),
);

const restrictBody = z
  .strictObject({ scopes: list(scopeName).optional(), resources: list(audience).optional() })
  .refine((b) => Boolean(b.scopes?.length || b.resources?.length), { message: 'give scopes and/or resources: the ceiling of the restricted client' });

const decision = (action: 'approve' | 'block' | 'unreview', verb: string, operationId: string, summary: string) =>
  route({
    method: 'POST', path: `/self-registration/clients/{id}/${verb}` as '/self-registration/clients/{id}/decision', operationId, summary, tag: 'self-registration', access: 'write', errors: [404],
    response: z.strictObject({ client: selfRegisteredView }),
    handle: async ({ deps, params, actor }) => ({ client: await decideSelfRegistered(deps.db, params.id, action, actor, deps.now()) }),
  });

export const selfRegistrationRoutes = [
  route({
    method: 'GET', path: '/self-registration/policy', operationId: 'getTrustPolicy', summary: 'The trust policy for self-registered clients', tag: 'self-registration', access: 'read',
    response: z.strictObject({ policy: trustPolicyView }),
    handle: async ({ deps }) => ({ policy: await getTrustPolicy(deps.db) }),
  }),
  route({
    method: 'PATCH', path: '/self-registration/policy', operationId: 'updateTrustPolicy', summary: 'Change trusted hosts, unknown hosts or the unvetted ceiling', tag: 'self-registration', access: 'write', errors: [404],
    body: policyPatch, response: z.strictObject({ policy: trustPolicyView }),
    handle: async ({ deps, body, actor }) => ({
      policy: await updateTrustPolicy(
        deps.db,
        {
          ...(body.add_trusted_hosts && { addTrustedHosts: body.add_trusted_hosts }),
          ...(body.remove_trusted_hosts && { removeTrustedHosts: body.remove_trusted_hosts }),
          ...(body.allow_unknown_hosts !== undefined && { allowUnknownHosts: body.allow_unknown_hosts }),
          ...(body.scope_ceiling !== undefined && { scopeCeiling: body.scope_ceiling }),
          ...(body.resource_ceiling !== undefined && { resourceCeiling: body.resource_ceiling }),
        },
        actor,
      ),
    }),
  }),
  route({
    method: 'GET', path: '/self-registration/clients', operationId: 'listSelfRegisteredClients', summary: 'Clients that identified or registered themselves, with their standing', tag: 'self-registration', access: 'read',
    response: z.strictObject({ clients: z.array(selfRegisteredView) }),
    handle: async ({ deps }) => ({ clients: await listSelfRegistered(deps.db) }),
  }),
  decision('approve', 'approve', 'approveSelfRegisteredClient', 'Vouch for a self-registered client: no unvetted ceiling'),
  decision('block', 'block', 'blockSelfRegisteredClient', 'Refuse a self-registered client at once, on every instance (invalid_client)'),
  decision('unreview', 'reset', 'resetSelfRegisteredClient', 'Put a self-registered client back under the trust policy'),
  route({
    method: 'POST', path: '/self-registration/clients/{id}/restrict', operationId: 'restrictSelfRegisteredClient', summary: 'Hold a self-registered client to its own ceiling', tag: 'self-registration', access: 'write', errors: [404],
    body: restrictBody, response: z.strictObject({ client: selfRegisteredView }),
    handle: async ({ deps, params, body, actor }) => ({
      client: await decideSelfRegistered(deps.db, params.id, 'restrict', actor, deps.now(), { ...(body.scopes && { scopes: body.scopes }), ...(body.resources && { resources: body.resources }) }),
    }),
  }),
  route({
    method: 'GET', path: '/self-registration/tokens', operationId: 'listRegistrationTokens', summary: 'Initial access tokens (RFC 7591 §3): expiry, uses, state', tag: 'self-registration', access: 'read',
    response: z.strictObject({ tokens: z.array(tokenView) }),
    handle: async ({ deps }) => ({ tokens: await listRegistrationTokens(deps.db, deps.now()) }),
  }),
  route({
    method: 'POST', path: '/self-registration/tokens', operationId: 'issueRegistrationToken', summary: 'Issue an initial access token; the token is in this response only', tag: 'self-registration', access: 'write', status: 201,
    body: z.strictObject({ expires_in: z.string().max(20).describe('A duration up to 30d (1d, 12h)'), max_uses: z.number().int().min(1).max(10_000).describe('Registrations it allows') }),
    response: tokenView.extend({ token: z.string().describe('Shown once: only its digest is kept') }),
    handle: ({ deps, body, actor }) => issueRegistrationToken(deps.db, { expiresIn: body.expires_in, maxUses: body.max_uses }, actor, deps.now()),
  }),
  route({
    method: 'POST', path: '/self-registration/tokens/{id}/revoke', operationId: 'revokeRegistrationToken', summary: 'Revoke an initial access token', tag: 'self-registration', access: 'write', errors: [404],
    response: z.strictObject({ token: tokenView }),
    handle: async ({ deps, params, actor }) => ({ token: await revokeRegistrationToken(deps.db, params.id, actor, deps.now()) }),
  }),
];

// Response schemas: what the admin API answers, for the OpenAPI document. Each is tied to the
// type the governance function returns (`satisfies`), so a field that function gains or loses
// without a change here fails type checking; the integration test also parses every successful
// response with these (strict) schemas, which catches fields a schema has and the data lacks.
import { z } from 'zod';
import type { DeletedRoleView } from '../governance/role-deletion.ts';
import type { AuditEventView } from '../audit/audit-query.ts';
import type { DelegationHistory } from '../audit/delegation-history.ts';
import type { AccessReview } from '../governance/access-review.ts';
import type { FactorView } from '../governance/factor-status.ts';
import type { ResourceView, RoleView, ScopeView } from '../governance/catalog.ts';
import { CLIENT_AUTH_METHODS } from '../governance/client-auth-method.ts';
import type { ClientCredentialsView, ClientView } from '../governance/client-registry.ts';
import type { DelegationPolicyView } from '../governance/delegation-policies.ts';
import type { RevocationView } from '../governance/revocations.ts';
import type { RoleGrantView } from '../governance/role-grants.ts';
import type { StandingDelegationView } from '../governance/standing-delegations.ts';
import type { UserView } from '../governance/user-registry.ts';
import type { KeyView } from '../keys/key-rotation.ts';

export const isoTime = z.string().describe('ISO 8601 time (UTC)');
const authMethod = z.enum(CLIENT_AUTH_METHODS);
const roleHeld = z.strictObject({ role: z.string(), expires_at: isoTime.nullable() });

export const scopeView = z.strictObject({
  name: z.string(),
  description: z.string(),
  sensitivity: z.enum(['low', 'medium', 'high']),
  max_ttl: z.number().int().nullable(),
}) satisfies z.ZodType<ScopeView>;

export const resourceView = z.strictObject({
  audience: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  token_ttl: z.number().int().nullable(),
  require_pop: z.boolean().describe('Tokens for this resource are only issued sender-constrained (DPoP, RFC 9449)'),
}) satisfies z.ZodType<ResourceView>;

export const roleView = z.strictObject({ name: z.string(), description: z.string(), scopes: z.array(z.string()) }) satisfies z.ZodType<RoleView>;

export const deletedRoleView = z.strictObject({
  name: z.string(),
  description: z.string(),
  scopes: z.array(z.string()),
  holders: z.strictObject({ people: z.number().int(), clients: z.number().int() }).describe('Grants in force when it was deleted (each lost it)'),
  removed: z.strictObject({
    included_by: z.array(z.string()).describe('Roles that included it'),
    includes: z.array(z.string()).describe('Roles it included'),
    delegation_policies: z.array(z.string()),
    access_policy: z.boolean().describe('Whether it could be requested'),
    approver_of: z.array(z.string()).describe('Access policies whose approvers had to hold it'),
    exclusive_sets: z.array(z.string()).describe('Exclusive sets it left (a set left with one role is withdrawn)'),
  }),
  forced: z.boolean(),
  revoked: z.strictObject({ cutoff: z.string(), expires_at: z.string() }).describe('The role revocation: tokens carrying it issued until the cutoff are inactive'),
}) satisfies z.ZodType<DeletedRoleView>;

export const clientView = z.strictObject({
  client_id: z.string(),
  name: z.string(),
  grant_types: z.array(z.string()).describe('client_credentials, token-exchange, authorization_code (with refresh_token); empty for a resource server'),
  roles: z.array(roleHeld),
  redirect_uris: z.array(z.string()),
  post_logout_redirect_uris: z.array(z.string()),
  scope_ceiling: z.array(z.string()).nullable(),
  introspect_audience: z.string().nullable(),
  admin_access: z.boolean().describe('May obtain tokens for urn:govauth:admin (the admin API)'),
  auth_method: authMethod.describe('client_secret: a shared secret (client_secret_basic or client_secret_post); private_key_jwt: signed assertions (RFC 7523); tls_client_auth: a certificate from the configured client CA with its registered subject (RFC 8705 §2.1); self_signed_tls_client_auth: a certificate registered in its jwks (RFC 8705 §2.2); none: a public client'),
  tls_subject_dn: z.string().nullable().describe('tls_client_auth (RFC 8705 §2.1.2): the subject DN its client certificate must carry'),
  tls_san: z.string().nullable().describe('tls_client_auth: the subject alternative name its client certificate must carry, as dns:…, uri:…, ip:… or email:…'),
  certificate_bound_tokens: z.boolean().describe('Access tokens bound to the client certificate (RFC 8705 §3, cnf x5t#S256)'),
  require_pop: z.boolean().describe('Its access tokens are only issued sender-constrained (DPoP, RFC 9449)'),
  ciba: z
    .strictObject({
      mode: z.string().describe('poll: it polls the token endpoint; ping: govauth notifies its endpoint when the person decided (OpenID CIBA Core §5)'),
      notification_endpoint: z.string().nullable().describe('ping mode: the https backchannel_client_notification_endpoint'),
    })
    .nullable()
    .describe('May ask people for approval out of band (OpenID CIBA, /backchannel); null = not allowed (unauthorized_client)'),
  public: z.boolean(),
  secret: z
    .strictObject({
      set_at: isoTime.describe('When the current secret was issued (creation or last rotation)'),
      expires_at: isoTime.nullable().describe('When it stops working (invalid_client); null = never'),
      previous_valid_until: isoTime.nullable().describe('Until when the secret the last rotation replaced still works (its grace); null = it stopped at the rotation'),
    })
    .nullable()
    .describe('null for a public client'),
  token_endpoint_auth_method: z
    .enum(['client_secret_basic', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'none'])
    .describe('client_secret_basic (or client_secret_post), private_key_jwt (RFC 7523: signed assertions, no shared secret), tls_client_auth or self_signed_tls_client_auth (RFC 8705), or none for a public client'),
  jwks: z.strictObject({ keys: z.array(z.unknown()) }).nullable().describe('The public keys of a private_key_jwt client; of a self_signed_tls_client_auth client, the keys with its certificates (x5c)'),
  jwks_uri: z.string().nullable().describe('Or the https URL its public keys are fetched from (RFC 7591 §2)'),
  disabled: z.boolean(),
  created_at: isoTime,
}) satisfies z.ZodType<ClientView>;

export const clientCredentials = z.strictObject({
  client_id: z.string(),
  client_secret: z.string().nullable().describe('Shown once: only its hash is kept. null for a public client and for a private_key_jwt, tls_client_auth or self_signed_tls_client_auth client (it has no secret)'),
}) satisfies z.ZodType<ClientCredentialsView>;

const factorRequirement = z.strictObject({ factor: z.enum(['passkey', 'totp', 'any']), roles: z.array(z.string()) });

/** A person's second factors, one shape wherever they are shown (governance/factor-status.ts). */
export const factorView = z.strictObject({
  totp: z.boolean().describe('An authenticator app (TOTP, RFC 6238) is enrolled'),
  passkeys: z.number().int().describe('Registered passkeys (WebAuthn)'),
  recovery_codes_left: z.number().int().describe('Unused one-time recovery codes (a fallback for TOTP; they satisfy no required factor)'),
  required: z.array(factorRequirement).describe("Factors the person's roles require (role require-factor), and which roles"),
  missing: z.array(factorRequirement).describe('Required factors the person has not set up: they cannot sign in to those roles with them yet'),
}) satisfies z.ZodType<FactorView>;

export const userView = z.strictObject({
  id: z.string(),
  email: z.string(),
  disabled: z.boolean(),
  mfa_enrolled: z.boolean(),
  roles: z.array(roleHeld),
  created_at: isoTime,
  factors: factorView.optional().describe('GET /users/{email} only'),
}) satisfies z.ZodType<UserView>;

export const roleGrantView = z.strictObject({
  role: z.string(),
  expires_at: isoTime.nullable(),
  reason: z.string().nullable(),
  granted_at: isoTime,
}) satisfies z.ZodType<RoleGrantView>;

export const standingDelegationView = z.strictObject({
  id: z.string().describe('sd_…'),
  user_id: z.string(),
  user_email: z.string(),
  client_id: z.string().describe('The agent'),
  agent_name: z.string(),
  audience: z.string().describe('The resource the agent may act on'),
  resource_name: z.string(),
  scopes: z.array(z.string()),
  max_depth: z.number().int().describe('The longest delegation chain (RFC 8693 §4.1 act) this delegation may be part of'),
  expires_at: isoTime.nullable().describe('null: until withdrawn'),
  granted_at: isoTime,
}) satisfies z.ZodType<StandingDelegationView>;

const revocationKind = z.enum(['token', 'grant', 'user', 'client', 'role']);

export const revocationView = z.strictObject({
  kind: revocationKind,
  key: z.string(),
  label: z.string(),
  cutoff: isoTime,
  expires_at: isoTime,
  reason: z.string().nullable(),
  actor: z.string().nullable(),
}) satisfies z.ZodType<RevocationView>;

export const revokedView = z.strictObject({ kind: revocationKind, key: z.string(), label: z.string(), cutoff: isoTime, expires_at: isoTime });

export const auditEventView = z.strictObject({
  seq: z.number().int(),
  at: isoTime,
  action: z.string(),
  actor_type: z.string(),
  actor: z.string().nullable(),
  subject: z.string().nullable(),
  client_id: z.string().nullable(),
  resource: z.string().nullable().describe('The resource (audience URI) the record concerns, if one'),
  request_id: z.string().nullable(),
  ip: z.string().nullable(),
  outcome: z.string(),
  detail: z.unknown().describe('Action-specific; administrative changes carry `before` and `after`'),
  prev_hash: z.string(),
  hash: z.string(),
}) satisfies z.ZodType<AuditEventView>;

export const delegationPolicyView = z.strictObject({
  id: z.string().describe('dp_…'),
  agent_role: z.string().describe('Agents (token-exchange clients) holding this role may act…'),
  subject_role: z.string().describe('…for people holding this role'),
  audience: z.string().describe('…on this resource'),
  scopes: z.array(z.string()).nullable().describe('…with at most these scopes; null: every scope of the resource'),
  max_depth: z.number().int().describe('Agents a chain may hold, the acting one included'),
  max_ttl: z.number().int().nullable().describe('Longest lifetime of a token it allows, in seconds; null: the usual token lifetimes'),
  description: z.string(),
  created_at: isoTime,
}) satisfies z.ZodType<DelegationPolicyView>;

const agentNamed = { client_id: z.string(), name: z.string().nullable().describe('null: no client has this id any more') };

export const delegationHistory = z.strictObject({
  user: z.strictObject({ id: z.string(), email: z.string() }),
  events: z.array(
    z.strictObject({
      seq: z.number().int().describe('The audit record'),
      at: isoTime,
      outcome: z.enum(['exchanged', 'refused']),
      agent: z.strictObject({ ...agentNamed, client_id: agentNamed.client_id.nullable() }).describe('The acting agent'),
      chain: z.array(z.strictObject({ ...agentNamed, delegation: z.string().nullable().describe('The delegation policy or standing delegation that let it act') })).describe('Every agent, the acting one first (RFC 8693 §4.1 act)'),
      resource: z.string().nullable(),
      scopes: z.array(z.string()),
      lifetime: z.number().nullable().describe('Seconds the issued token lives'),
      jti: z.string().nullable().describe('The issued token'),
      subject_token_jti: z.string().nullable(),
      actor_token_jti: z.string().nullable(),
      error: z.string().nullable().describe('Refused: the OAuth error'),
      reason: z.string().nullable().describe('Refused: why'),
    }),
  ),
  truncated: z.boolean().describe('Older matching records exist: narrow with since, or raise limit'),
}) satisfies z.ZodType<DelegationHistory>;

export const chainVerification = z.union([
  z.strictObject({ ok: z.literal(true), records: z.number().int(), first: z.number().int().nullable(), last: z.number().int().nullable() }),
  z.strictObject({ ok: z.literal(false), records: z.number().int(), broken_at: z.number().int(), problem: z.string() }),
]);

export const auditPruned = z.strictObject({
  removed: z.number().int().describe('How many records were deleted (0: none was that old, and nothing is recorded)'),
  before: isoTime.describe('The cut-off: records before it were deleted'),
});

export const keyView = z.strictObject({
  kid: z.string().describe('The key id (RFC 7638 thumbprint), the kid of the tokens it signs'),
  alg: z.string(),
  state: z.enum(['pending', 'active', 'retired', 'expired']).describe('pending: published, not signing yet; active: signing; retired: published for the tokens it signed; expired: out of JWKS'),
  created_at: isoTime,
  activates_at: isoTime.describe('Signs from this time'),
  retires_at: isoTime.nullable().describe('Stops signing at this time'),
  expires_at: isoTime.nullable().describe('Leaves JWKS at this time'),
}) satisfies z.ZodType<KeyView>;

const findingKind = z.enum([
  'unused_scope',
  'never_used_scope',
  'high_sensitivity_without_mfa',
  'missing_required_factor',
  'grant_expiring_soon',
  'secret_expiring_soon',
  'secret_expired',
  'high_sensitivity_with_shared_secret_bearer',
  'exclusive_roles_held',
]);


export const accessReview = z.strictObject({
  generated_at: isoTime,
  unused_days: z.number().int(),
  principals: z.array(
    z.strictObject({
      type: z.enum(['user', 'client']),
      id: z.string(),
      name: z.string(),
      disabled: z.boolean(),
      mfa_enrolled: z.boolean().nullable(),
      factors: factorView.nullable().describe("People: their second factors; null for clients"),
      admin_access: z.boolean().nullable().describe('Clients: may obtain tokens for the admin API; null for people'),
      auth_method: authMethod.nullable().describe('Clients: how it authenticates; null for people'),
      requires_pop: z.boolean().nullable().describe('Clients: every access token is bound to a key it holds (certificate-bound, RFC 8705 §3, or proof of possession required, RFC 9449); false: it may get bearer tokens; null for people'),
      secret_expires_at: isoTime.nullable().describe('Clients: when its secret stops working; null for none or no expiry'),
      jwks_uri: z.string().nullable().describe('Clients whose public keys the server fetches: from where; null otherwise'),
      roles: z.array(roleHeld),
      scopes: z.array(z.strictObject({ scope: z.string(), sensitivity: z.string(), via_roles: z.array(z.string()), last_used_at: isoTime.nullable() })),
      expiring_soon: z.array(z.strictObject({ role: z.string(), expires_at: isoTime })),
      scope_grants: z.array(z.strictObject({ resource: z.string(), scope: z.string(), expires_at: isoTime })).describe('Time-boxed grants of one scope on one resource in force (approved access requests)'),
      findings: z.array(
        z.strictObject({
          kind: findingKind,
          scope: z.string().optional(),
          role: z.string().optional(),
          set: z.string().optional().describe('exclusive_roles_held: the set of mutually exclusive roles'),
          roles: z.array(z.string()).optional().describe('exclusive_roles_held: the roles of the set held together'),
          message: z.string(),
        }),
      ),
    }),
  ),
  self_registered: z
    .array(
      z.strictObject({
        client_id: z.string(),
        name: z.string(),
        kind: z.enum(['metadata_document', 'dynamic']),
        host: z.string().nullable(),
        trust: z.string(),
        vetted: z.boolean(),
        disabled: z.boolean(),
        last_used_at: isoTime.nullable(),
        scopes: z.array(z.strictObject({ scope: z.string(), sensitivity: z.string(), last_used_at: isoTime })),
      }),
    )
    .describe('Clients that identified or registered themselves: standing, last use, the scopes that reached people through them'),
  summary: z.strictObject({ principals: z.number().int(), findings: z.number().int(), by_kind: z.record(z.string(), z.number().int()) }),
}) satisfies z.ZodType<AccessReview>;

export const errorBody = z
  .object({
    error: z.string().describe('A stable code: invalid_request, invalid_token, insufficient_scope, not_found, conflict, unsupported_media_type, server_error (an oversized body is invalid_request with status 413)'),
    error_description: z.string().describe('What is wrong, for a person'),
  })
  .describe('An error (RFC 6749 §5.2 / RFC 6750 §3 shape)');

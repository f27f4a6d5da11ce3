// OAuth clients: AI services and bots (client_credentials), agents acting for people (token
// exchange, RFC 8693), resource servers that introspect, and web and native apps. The secret is returned once, at creation or rotation, and
// stored only as an argon2id hash.
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import { enqueueNotification, notifiedActor } from '../notifications/notification-event.ts';
import { existingScopeNames, findResource } from '../db/catalog-repository.ts';
import {
  findClientDisabled,
  findClientWithRoles,
  insertClient,
  listClientRows,
  readClientWithRoles,
  replaceClientRoles,
  updateClientRow,
  type ClientRow,
} from '../db/client-repository.ts';
import type { Database } from '../db/database.ts';
import { insertSelfRegisteredRow } from '../db/self-registration-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { parseStringArray } from './policy-loader.ts';
import { checkGrants, CLIENT_GRANTS, grantNames, mayHoldRoles, ROLES_RULE, SECRET_GRANTS, storedGrantTypes } from './client-grants.ts';
import { checkClientJwks, checkJwksUri, checkSelfSignedJwks } from './client-jwks.ts';
import type { OutboundUrlRules } from './outbound-url.ts';
import { hashSecret, newClientId, newClientSecret } from './client-secrets.ts';
import { clientAuthMethod, tokenEndpointAuthMethod, usesClientCertificate, type ClientAuthMethod, type TokenEndpointAuthMethod } from './client-auth-method.ts';
import { nextSecretExpiry, parseGrace, parseSecretExpiry, previousSecretValidUntil } from './secret-lifetimes.ts';
import { mustExist, requireRoles } from './catalog.ts';
import { assertSeparationOfDuties } from './exclusive-roles.ts';
import { checkCiba, cibaView, NO_CIBA, type CibaInput } from './client-ciba.ts';
import { checkAuthRegistration, type TlsInput } from './client-auth-rules.ts';
import { authChangeColumns, changeIssuesSecret, type AuthChange } from './client-auth-change.ts';
import { checkAudience, checkRedirectUri, checkRoleName, checkScopeName, checkText, uniqueList } from './validation.ts';

export interface CreateClientInput {
  readonly name: string;
  readonly grants?: readonly string[];
  readonly roles?: readonly string[];
  /** Resource servers: the audience whose tokens this client may introspect. */
  readonly introspectAudience?: string;
  readonly redirectUris?: readonly string[];
  readonly postLogoutRedirectUris?: readonly string[];
  readonly scopeCeiling?: readonly string[];
  readonly isPublic?: boolean;
  /** May obtain tokens for the admin API (policy-model.ts mayUseAudience). */
  readonly adminAccess?: boolean;
  /** When the secret stops working, as typed (secret-lifetimes.ts parseSecretExpiry); none = never. */
  readonly secretExpires?: string;
  /**
   * Mutual TLS (RFC 8705): authenticate with a certificate carrying this subject DN or this one
   * SAN instead of a secret (§2.1.2), and/or receive certificate-bound access tokens (§3).
   */
  readonly tls?: TlsInput;
  /**
   * private_key_jwt (RFC 7523): the client's public JWK Set (JSON text or parsed). Such a client
   * has no shared secret: it authenticates with assertions signed by the private key it keeps.
   */
  readonly jwks?: unknown;
  /** Or the https URL of that JWK Set (RFC 7591 §2 jwks_uri), fetched by the server: exactly one of the two. */
  readonly jwksUri?: string;
  /** Its access tokens only sender-constrained: DPoP (RFC 9449) or mTLS (RFC 8705). */
  readonly requirePop?: boolean;
  /**
   * The authentication method, as client-auth-method.ts parses it. The other fields imply one;
   * naming it is needed only for self_signed_tls_client_auth (RFC 8705 §2.2: `jwks` holds the
   * client's certificates, presented in the TLS handshake), and otherwise must agree with them.
   */
  readonly authMethod?: string;
  /** OpenID CIBA: allowed in poll or ping mode (client-ciba.ts); absent = not allowed. */
  readonly ciba?: CibaInput;
}

export interface RotateSecretInput {
  /** How long the replaced secret keeps working (secret-lifetimes.ts parseGrace); none = it stops at once. */
  readonly grace?: string;
  /** The new secret's expiry; none = the lifetime the replaced secret had (nextSecretExpiry). */
  readonly secretExpires?: string;
}

/** How a client authenticates at /token, introspection and revocation. */

export interface ClientCredentialsView {
  client_id: string;
  client_secret: string | null;
}

export interface ClientView {
  client_id: string;
  name: string;
  grant_types: string[];
  roles: { role: string; expires_at: string | null }[];
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  scope_ceiling: string[] | null;
  introspect_audience: string | null;
  admin_access: boolean;
  /** How it authenticates (client-auth-method.ts). */
  auth_method: ClientAuthMethod;
  /** tls_client_auth: the registered certificate subject DN, or SAN as `dns:…` (RFC 8705 §2.1.2). */
  tls_subject_dn: string | null;
  tls_san: string | null;
  /** Access tokens bound to the client certificate (RFC 8705 §3, cnf x5t#S256). */
  certificate_bound_tokens: boolean;
  require_pop: boolean;
  /** OpenID CIBA: how its token is delivered, and ping mode's endpoint; null = not allowed. */
  ciba: { mode: string; notification_endpoint: string | null } | null;
  public: boolean;
  /** Its shared secret: when set, when it stops, until when the one it replaced still works; null without one. */
  secret: { set_at: string; expires_at: string | null; previous_valid_until: string | null } | null;
  /** client_secret_basic (or _post), private_key_jwt, or none for a public client. */
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  /** private_key_jwt clients: their public keys; self_signed_tls_client_auth clients: those of their certificates (x5c). */
  jwks: { keys: unknown[] } | null;
  /** private_key_jwt clients whose keys the server fetches (RFC 7591 §2); null otherwise. */
  jwks_uri: string | null;
  disabled: boolean;
  created_at: string;
}

/**
 * Admin access is for clients that keep a secret: a public client cannot authenticate, so
 * anyone can start a sign-in in its name (RFC 6749 §2.1, RFC 8252 §8.4), and its tokens live in
 * a browser or device. Without a grant it could not obtain a token in the first place.
 */
function checkAdminAccess(isPublic: boolean, grants: readonly string[]): void {
  if (isPublic) throw new AppError('invalid_request', 'admin access cannot be given to a public client: it has no secret, so anyone can act in its name');
  if (!grants.length) throw new AppError('invalid_request', `admin access applies to a client that obtains tokens (${CLIENT_GRANTS.join(', ')})`);
}

/** Where no development allowance is given, private and loopback URLs are refused (outbound-url.ts). */
const NO_ALLOWANCE: OutboundUrlRules = { allowPrivate: false };

/** `urlRules`: the server's rules for URLs it fetches (GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE), for a jwks_uri. */
/**
 * A client that registered itself (RFC 7591): oidc-provider chose its id and secret and answers
 * with them; it is recorded as self-registered, so the trust policy caps it (self-registration.ts).
 */
export interface SelfRegisteredIdentity {
  readonly clientId: string;
  readonly clientSecret: string | null;
}

export async function createClient(db: Database, input: CreateClientInput, by: Actor, now: number, urlRules: OutboundUrlRules = NO_ALLOWANCE, registered?: SelfRegisteredIdentity): Promise<ClientCredentialsView> {
  const name = checkText(input.name, 'name', 200);
  const grants = checkGrants(input.grants ?? []);
  const roles = uniqueList(input.roles ?? [], checkRoleName);
  const introspectAudience = input.introspectAudience === undefined ? null : checkAudience(input.introspectAudience);
  const redirectUris = uniqueList(input.redirectUris ?? [], checkRedirectUri);
  const postLogoutRedirectUris = uniqueList(input.postLogoutRedirectUris ?? [], checkRedirectUri);
  const ceiling = input.scopeCeiling === undefined ? null : uniqueList(input.scopeCeiling, checkScopeName);
  const isPublic = input.isPublic === true;
  const auth = checkAuthRegistration(input, { isPublic, introspect: introspectAudience !== null, grants }, urlRules);
  const { jwks, jwksUri, secretless, ...tls } = auth;
  const adminAccess = input.adminAccess === true;
  if (adminAccess) checkAdminAccess(isPublic, grants);
  const secretExpiresAt = input.secretExpires === undefined ? null : parseSecretExpiry(input.secretExpires, now);
  if (isPublic && input.secretExpires !== undefined) throw new AppError('invalid_request', 'a public client has no secret to expire');

  const ciba = input.ciba === undefined ? NO_CIBA : checkCiba(input.ciba, { isPublic, introspect: introspectAudience !== null }, urlRules);
  if (!grants.length && !introspectAudience && ciba.cibaMode === null) {
    throw new AppError('invalid_request', `a client needs a grant (--grant ${CLIENT_GRANTS.join(' | ')}), --ciba poll|ping, or --resource <audience> --introspect`);
  }
  if (grants.includes('authorization_code') && !redirectUris.length) {
    throw new AppError('invalid_request', 'an authorization_code client needs at least one --redirect-uri');
  }
  if (!grants.includes('authorization_code') && (redirectUris.length || postLogoutRedirectUris.length)) {
    throw new AppError('invalid_request', '--redirect-uri and --post-logout-redirect-uri only apply to authorization_code clients');
  }
  if (isPublic && (grants.some((g) => SECRET_GRANTS.includes(g)) || introspectAudience)) {
    throw new AppError('invalid_request', 'a public client has no secret, so it cannot use client_credentials, token-exchange (an agent must authenticate) or introspection');
  }
  if (roles.length && !mayHoldRoles(grants)) throw new AppError('invalid_request', ROLES_RULE);
  const grantTypes = storedGrantTypes(grants);

  const clientId = registered?.clientId ?? newClientId();
  if (registered && secretless !== (registered.clientSecret === null)) throw new TypeError('a registered client has a secret exactly when it is confidential');
  const clientSecret = secretless ? null : (registered?.clientSecret ?? newClientSecret());
  const secretHash = clientSecret === null ? null : await hashSecret(clientSecret);

  await writeWithChanges(db, async (tx) => {
    await requireRoles(tx, roles);
    await assertSeparationOfDuties(tx, clientId, [], roles);
    if (introspectAudience) await mustExist(findResource(tx, introspectAudience), `no resource ${introspectAudience} (create it first with: govauth resource create)`);
    if (ceiling?.length) {
      const found = await existingScopeNames(tx, ceiling);
      const missing = ceiling.filter((s) => !found.includes(s));
      if (missing.length) throw new AppError('invalid_request', `unknown scope(s): ${missing.join(', ')}`);
    }
    await insertClient(tx, {
      id: clientId,
      name,
      secretHash,
      grantTypes: JSON.stringify(grantTypes),
      redirectUris: JSON.stringify(redirectUris),
      postLogoutRedirectUris: JSON.stringify(postLogoutRedirectUris),
      scopeCeiling: ceiling === null ? null : JSON.stringify(ceiling),
      introspectAudience,
      adminAccess,
      secretExpiresAt: secretExpiresAt === null ? null : new Date(secretExpiresAt),
      ...tls,
      jwks: jwks && JSON.stringify(jwks),
      jwksUri,
      requirePop: input.requirePop === true,
      ...ciba,
      roles,
    });
    if (registered) await insertSelfRegisteredRow(tx, { clientId, kind: 'dynamic', host: null, name, redirectUris: JSON.stringify(redirectUris) });
    const after = clientView(await readClientWithRoles(tx, clientId));
    return { result: undefined, changes: [{ kind: 'client', key: clientId }], audit: [adminEvent(by, registered ? 'client.registered' : 'admin.client.create', clientId, null, after)] };
  });
  return { client_id: clientId, client_secret: clientSecret };
}

function clientView(c: ClientRow): ClientView {
  return {
    client_id: c.id,
    name: c.name,
    grant_types: grantNames(parseStringArray(c.grantTypes, 'Client.grantTypes')),
    roles: c.roles.map((r) => ({ role: r.roleName, expires_at: r.expiresAt?.toISOString() ?? null })),
    redirect_uris: parseStringArray(c.redirectUris, 'Client.redirectUris'),
    post_logout_redirect_uris: parseStringArray(c.postLogoutRedirectUris, 'Client.postLogoutRedirectUris'),
    scope_ceiling: c.scopeCeiling === null ? null : parseStringArray(c.scopeCeiling, 'Client.scopeCeiling'),
    introspect_audience: c.introspectAudience,
    admin_access: c.adminAccess,
    auth_method: clientAuthMethod(c),
    public: clientAuthMethod(c) === 'none',
    secret:
      c.secretHash === null
        ? null
        : { set_at: (c.secretRotatedAt ?? c.createdAt).toISOString(), expires_at: c.secretExpiresAt?.toISOString() ?? null, previous_valid_until: c.previousSecretValidUntil?.toISOString() ?? null },
    tls_subject_dn: c.tlsSubjectDn,
    tls_san: c.tlsSan,
    certificate_bound_tokens: c.tlsBoundTokens,
    token_endpoint_auth_method: tokenEndpointAuthMethod(c),
    jwks: c.jwks === null ? null : (JSON.parse(c.jwks) as { keys: unknown[] }),
    jwks_uri: c.jwksUri,
    require_pop: c.requirePop === true,
    ciba: cibaView(c),
    disabled: c.disabled,
    created_at: c.createdAt.toISOString(),
  };
}

export async function listClients(db: Database): Promise<ClientView[]> {
  return (await listClientRows(db)).map(clientView);
}

export async function getClient(db: Database, id: string): Promise<ClientView> {
  return clientView(await mustExist(findClientWithRoles(db, id), `no client ${id}`));
}

/**
 * A new secret, shown once. With a grace the replaced one keeps working until it ends (never past
 * its own expiry), each use audited (client.old_secret_used), so deployments switch without an
 * outage; a rotation during a grace ends that grace (only the latest replaced secret is kept).
 */
export async function rotateClientSecret(db: Database, id: string, by: Actor, now: number, input: RotateSecretInput = {}): Promise<ClientCredentialsView> {
  const graceMs = input.grace === undefined ? 0 : parseGrace(input.grace);
  const asked = input.secretExpires === undefined ? undefined : parseSecretExpiry(input.secretExpires, now);
  const existing = await mustExist(findClientWithRoles(db, id), `no client ${id}`);
  if (existing.jwks !== null || existing.jwksUri !== null) throw new AppError('invalid_request', `client ${id} authenticates with ${clientAuthMethod(existing)} and has no secret: replace its keys with client update --jwks-file${clientAuthMethod(existing) === 'private_key_jwt' ? ' or --jwks-uri' : ''}`);
  if (existing.secretHash === null) throw new AppError('invalid_request', usesClientCertificate(existing) ? `client ${id} authenticates with a TLS client certificate and has no secret` : `client ${id} is public and has no secret`);
  const clientSecret = newClientSecret();
  const secretHash = await hashSecret(clientSecret);
  const expiresAt = nextSecretExpiry(asked, { setAt: (existing.secretRotatedAt ?? existing.createdAt).getTime(), expiresAt: existing.secretExpiresAt?.getTime() ?? null }, now);
  const validUntil = previousSecretValidUntil(graceMs, existing.secretExpiresAt?.getTime() ?? null, now);
  const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
  await writeWithChanges(db, async (tx) => {
    await updateClientRow(tx, id, {
      secretHash,
      secretRotatedAt: new Date(now),
      secretExpiresAt: expiresAt === null ? null : new Date(expiresAt),
      previousSecretHash: validUntil === null ? null : existing.secretHash,
      previousSecretValidUntil: validUntil === null ? null : new Date(validUntil),
    });
    // The secret itself is never recorded, only that it changed and for how long each works.
    const extra = { secret_rotated: true, previous_valid_until: iso(validUntil), secret_expires_at: iso(expiresAt) };
    return { result: undefined, changes: [{ kind: 'client', key: id }], audit: [adminEvent(by, 'admin.client.rotate_secret', id, null, null, extra)] };
  });
  return { client_id: id, client_secret: clientSecret };
}

export async function setClientDisabled(db: Database, id: string, disabled: boolean, by: Actor): Promise<ClientView> {
  await writeWithChanges(db, async (tx) => {
    const before = await mustExist(findClientDisabled(tx, id), `no client ${id}`);
    await updateClientRow(tx, id, { disabled });
    // Only a real transition is news to the receiver (a repeated `client disable` is not).
    if (before.disabled !== disabled) {
      await enqueueNotification(tx, { type: disabled ? 'client.disabled' : 'client.enabled', data: { client_id: id, by: notifiedActor(by) } }, db.now());
    }
    return {
      result: undefined,
      changes: [{ kind: 'client', key: id }],
      audit: [adminEvent(by, disabled ? 'admin.client.disable' : 'admin.client.enable', id, { disabled: before.disabled }, { disabled })],
    };
  });
  return getClient(db, id);
}

export async function updateClient(
  db: Database,
  id: string,
  patch: { name?: string; roles?: readonly string[]; adminAccess?: boolean; jwks?: unknown; jwksUri?: string; requirePop?: boolean; ciba?: CibaInput; authMethod?: string; tls?: AuthChange['tls']; secretExpires?: string },
  by: Actor,
  urlRules: OutboundUrlRules = NO_ALLOWANCE,
): Promise<{ client: ClientView; clientSecret: string | null }> {
  const name = patch.name === undefined ? undefined : checkText(patch.name, 'name', 200);
  // A method named, or a certificate subject given: the authentication changes (client-auth-change.ts),
  // and jwks / jwks_uri are the new method's. Otherwise they replace the keys of a keyed client.
  const auth: AuthChange | undefined =
    patch.authMethod !== undefined || patch.tls !== undefined ? { authMethod: patch.authMethod, jwks: patch.jwks, jwksUri: patch.jwksUri, tls: patch.tls, secretExpires: patch.secretExpires } : undefined;
  if (!auth && patch.secretExpires !== undefined) throw new AppError('invalid_request', "secret_expires (--secret-expires) goes with a change to client_secret; rotate-secret sets a new secret's expiry");
  const clientSecret = auth && changeIssuesSecret(auth) ? newClientSecret() : null;
  const secretHash = clientSecret === null ? null : await hashSecret(clientSecret);
  if (!auth && patch.jwks !== undefined && patch.jwksUri !== undefined) throw new AppError('invalid_request', 'give the new keys one way: --jwks-file or --jwks-uri, not both');
  const checkedJwks = auth || patch.jwks === undefined ? undefined : checkClientJwks(patch.jwks);
  const jwks = checkedJwks && JSON.stringify(checkedJwks);
  const jwksUri = auth || patch.jwksUri === undefined ? undefined : checkJwksUri(patch.jwksUri, urlRules);
  // One replaces the other: a client's keys are registered one way (oidc-provider refuses both).
  const keys = jwks !== undefined ? { jwks, jwksUri: null } : jwksUri !== undefined ? { jwks: null, jwksUri } : undefined;
  const roles = patch.roles && uniqueList(patch.roles, checkRoleName);
  await writeWithChanges(db, async (tx) => {
    const row = await mustExist(findClientWithRoles(tx, id), `no client ${id}`);
    const before = clientView(row);
    if (roles) {
      if (!mayHoldRoles(before.grant_types)) throw new AppError('invalid_request', ROLES_RULE);
      await requireRoles(tx, roles);
      await assertSeparationOfDuties(tx, id, before.roles.map((r) => r.role), roles);
      await replaceClientRoles(tx, id, roles);
    }
    if (patch.adminAccess === true) checkAdminAccess(before.public, before.grant_types);
    // Key rotation: the new set replaces the old at once, so a client rotating keys registers
    // the old and the new key together first, then the new one alone (kid tells them apart).
    // The same for a self_signed_tls_client_auth client's certificates (RFC 8705 §2.2), which are
    // registered, never fetched (see client-auth-rules.ts checkAuthMethod).
    if (keys !== undefined) {
      if (before.auth_method === 'self_signed_tls_client_auth') {
        if (checkedJwks === undefined) throw new AppError('invalid_request', `client ${id} authenticates with self_signed_tls_client_auth: its certificates are registered with --jwks-file, not fetched from a --jwks-uri`);
        checkSelfSignedJwks(checkedJwks);
      } else if (before.auth_method !== 'private_key_jwt') {
        throw new AppError('invalid_request', `client ${id} authenticates with ${before.token_endpoint_auth_method}; keys can only be replaced on a private_key_jwt or self_signed_tls_client_auth client (to change the method, name it: auth_method, --auth)`);
      }
    }
    if (keys && jwksUri !== undefined && before.introspect_audience !== null) throw new AppError('invalid_request', '--jwks-uri applies to clients that obtain tokens; a resource server that introspects registers its keys with --jwks-file');
    const authColumns = auth && authChangeColumns(row, auth, secretHash, db.now(), urlRules);
    const ciba = patch.ciba && checkCiba(patch.ciba, { isPublic: before.public, introspect: before.introspect_audience !== null }, urlRules);
    if (name !== undefined || patch.adminAccess !== undefined || keys !== undefined || patch.requirePop !== undefined || ciba !== undefined || authColumns !== undefined) {
      await updateClientRow(tx, id, { name, adminAccess: patch.adminAccess, requirePop: patch.requirePop, ...keys, ...ciba, ...authColumns });
    }
    const after = clientView(await readClientWithRoles(tx, id));
    const audit = [];
    if (name !== undefined || roles) audit.push(adminEvent(by, 'admin.client.update', id, before, after));
    // Its own action, so that a SIEM can alert on who was given the admin API (or lost it).
    // Its own action: which keys a client may sign with is a credential change (only public keys are stored, so the record may hold them).
    if (keys !== undefined) audit.push(adminEvent(by, 'admin.client.rotate_keys', id, { jwks: before.jwks, jwks_uri: before.jwks_uri }, { jwks: after.jwks, jwks_uri: after.jwks_uri }));
    // Its own action: how a client proves itself changed (the new secret itself is never recorded).
    if (authColumns !== undefined) audit.push(adminEvent(by, 'admin.client.auth_method', id, authFacts(before), authFacts(after), { secret_issued: clientSecret !== null }));
    if (before.admin_access !== after.admin_access) audit.push(adminEvent(by, 'admin.client.admin_access', id, { admin_access: before.admin_access }, { admin_access: after.admin_access }));
    // Its own action too: dropping the requirement is a security downgrade worth alerting on.
    if (before.require_pop !== after.require_pop) audit.push(adminEvent(by, 'admin.client.require_pop', id, { require_pop: before.require_pop }, { require_pop: after.require_pop }));
    // Its own action: who may ask people for approval out of band (CIBA) is worth alerting on.
    if (JSON.stringify(before.ciba) !== JSON.stringify(after.ciba)) audit.push(adminEvent(by, 'admin.client.ciba', id, { ciba: before.ciba }, { ciba: after.ciba }));
    return { result: undefined, changes: [{ kind: 'client', key: id }], audit };
  });
  return { client: await getClient(db, id), clientSecret };
}

/** What the audit record of a change of method shows, before and after (public keys, never a secret). */
const authFacts = (c: ClientView) => ({
  auth_method: c.auth_method,
  jwks: c.jwks,
  jwks_uri: c.jwks_uri,
  tls_subject_dn: c.tls_subject_dn,
  tls_san: c.tls_san,
  certificate_bound_tokens: c.certificate_bound_tokens,
  has_secret: c.secret !== null,
});

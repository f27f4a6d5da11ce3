// The governance model as immutable in-memory data, and the pure decisions made from it.
// Nothing here touches a database, koa or oidc-provider, so the rules are unit-testable and
// the hot path (every token issued) never waits on I/O.
import { AppError } from '../errors/app-error.ts';

export type Sensitivity = 'low' | 'medium' | 'high';
export const SENSITIVITIES: readonly Sensitivity[] = ['low', 'medium', 'high'];

export interface ScopeDef {
  readonly name: string;
  readonly description: string;
  readonly sensitivity: Sensitivity;
  /** Seconds; caps the lifetime of any token that carries this scope. */
  readonly maxTtl: number | null;
}

export interface ResourceDef {
  readonly audience: string;
  readonly name: string;
  readonly tokenTtl: number | null;
  readonly scopes: ReadonlySet<string>;
}

export interface RoleDef {
  readonly name: string;
  readonly description: string;
  readonly scopes: ReadonlySet<string>;
}

/** A role held by a principal, possibly only until `expiresAt` (epoch ms). */
export interface RoleGrant {
  readonly role: string;
  readonly expiresAt: number | null;
}

export interface ClientDef {
  readonly id: string;
  readonly name: string;
  readonly secretHash: string | null;
  readonly grantTypes: readonly string[];
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris: readonly string[];
  /** The most this client may ever receive; null = whatever its roles (or its users) hold. */
  readonly scopeCeiling: ReadonlySet<string> | null;
  /** For resource servers: the audience whose tokens this client may introspect. */
  readonly introspectAudience: string | null;
  /** May obtain tokens for ADMIN_AUDIENCE (an administrator's explicit choice; never a public client). */
  readonly adminAccess: boolean;
  readonly disabled: boolean;
  readonly roles: readonly RoleGrant[];
}

/** A person, as the hot path needs them: no password hash, no MFA secret. */
export interface UserDef {
  readonly id: string;
  readonly email: string;
  readonly disabled: boolean;
  readonly mfaEnrolled: boolean;
  readonly roles: readonly RoleGrant[];
}

export interface PolicySnapshot {
  readonly scopes: ReadonlyMap<string, ScopeDef>;
  readonly resources: ReadonlyMap<string, ResourceDef>;
  readonly roles: ReadonlyMap<string, RoleDef>;
  readonly clients: ReadonlyMap<string, ClientDef>;
}

export interface PolicyDefaults {
  /** Lifetime (seconds) of an access token when neither its resource nor its scopes set one. */
  readonly accessTokenTtl: number;
  /** Audience used when a client_credentials request names no resource. */
  readonly defaultResource: string | undefined;
}

export interface TokenDecision {
  readonly audience: string;
  readonly scopes: readonly string[];
  /** Roles that contributed at least one granted scope (the token's `roles` claim). */
  readonly roles: readonly string[];
  /** Seconds. */
  readonly ttl: number;
}

/** The admin API's audience (src/governance/admin-model.ts creates its resource, scopes and roles). */
export const ADMIN_AUDIENCE = 'urn:govauth:admin';

/**
 * Whether `client` may hold tokens for `audience` at all, before any scope is considered. A
 * person's roles say what they may do, not through which app: holding govauth-admin must not
 * let every app they sign in to (a public SPA included) act on the admin API in their name. So
 * the admin audience is reachable only through clients an administrator allowed it. Checked at
 * issuance (every grant, RFC 8707 §2 invalid_target) and on every use (introspection, admin
 * API), so removing the allowance ends tokens already issued.
 */
export const mayUseAudience = (client: ClientDef, audience: string): boolean => audience !== ADMIN_AUDIENCE || client.adminAccess;

/** Scope → expiry (epoch ms, or Infinity) of the longest-lived active role granting it. */
export function heldScopes(snapshot: PolicySnapshot, grants: readonly RoleGrant[], now: number): Map<string, { until: number; roles: string[] }> {
  const held = new Map<string, { until: number; roles: string[] }>();
  for (const grant of grants) {
    if (grant.expiresAt !== null && grant.expiresAt <= now) continue;
    const role = snapshot.roles.get(grant.role);
    if (!role) continue;
    const until = grant.expiresAt ?? Number.POSITIVE_INFINITY;
    for (const scope of role.scopes) {
      const entry = held.get(scope);
      if (entry) {
        entry.until = Math.max(entry.until, until);
        entry.roles.push(role.name);
      } else {
        held.set(scope, { until, roles: [role.name] });
      }
    }
  }
  return held;
}

/**
 * Lifetime of a token: the smallest of the resource's TTL (or the default) and the granted
 * scopes' max TTLs, clipped so it never outlives the role grants it depends on.
 */
export function tokenLifetime(
  snapshot: PolicySnapshot,
  resource: ResourceDef,
  scopes: readonly string[],
  defaults: PolicyDefaults,
  now: number,
  heldUntil?: ReadonlyMap<string, { until: number }>,
): number {
  let ttl = resource.tokenTtl ?? defaults.accessTokenTtl;
  for (const name of scopes) {
    const maxTtl = snapshot.scopes.get(name)?.maxTtl;
    if (maxTtl) ttl = Math.min(ttl, maxTtl);
    const until = heldUntil?.get(name)?.until;
    if (until !== undefined && Number.isFinite(until)) ttl = Math.min(ttl, Math.floor((until - now) / 1000));
  }
  return Math.max(1, Math.floor(ttl));
}

/** The resource a client_credentials request is for when it names none (RFC 8707 §2). */
export function defaultAudienceFor(snapshot: PolicySnapshot, client: ClientDef, defaults: PolicyDefaults, now: number): string | undefined {
  if (defaults.defaultResource) return defaults.defaultResource;
  // Otherwise the one resource this client holds scopes on, if it is unambiguous.
  const held = heldScopes(snapshot, client.roles, now);
  const candidates = [...snapshot.resources.values()].filter((r) => [...r.scopes].some((s) => held.has(s)));
  return candidates.length === 1 ? candidates[0]?.audience : undefined;
}

/**
 * client_credentials: granted = requested ∩ scopes of the client's active roles ∩ the
 * resource's scopes (∩ the client's ceiling). No `scope` parameter means everything the client
 * holds for that resource. RFC 6749 §3.3 lets the server grant less than requested; granting
 * nothing is `invalid_scope` (§5.2).
 */
export function decideClientCredentials(
  snapshot: PolicySnapshot,
  client: ClientDef,
  audience: string,
  requested: readonly string[] | undefined,
  defaults: PolicyDefaults,
  now: number,
): TokenDecision {
  const resource = snapshot.resources.get(audience);
  if (!resource) throw new AppError('invalid_target', 'unknown resource', { detail: `no resource ${audience}` });
  const held = heldScopes(snapshot, client.roles, now);
  const allowed = (scope: string): boolean =>
    resource.scopes.has(scope) && held.has(scope) && (client.scopeCeiling === null || client.scopeCeiling.has(scope));
  const wanted = requested ?? [...resource.scopes];
  const scopes = [...new Set(wanted)].filter(allowed).sort();
  if (!scopes.length) {
    throw new AppError(
      'invalid_scope',
      requested ? 'none of the requested scopes is granted to this client for this resource' : 'this client holds no scopes for this resource',
    );
  }
  const roles = new Set<string>();
  for (const s of scopes) for (const r of held.get(s)?.roles ?? []) roles.add(r);
  return {
    audience,
    scopes,
    roles: [...roles].sort(),
    ttl: tokenLifetime(snapshot, resource, scopes, defaults, now, held),
  };
}

export type WithheldReason = 'not_in_roles' | 'not_allowed_for_app' | 'not_on_resource' | 'mfa_not_enrolled' | 'mfa_required' | 'unknown_scope';

export interface ConsentDecision {
  readonly audience: string;
  /** Scopes the person may grant the app now (what the consent page lists). */
  readonly grantable: readonly string[];
  readonly withheld: readonly { scope: string; reason: WithheldReason }[];
  /** Roles that contributed a grantable scope. */
  readonly roles: readonly string[];
}

export const isHighSensitivity = (snapshot: PolicySnapshot, scope: string): boolean => snapshot.scopes.get(scope)?.sensitivity === 'high';

/**
 * What a person may consent to: requested ∩ the app's ceiling ∩ their role scopes ∩ the
 * resource's scopes. High-sensitivity scopes additionally need a recent second factor.
 */
export function decideConsent(
  snapshot: PolicySnapshot,
  user: UserDef,
  client: ClientDef,
  audience: string,
  requested: readonly string[],
  mfaFresh: boolean,
  now: number,
): ConsentDecision {
  const resource = snapshot.resources.get(audience);
  if (!resource) throw new AppError('invalid_target', 'unknown resource');
  const held = heldScopes(snapshot, user.roles, now);
  const grantable: string[] = [];
  const withheld: { scope: string; reason: WithheldReason }[] = [];
  for (const scope of [...new Set(requested)].sort()) {
    if (!snapshot.scopes.has(scope)) withheld.push({ scope, reason: 'unknown_scope' });
    else if (!resource.scopes.has(scope)) withheld.push({ scope, reason: 'not_on_resource' });
    else if (client.scopeCeiling !== null && !client.scopeCeiling.has(scope)) withheld.push({ scope, reason: 'not_allowed_for_app' });
    else if (!held.has(scope)) withheld.push({ scope, reason: 'not_in_roles' });
    else if (isHighSensitivity(snapshot, scope) && !mfaFresh) withheld.push({ scope, reason: user.mfaEnrolled ? 'mfa_required' : 'mfa_not_enrolled' });
    else grantable.push(scope);
  }
  const roles = new Set<string>();
  for (const s of grantable) for (const r of held.get(s)?.roles ?? []) roles.add(r);
  return { audience, grantable, withheld, roles: [...roles].sort() };
}

/**
 * At every token issued to a person (code exchange, refresh): the scopes they may still hold
 * for this resource and app under current policy. A revoked role or a removed scope shrinks
 * the next token; nothing left means the grant is no longer usable.
 */
export function currentUserScopes(snapshot: PolicySnapshot, user: UserDef, client: ClientDef, audience: string, now: number) {
  const resource = snapshot.resources.get(audience);
  const held = heldScopes(snapshot, user.roles, now);
  const scopes = resource
    ? [...resource.scopes].filter((s) => held.has(s) && (client.scopeCeiling === null || client.scopeCeiling.has(s))).sort()
    : [];
  return { resource, scopes, held };
}

/** Roles that contributed at least one of `scopes`. */
export function contributingRoles(held: ReadonlyMap<string, { roles: string[] }>, scopes: Iterable<string>): string[] {
  const roles = new Set<string>();
  for (const s of scopes) for (const r of held.get(s)?.roles ?? []) roles.add(r);
  return [...roles].sort();
}

export const emptySnapshot = (): PolicySnapshot => ({
  scopes: new Map(),
  resources: new Map(),
  roles: new Map(),
  clients: new Map(),
});

// The governance model as immutable in-memory data, and the pure decisions made from it.
// Nothing here touches a database, koa or oidc-provider, so the rules are unit-testable and
// the hot path (every token issued) never waits on I/O.
import { AppError } from '../errors/app-error.ts';
import type { PublicJwks } from './client-jwks.ts';
import type { DelegationDef } from './delegation.ts';
import { reachableRoles, type Inclusions } from './role-hierarchy.ts';
import { amrSatisfies, provesSecondFactor, requiredFactorsOf, type RequiredFactor } from './factors.ts';
import type { SelfRegistration, TrustPolicy } from './self-registration.ts';
import { withScopeGrants, type ScopeGrant } from './scope-grants-model.ts';

export type Sensitivity = 'low' | 'medium' | 'high';
export const SENSITIVITIES: readonly Sensitivity[] = ['low', 'medium', 'high'];

export interface ScopeDef {
  readonly name: string;
  readonly description: string;
  readonly sensitivity: Sensitivity;
  /** Seconds; caps the lifetime of any token that carries this scope. */
  readonly maxTtl: number | null;
  /** 'phr': only a phishing-resistant sign-in (a passkey, acr urn:govauth:acr:phr) may carry it; absent or null: no such rule. */
  readonly requireAcr?: 'phr' | null;
}

export interface ResourceDef {
  readonly audience: string;
  readonly name: string;
  readonly tokenTtl: number | null;
  readonly scopes: ReadonlySet<string>;
  /** Its tokens are only issued sender-constrained (proof-of-possession.ts); absent = no. */
  readonly requirePop?: boolean;
}

export interface RoleDef {
  readonly name: string;
  readonly description: string;
  readonly scopes: ReadonlySet<string>;
  /** Roles it includes directly (role-hierarchy.ts); their scopes are held with it. Absent: none. */
  readonly includes?: ReadonlySet<string>;
  /** A person holding it must sign in with this factor (factors.ts); absent or null: none. */
  readonly requireFactor?: RequiredFactor | null;
}

/** A role held by a principal, possibly only until `expiresAt` (epoch ms). */
export interface RoleGrant {
  readonly role: string;
  readonly expiresAt: number | null;
}

/** OpenID CIBA Core 1.0 §4 backchannel_token_delivery_mode (push is not offered) and the ping endpoint (§10.2). */
interface CibaSetting {
  readonly mode: 'poll' | 'ping';
  readonly notificationEndpoint: string | null;
}

export interface ClientDef {
  readonly id: string;
  readonly name: string;
  readonly secretHash: string | null;
  /** When the current secret stops working (epoch ms); null = never. Checked on every request. */
  readonly secretExpiresAt: number | null;
  /** The secret a rotation with a grace replaced, accepted until previousSecretValidUntil (epoch ms). */
  readonly previousSecretHash: string | null;
  readonly previousSecretValidUntil: number | null;
  /** private_key_jwt clients: their public keys; self_signed_tls_client_auth clients: their certificates' (x5c) (client-jwks.ts); such a client has no secret. */
  readonly jwks?: PublicJwks | null;
  /** Or the https URL oidc-provider fetches them from (RFC 7591 §2; oidc/outbound-fetch.ts). */
  readonly jwksUri?: string | null;
  readonly grantTypes: readonly string[];
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris: readonly string[];
  /** The most this client may ever receive; null = whatever its roles (or its users) hold. */
  readonly scopeCeiling: ReadonlySet<string> | null;
  /** For resource servers: the audience whose tokens this client may introspect. */
  readonly introspectAudience: string | null;
  /** May obtain tokens for ADMIN_AUDIENCE (an administrator's explicit choice; never a public client). */
  readonly adminAccess: boolean;
  /** tls_client_auth (RFC 8705 §2.1.2): the registered subject DN, or one SAN as `dns:…` (client-certificates.ts); null for both: not a mutual TLS client. */
  readonly tlsSubjectDn?: string | null;
  readonly tlsSan?: string | null;
  /** Access tokens bound to the client certificate (RFC 8705 §3). */
  readonly tlsBoundTokens?: boolean;
  /** self_signed_tls_client_auth (RFC 8705 §2.2): `jwks` holds the certificates it presents; absent = no. */
  readonly tlsSelfSigned?: boolean;
  /** Its access tokens are only issued sender-constrained (proof-of-possession.ts); absent = no. */
  readonly requirePop?: boolean;
  /** May use OpenID CIBA (oidc/ciba.ts), and how its token is delivered; absent = not allowed. */
  readonly ciba?: CibaSetting;
  /**
   * A client that identified (metadata document) or registered (RFC 7591) itself, and whether
   * the organisation vouches for it (self-registration.ts); absent: an administrator created it.
   * Its trust decision is already folded into scopeCeiling, resourceCeiling and disabled.
   */
  readonly selfRegistered?: SelfRegistration & { readonly vetted: boolean };
  /** The audiences it may ever receive tokens for; absent or null: any (mayUseAudience). */
  readonly resourceCeiling?: ReadonlySet<string> | null;
  readonly disabled: boolean;
  readonly roles: readonly RoleGrant[];
  /** Time-boxed grants of one scope on one resource (scope-grants-model.ts); absent: none. */
  readonly scopeGrants?: readonly ScopeGrant[];
  /** When it was registered (epoch ms): the access review gives one younger than its window time to use its scopes; absent: not a stored client (a metadata document's). */
  readonly createdAt?: number;
}

/** A person, as the hot path needs them: no password hash, no MFA secret. */
export interface UserDef {
  readonly id: string;
  readonly email: string;
  readonly disabled: boolean;
  /** Any second factor: TOTP enrolled or at least one passkey. */
  readonly mfaEnrolled: boolean;
  /** Which factors (factors.ts FactorStatus); absent in fixtures that predate passkeys. */
  readonly totpEnrolled?: boolean;
  readonly passkeys?: number;
  readonly roles: readonly RoleGrant[];
  /** Time-boxed grants of one scope on one resource (scope-grants-model.ts); absent: none. */
  readonly scopeGrants?: readonly ScopeGrant[];
  /** When the account was created (epoch ms), for the access review (as ClientDef.createdAt); absent in fixtures. */
  readonly createdAt?: number;
}

export interface PolicySnapshot {
  readonly scopes: ReadonlyMap<string, ScopeDef>;
  readonly resources: ReadonlyMap<string, ResourceDef>;
  readonly roles: ReadonlyMap<string, RoleDef>;
  readonly clients: ReadonlyMap<string, ClientDef>;
  /** Delegation policies and standing delegations, by id (delegation.ts). */
  readonly delegations: ReadonlyMap<string, DelegationDef>;
  /** What self-registered clients are held to (self-registration.ts); absent: DEFAULT_TRUST_POLICY. */
  readonly trustPolicy?: TrustPolicy;
}

export interface PolicyDefaults {
  /** Lifetime (seconds) of an access token when neither its resource nor its scopes set one. */
  readonly accessTokenTtl: number;
  /** Audience used when a client_credentials request names no resource. */
  readonly defaultResource: string | undefined;
}

/** The admin API's audience (src/governance/admin-model.ts creates its resource, scopes and roles). */
export const ADMIN_AUDIENCE = 'urn:govauth:admin';

/**
 * Whether `client` may hold tokens for `audience` at all, before any scope is considered. A
 * person's roles say what they may do, not through which app: holding govauth-admin must not
 * let every app they sign in to (a public SPA included) act on the admin API in their name. So
 * the admin audience is reachable only through clients an administrator allowed it. Checked at
 * issuance (every grant, RFC 8707 §2 invalid_target) and on every use (introspection, admin
 * API), so removing the allowance ends tokens already issued. A self-registered client may
 * also be held to a set of audiences (its resource ceiling, self-registration.ts).
 */
export const mayUseAudience = (client: ClientDef, audience: string): boolean =>
  (audience !== ADMIN_AUDIENCE || client.adminAccess) && (!client.resourceCeiling || client.resourceCeiling.has(audience));

const NO_INCLUDES: ReadonlySet<string> = new Set();
const inclusionsCache = new WeakMap<ReadonlyMap<string, RoleDef>, Inclusions>();

/** The snapshot's role → included roles, built once per snapshot. */
export function roleInclusions(snapshot: PolicySnapshot): Inclusions {
  let found = inclusionsCache.get(snapshot.roles);
  if (!found) {
    found = new Map([...snapshot.roles.values()].map((r) => [r.name, r.includes ?? NO_INCLUDES]));
    inclusionsCache.set(snapshot.roles, found);
  }
  return found;
}

/** Scope → expiry (epoch ms, or Infinity) of the longest-lived active role granting it (itself or through the roles it includes). */
export function heldScopes(snapshot: PolicySnapshot, grants: readonly RoleGrant[], now: number): Map<string, { until: number; roles: string[] }> {
  const held = new Map<string, { until: number; roles: string[] }>();
  for (const grant of grants) {
    if (grant.expiresAt !== null && grant.expiresAt <= now) continue;
    if (!snapshot.roles.has(grant.role)) continue;
    const until = grant.expiresAt ?? Number.POSITIVE_INFINITY;
    // The granted role and every role it includes (role-hierarchy.ts). A scope reached through
    // an included role names both, so revoking or changing either reaches the token.
    for (const { role, via } of effectiveRoles(snapshot, grant.role)) {
      for (const scope of role.scopes) {
        const entry = held.get(scope);
        const names = via === role.name ? [via] : [via, role.name];
        if (entry) {
          entry.until = Math.max(entry.until, until);
          for (const n of names) if (!entry.roles.includes(n)) entry.roles.push(n);
        } else {
          held.set(scope, { until, roles: names });
        }
      }
    }
  }
  return held;
}

/** `granted` and the roles it includes, transitively, as defined in the snapshot. */
function effectiveRoles(snapshot: PolicySnapshot, granted: string): { role: RoleDef; via: string }[] {
  const out: { role: RoleDef; via: string }[] = [];
  for (const name of reachableRoles(roleInclusions(snapshot), granted)) {
    const role = snapshot.roles.get(name);
    if (role) out.push({ role, via: granted });
  }
  return out;
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

export type WithheldReason = 'not_in_roles' | 'not_allowed_for_app' | 'not_on_resource' | 'mfa_not_enrolled' | 'mfa_required' | 'phr_required' | 'unknown_scope';

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
 * Whether a person's second factor counts for high-sensitivity scopes at this request:
 * 'fresh' / 'stale' when a token is issued (step-up.ts mfaFresh), 'checked_at_issuance' when a
 * token is verified (its acr/amr say how it was obtained; RFC 9068 §2.2.1). Clients have none.
 */
export type MfaFreshness = 'fresh' | 'stale' | 'checked_at_issuance';

/** amr (RFC 8176) and auth_time (epoch seconds) prove a recent second factor: a TOTP code or a passkey (factors.ts). */
export function mfaFresh(amr: readonly string[] | undefined, authTimeSec: number | undefined, maxAgeSec: number, nowMs: number): boolean {
  return provesSecondFactor(amr) && authTimeSec !== undefined && nowMs / 1000 - authTimeSec <= maxAgeSec;
}

/**
 * mfaFresh for a person: a recent second factor, and the factor every role they hold requires
 * (`role require-factor`, factors.ts); a TOTP code does not count for someone whose role
 * requires a passkey.
 */
export function personMfaFresh(snapshot: PolicySnapshot, user: UserDef, amr: readonly string[] | undefined, authTimeSec: number | undefined, maxAgeSec: number, nowMs: number): boolean {
  return mfaFresh(amr, authTimeSec, maxAgeSec, nowMs) && requiredFactorsOf(snapshot.roles, user.roles, nowMs).every((r) => amrSatisfies(amr, r.factor));
}

/** Who holds the scopes: their active role grants at the instant, and (people) their second factor. */
export interface ScopeHolder {
  readonly held: ReadonlyMap<string, { until: number; roles: string[] }>;
  /** People only; absent for a client. */
  /** `phr`: the sign-in used a passkey (factors.ts); undefined: not judged here (checked at issuance). */
  readonly person?: { readonly mfa: MfaFreshness; readonly mfaEnrolled: boolean; readonly phr?: boolean | undefined } | undefined;
}

/**
 * THE per-scope rule: why `holder` may not hold `scope` for `resource` through `client`, or
 * undefined when it may. Every decision (issuance, refresh, introspection, consent, the
 * authorization endpoint's ceiling with no holder) applies this one rule, in this order.
 */
export function withheldReason(snapshot: PolicySnapshot, resource: ResourceDef, client: ClientDef, scope: string, holder: ScopeHolder | undefined): WithheldReason | undefined {
  if (!snapshot.scopes.has(scope)) return 'unknown_scope';
  if (!resource.scopes.has(scope)) return 'not_on_resource';
  if (client.scopeCeiling !== null && !client.scopeCeiling.has(scope)) return 'not_allowed_for_app';
  if (!holder) return undefined; // the ceiling alone (authorization endpoint)
  if (!holder.held.has(scope)) return 'not_in_roles';
  const person = holder.person;
  if (person && person.mfa === 'stale' && isHighSensitivity(snapshot, scope)) return person.mfaEnrolled ? 'mfa_required' : 'mfa_not_enrolled';
  if (person && person.phr === false && snapshot.scopes.get(scope)?.requireAcr === 'phr') return 'phr_required';
  return undefined;
}

/**
 * What a person may consent to: requested ∩ the app's ceiling ∩ their role scopes ∩ the
 * resource's scopes. High-sensitivity scopes additionally need a recent second factor. The
 * consent page lists why each other scope is withheld (withheldReason).
 */
export function decideConsent(
  snapshot: PolicySnapshot,
  user: UserDef,
  client: ClientDef,
  audience: string,
  requested: readonly string[],
  mfaFresh: boolean,
  now: number,
  /** The sign-in used a passkey; undefined: scopes requiring it are not judged (standing delegations: at exchange). */
  phr?: boolean,
): ConsentDecision {
  const resource = snapshot.resources.get(audience);
  if (!resource) throw new AppError('invalid_target', 'unknown resource');
  const held = withScopeGrants(heldScopes(snapshot, user.roles, now), user.scopeGrants, audience, now);
  const holder: ScopeHolder = { held, person: { mfa: mfaFresh ? 'fresh' : 'stale', mfaEnrolled: user.mfaEnrolled, phr } };
  const grantable: string[] = [];
  const withheld: { scope: string; reason: WithheldReason }[] = [];
  for (const scope of [...new Set(requested)].sort()) {
    const reason = withheldReason(snapshot, resource, client, scope, holder);
    if (reason) withheld.push({ scope, reason });
    else grantable.push(scope);
  }
  return { audience, grantable, withheld, roles: contributingRoles(held, grantable) };
}

/** Roles that contributed at least one of `scopes`. */
export function contributingRoles(held: ReadonlyMap<string, { roles: string[] }>, scopes: Iterable<string>): string[] {
  const roles = new Set<string>();
  for (const s of scopes) for (const r of held.get(s)?.roles ?? []) roles.add(r);
  return [...roles].sort();
}

// The effective grant: what a principal (a client, or a person through a client) may hold for an
// audience at an instant. The one place that answers it; issuance (client_credentials, code,
// refresh, the authorization endpoint's ceiling), introspection, the admin API's token check and
// the grant types to come (token exchange, CIBA) all call evaluateGrant, so what is issued and
// what is later judged live cannot drift apart (test/unit/effective-grant.property.test.ts).
// Pure: no I/O, no koa, no oidc-provider; the instant is an input.
//
// Every rule is evaluated (none short-circuits) and the outcome is reported in the order the
// question asks for: issuance reports the principal's state and scopes before the presented
// source's revocation (refusalAtIssuance); introspection reports a revoked token first
// (livenessRefusal). Both refuse in exactly the same situations.
import { AppError } from '../errors/app-error.ts';
import {
  contributingRoles,
  heldScopes,
  mayUseAudience,
  tokenLifetime,
  withheldReason,
  type ClientDef,
  type MfaFreshness,
  type PolicyDefaults,
  type PolicySnapshot,
  type ResourceDef,
  type RoleGrant,
  type ScopeHolder,
  type UserDef,
} from './policy-model.ts';
import type { RevocationKind, RevocationState, TokenFacts } from './revocation-state.ts';
import { withScopeGrants } from './scope-grants-model.ts';
import { abacPrincipal, judgeScopes, type PolicyOutcome, type PolicyRequest } from './abac/scope-policy.ts';

/** Who would hold the token: the client itself, a person, or anyone (the client's ceiling only). */
export type GrantPrincipal =
  | { readonly kind: 'client' }
  | { readonly kind: 'user'; readonly user: UserDef | undefined; readonly mfa: MfaFreshness; readonly phr?: boolean | undefined }
  | { readonly kind: 'anyone' };

/** What a revocation can cover in the request (revocation-state.ts TokenFacts). */
interface PresentedFacts extends Omit<TokenFacts, 'roles'> {
  /** The roles the presented token names (an access token's `roles`); absent: those through which the principal holds `requested` (or the granted scopes) now. */
  readonly roles?: readonly string[] | undefined;
}

export interface GrantRequest {
  readonly principal: GrantPrincipal;
  /** The client the token is (or was) issued to; undefined: it no longer exists. */
  readonly client: ClientDef | undefined;
  /** undefined: no resource (a sign-in only): no API scope can be held. */
  readonly audience: string | undefined;
  /** Scopes asked for (or carried by a presented token); undefined: everything that may be held. */
  readonly requested?: readonly string[] | undefined;
  /** Scopes of the code or refresh token being redeemed: the most it can yield (RFC 6749 §6). */
  readonly source?: ReadonlySet<string> | undefined;
  /** Epoch ms. */
  readonly now: number;
  /** Checked against the revocation state when given (what the request presents or mints). */
  readonly presented?: PresentedFacts | undefined;
  /** The active Cedar policy set and this request's context (abac/scope-policy.ts); absent: roles only. */
  readonly policy?: PolicyRequest | undefined;
}

type HeldScopes = ReadonlyMap<string, { until: number; roles: string[] }>;

/** Every rule's finding for one request (evaluateGrant). */
export interface GrantEvaluation {
  readonly audience: string | undefined;
  /** The instant it was evaluated at (epoch ms). */
  readonly at: number;
  readonly resource: ResourceDef | undefined;
  readonly clientActive: boolean;
  /** The client may hold tokens for this audience at all (policy-model.ts mayUseAudience). */
  readonly audienceAllowed: boolean;
  /** A person exists and is not disabled (always true for a client or anyone). */
  readonly principalActive: boolean;
  /** Every scope of the resource the principal may hold through this client now, sorted. */
  readonly allowed: readonly string[];
  /** allowed ∩ source ∩ requested, sorted. */
  readonly scopes: readonly string[];
  /** Roles that contributed a granted scope (the token's `roles` claim). */
  readonly roles: readonly string[];
  readonly revoked: RevocationKind | undefined;
  readonly held: HeldScopes;
  /** The policy step (roles AND policy; forbid wins): what it removed from allowed and scopes, and why. */
  readonly policy?: PolicyOutcome | undefined;
}

type OAuthGrantError = 'invalid_target' | 'invalid_client' | 'invalid_grant' | 'invalid_scope' | 'temporarily_unavailable';
type GrantRefusalReason = 'unknown_resource' | 'client_disabled' | 'audience_not_allowed' | 'user_disabled' | 'no_scope' | 'policy_denied' | 'policy_unavailable' | `revoked_${RevocationKind}`;

/** Why no token: the OAuth error (RFC 6749 §5.2, RFC 8707 §2) and its description. */
export interface GrantRefusal {
  readonly ok: false;
  readonly error: OAuthGrantError;
  readonly reason: GrantRefusalReason;
  readonly description: string;
}

/** What a token may carry: audience, scopes, contributing roles, lifetime (seconds). */
export interface Grant {
  readonly ok: true;
  readonly audience: string;
  readonly resource: ResourceDef;
  /** Every scope of the resource the principal may hold now (what a narrower request can pick from). */
  readonly allowed: readonly string[];
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  /** Seconds: the resource's TTL clipped by the scopes' max TTLs and the role grants' expiries. */
  readonly ttl: number;
  /** Kept so a token carrying fewer scopes is judged at the same instant (narrowGrant). */
  readonly held: HeldScopes;
  readonly at: number;
  /** The policy step's finding, for the audit record (the determining policy ids) and the consent page. */
  readonly policy?: PolicyOutcome | undefined;
}

const NO_ROLES: readonly RoleGrant[] = [];

export function evaluateGrant(snapshot: PolicySnapshot, revocations: Pick<RevocationState, 'check'>, req: GrantRequest): GrantEvaluation {
  const { client, principal, audience, now } = req;
  const user = principal.kind === 'user' ? principal.user : undefined;
  const grants = principal.kind === 'client' ? (client?.roles ?? NO_ROLES) : principal.kind === 'user' ? (user?.roles ?? NO_ROLES) : NO_ROLES;
  // Role grants, plus (for this audience only) time-boxed scope grants: scope-grants-model.ts.
  const scopeGrants = principal.kind === 'client' ? client?.scopeGrants : principal.kind === 'user' ? user?.scopeGrants : undefined;
  const held = withScopeGrants(heldScopes(snapshot, grants, now), scopeGrants, audience, now);
  const resource = audience === undefined ? undefined : snapshot.resources.get(audience);
  const holder: ScopeHolder | undefined =
    principal.kind === 'anyone' ? undefined : { held, person: user && principal.kind === 'user' ? { mfa: principal.mfa, mfaEnrolled: user.mfaEnrolled, phr: principal.phr } : undefined };
  const allowed: string[] = [];
  if (resource && client) for (const s of resource.scopes) if (!withheldReason(snapshot, resource, client, s, holder)) allowed.push(s);
  allowed.sort();
  const wanted = req.requested && new Set(req.requested);
  const source = req.source;
  let scopes = wanted || source ? allowed.filter((s) => (!wanted || wanted.has(s)) && (!source || source.has(s))) : allowed;
  // Roles AND policy: only the scopes that could be issued are judged (each costs a Cedar
  // evaluation); what the policy refuses leaves both allowed and scopes.
  const policy = req.policy && judgeScopes(req.policy, abacPrincipal(principal.kind, client, user, req.policy.facts), resource, scopes);
  if (policy?.removed.length) {
    const refused = new Set(policy.removed.map((r) => r.scope));
    for (let i = allowed.length - 1; i >= 0; i--) if (refused.has(allowed[i] ?? '')) allowed.splice(i, 1);
    scopes = scopes.filter((s) => !refused.has(s));
  }
  const roles = contributingRoles(held, scopes);
  const presented = req.presented;
  const revoked = presented && revocations.check({ ...presented, roles: presented.roles ?? (req.requested ? contributingRoles(held, req.requested) : roles) });
  return {
    audience,
    at: now,
    resource,
    clientActive: client !== undefined && !client.disabled,
    audienceAllowed: audience === undefined || (client !== undefined && mayUseAudience(client, audience)),
    principalActive: principal.kind !== 'user' || (user !== undefined && !user.disabled),
    allowed,
    scopes,
    roles,
    revoked,
    held,
    policy,
  };
}

const refuse = (error: OAuthGrantError, reason: GrantRefusalReason, description: string): GrantRefusal => ({ ok: false, error, reason, description });

function noScope(req: GrantRequest): GrantRefusal {
  const { principal } = req;
  if (principal.kind === 'anyone') return refuse('invalid_scope', 'no_scope', 'this client may request no scopes for this resource');
  if (principal.kind === 'client') {
    // RFC 6749 §3.3 lets the server grant less than requested; granting nothing is invalid_scope (§5.2).
    return refuse('invalid_scope', 'no_scope', req.requested ? 'none of the requested scopes is granted to this client for this resource' : 'this client holds no scopes for this resource');
  }
  // A person's token is redeemed from a grant (code, refresh token): naming scopes none of which
  // is granted is invalid_scope (§5.2, §6); a grant that yields nothing any more is invalid_grant.
  if (req.requested) return refuse('invalid_scope', 'no_scope', 'none of the requested scopes is granted to this account for the resource');
  return refuse('invalid_grant', 'no_scope', 'the account no longer holds any of the granted scopes for this resource');
}

/** Issuance's order: the resource, the client, its allowance, the person, the scopes, then the presented source's revocation. */
function refusalAtIssuance(e: GrantEvaluation, req: GrantRequest): GrantRefusal | undefined {
  if (!e.resource) return refuse('invalid_target', 'unknown_resource', 'unknown resource');
  if (!e.clientActive) return refuse('invalid_client', 'client_disabled', 'client not found');
  // Before any scope (RFC 8707 §2): this client may not hold tokens for this audience at all.
  if (!e.audienceAllowed) return refuse('invalid_target', 'audience_not_allowed', `this client is not allowed tokens for ${e.resource.audience} (an administrator must allow it)`);
  if (!e.principalActive) return refuse('invalid_grant', 'user_disabled', 'the account is disabled or no longer exists');
  // Fail closed (RFC 6749 §5.2 temporarily_unavailable): never issue what an unloadable policy set could not check.
  if (e.policy?.unavailable) return refuse('temporarily_unavailable', 'policy_unavailable', 'the access policy cannot be evaluated right now; try again later');
  if (!e.scopes.length && e.policy?.removed.length) return refuse('invalid_scope', 'policy_denied', `refused by access policy: ${e.policy.removed.map((r) => `${r.scope} (${r.verdict.message})`).join('; ')}`);
  if (!e.scopes.length) return noScope(req);
  if (e.revoked) return refuse('invalid_grant', `revoked_${e.revoked}`, `this grant was revoked (${e.revoked})`);
  return undefined;
}

/**
 * The single entry point for issuing: the effective grant of `req`, or why there is none. RFC
 * 6749 §3.3 lets the server grant less than requested; granting nothing is a refusal.
 */
export function effectiveGrant(snapshot: PolicySnapshot, revocations: Pick<RevocationState, 'check'>, defaults: PolicyDefaults, req: GrantRequest): Grant | GrantRefusal {
  const e = evaluateGrant(snapshot, revocations, req);
  const refusal = refusalAtIssuance(e, req);
  if (refusal || !e.resource || e.audience === undefined) return refusal ?? noScope(req);
  return { ok: true, audience: e.audience, resource: e.resource, allowed: e.allowed, scopes: e.scopes, roles: e.roles, ttl: tokenLifetime(snapshot, e.resource, e.scopes, defaults, e.at, e.held), held: e.held, at: e.at, policy: e.policy };
}

/** The roles of a token minted from `grant` that carries only `scopes` (oidc-provider narrows to the request), at the grant's instant. */
export const rolesFor = (grant: Grant, scopes: Iterable<string>): string[] => contributingRoles(grant.held, scopes);

/** The lifetime (seconds) of a token minted from `grant` that carries only `scopes`, at the grant's instant. */
export const lifetimeFor = (snapshot: PolicySnapshot, grant: Grant, scopes: readonly string[], defaults: PolicyDefaults): number =>
  tokenLifetime(snapshot, grant.resource, scopes, defaults, grant.at, grant.held);

export type LivenessRefusal = 'client_disabled' | 'audience_not_allowed' | 'user_disabled' | 'scope_no_longer_granted' | 'policy_no_longer_permits' | 'policy_unavailable' | `revoked_${RevocationKind}`;

/**
 * Introspection's order over a token's evaluations (one per audience it is for; the first
 * carries `presented`): revoked first, then the client, its allowance, the person, the scopes.
 * 'all': every scope must still be granted (an access token carries them all); 'some': one is
 * enough (a refresh yields the scopes still granted). A scope of an unknown resource is not granted.
 */
export function livenessRefusal(evaluations: readonly GrantEvaluation[], scopes: readonly string[], rule: 'all' | 'some'): LivenessRefusal | undefined {
  const first = evaluations[0];
  if (!first) throw new TypeError('livenessRefusal needs at least one evaluation');
  if (first.revoked) return `revoked_${first.revoked}`;
  if (!first.clientActive) return 'client_disabled';
  if (!evaluations.every((e) => e.audienceAllowed)) return 'audience_not_allowed';
  if (!first.principalActive) return 'user_disabled';
  const granted = scopes.filter((s) => evaluations.some((e) => e.scopes.includes(s))).length;
  const ok = rule === 'all' ? granted === scopes.length : scopes.length === 0 || granted > 0;
  if (ok) return undefined;
  // Granted by the roles but refused by the current policy set: say so (abac/scope-policy.ts).
  if (evaluations.some((e) => e.policy?.unavailable)) return 'policy_unavailable';
  return evaluations.some((e) => e.policy?.removed.some((r) => scopes.includes(r.scope))) ? 'policy_no_longer_permits' : 'scope_no_longer_granted';
}

/**
 * client_credentials as a throwing call (requested ∩ the client's role scopes ∩ the resource ∩
 * its ceiling): kept for callers that want the decision or an AppError.
 */
export function decideClientCredentials(
  snapshot: PolicySnapshot,
  client: ClientDef,
  audience: string,
  requested: readonly string[] | undefined,
  defaults: PolicyDefaults,
  now: number,
): { audience: string; scopes: readonly string[]; roles: readonly string[]; ttl: number } {
  const g = effectiveGrant(snapshot, { check: () => undefined }, defaults, { principal: { kind: 'client' }, client, audience, requested, now });
  // A client asking for itself presents no source, so invalid_grant cannot arise here.
  if (!g.ok) throw new AppError(g.error === 'invalid_grant' ? 'invalid_scope' : g.error, g.description, g.reason === 'unknown_resource' ? { detail: `no resource ${audience}` } : undefined);
  return { audience: g.audience, scopes: g.scopes, roles: g.roles, ttl: g.ttl };
}

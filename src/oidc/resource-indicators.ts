// RFC 8707 resource indicators: the only way oidc-provider issues JWT access tokens
// (getResourceServerInfo → accessTokenFormat 'jwt'), and where govauth applies governance.
//
// Every path asks governance for the effective grant (src/governance/effective-grant.ts) and
// renders its refusal as the OAuth error; the grant goes on ctx.state.decision, where the
// token's lifetime, claims and audit record read it.
// client_credentials: oidc-provider's own grant handler resolves the resource (calling these
// hooks) and only then reads the requested scopes, so the governance decision made here is what
// the token gets: requested ∩ role scopes ∩ resource scopes, lifetime from policy, `invalid_scope`
// / `invalid_target` instead of silently dropping scopes (its default behaviour). No `scope`
// parameter means everything the client holds for the resource, so we fill it in.
import { errors, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import { effectiveGrant, evaluateGrant, type GrantPrincipal, type GrantRefusal } from '../governance/effective-grant.ts';
import { amrSatisfies } from '../governance/factors.ts';
import { defaultAudienceFor, personMfaFresh, type PolicyDefaults, type Sensitivity, type UserDef } from '../governance/policy-model.ts';
import { assertPossession, requestBinding } from './proof-of-possession.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import { waitOutCutoff } from '../governance/revocation-state.ts';
import type { Clock } from '../time/clock.ts';
import { SIGNING_ALG } from '../keys/signing-keys.ts';
import { CIBA_GRANT } from '../governance/client-ciba.ts';
import { policyFactsOf, policyRequestFor } from './policy-facts.ts';
import type { CibaApproval } from './ciba-approval.ts';

export interface ResourceIndicatorDeps {
  readonly policy: PolicyStore;
  readonly defaults: PolicyDefaults;
  readonly now: Clock;
  /** kid of the key that signs now. */
  readonly signingKid: () => string;
  /** Seconds a second factor counts as recent for high-sensitivity scopes. */
  readonly mfaMaxAge: number;
  /** GOVAUTH_POP_REQUIRED_SENSITIVITY (proof-of-possession.ts). */
  readonly popThreshold: Sensitivity | null;
  /** The CIBA approval a token request acts on (ciba-approval.ts). */
  readonly cibaApproval: CibaApproval;
}

const grantType = (ctx: KoaContextWithOIDC): unknown => (ctx.oidc.route === 'token' ? ctx.oidc.params?.grant_type : undefined);
const isClientCredentials = (ctx: KoaContextWithOIDC): boolean => grantType(ctx) === 'client_credentials';
// A person's tokens: from a code, a refresh token, or their approval of an agent's CIBA request.
const isUserTokenRequest = (ctx: KoaContextWithOIDC): boolean => grantType(ctx) === 'authorization_code' || grantType(ctx) === 'refresh_token' || grantType(ctx) === CIBA_GRANT;

const CLIENT: GrantPrincipal = { kind: 'client' };
const ANYONE: GrantPrincipal = { kind: 'anyone' };

/** A governance refusal as the OAuth error oidc-provider renders (RFC 6749 §5.2, RFC 8707 §2). */
function toOidcError(refusal: GrantRefusal, scope = ''): Error {
  switch (refusal.error) {
    case 'invalid_scope':
      return new errors.InvalidScope(refusal.description, scope);
    case 'invalid_target':
      return new errors.InvalidTarget(refusal.description);
    case 'invalid_client':
      return new errors.InvalidClient(refusal.description);
    case 'invalid_grant':
      return new errors.InvalidGrant(refusal.description);
    case 'temporarily_unavailable':
      return new errors.TemporarilyUnavailable(refusal.description);
  }
}

/**
 * A refusal at the CIBA token endpoint. The agent's request carries no scope (CIBA Core §10.1),
 * so an approval the access policy now leaves nothing of is not invalid_scope (that would blame
 * a scope parameter it never sent) but access_denied: §11's answer to a polling agent that no
 * token will come of this request, as when the approval itself was refused (ciba-requests.ts).
 * The auth_req_id is already consumed here (lib/actions/grants/ciba.js), so the answer must be final.
 */
function cibaRefusal(refusal: GrantRefusal): Error {
  return refusal.reason === 'policy_denied' ? new errors.AccessDenied(refusal.description) : toOidcError(refusal);
}

/** The code, refresh token or approved CIBA request an access token is being issued from, if any. */
export function grantSource(ctx: KoaContextWithOIDC): { acr?: string; amr?: string[]; authTime?: number; accountId?: string; scopes?: Set<string>; iat?: number; gty?: string } | undefined {
  const { entities } = ctx.oidc;
  return entities.AuthorizationCode ?? entities.RefreshToken ?? entities.BackchannelAuthenticationRequest;
}

/** A person, with whether the code or refresh token records a recent second factor (step-up.ts). */
function person(deps: ResourceIndicatorDeps, user: UserDef | undefined, source: ReturnType<typeof grantSource>, now: number): GrantPrincipal {
  return {
    kind: 'user',
    user,
    mfa: user && personMfaFresh(deps.policy.snapshot(), user, source?.amr, source?.authTime, deps.mfaMaxAge, now) ? 'fresh' : 'stale',
    // A scope that requires acr phr needs a sign-in with a passkey (factors.ts, RFC 8176 hwk/swk).
    phr: amrSatisfies(source?.amr, 'passkey'),
  };
}

/**
 * oidc-provider's `rotateRefreshToken`: always rotate, but first refuse a refresh whose `scope`
 * would leave the access token empty. oidc-provider only checks requested ⊆ granted, so
 * `scope=openid`, or a scope whose role was removed since consent, got a 200 with an API access
 * token carrying no scope at all. That is invalid_scope (RFC 6749 §5.2, §6: the requested scope
 * exceeds what the resource owner grants now), as for client_credentials. It is checked here
 * because this hook runs after reuse detection and before the refresh token is consumed
 * (lib/actions/grants/refresh_token.js); refusing later, in getResourceServerInfo, would use
 * up the refresh token and make the client's next attempt look like reuse (RFC 9700 §4.14.2).
 * So is a refresh of a CIBA grant whose approval cannot be found (ciba-approval.ts: fail closed).
 */
export function createRotateRefreshToken(deps: ResourceIndicatorDeps) {
  return async (ctx: KoaContextWithOIDC): Promise<true> => {
    await deps.cibaApproval(ctx);
    const raw = ctx.oidc.params?.scope;
    const rt = ctx.oidc.entities.RefreshToken;
    const param = ctx.oidc.params?.resource;
    // A resource outside the grant is refused here too, for the same reason: oidc-provider would
    // answer invalid_target only after consuming the refresh token (RFC 8707 §2.2).
    if (rt && typeof param === 'string' && !rt.resourceIndicators.has(param)) {
      throw new errors.InvalidTarget('the resource is not part of this grant');
    }
    // An unbound refresh where a bound token is required is refused before it is consumed too
    // (proof-of-possession.ts); judged on everything the refresh token could yield.
    if (rt) {
      const resources = [rt.resource ?? []].flat();
      assertPossession(requestBinding(ctx), {
        snapshot: deps.policy.snapshot(),
        threshold: deps.popThreshold,
        clientId: ctx.oidc.client?.clientId,
        audience: typeof param === 'string' ? param : resources.length === 1 ? resources[0] : undefined,
        scopes: typeof raw === 'string' ? raw.split(' ') : rt.scopes,
      });
    }
    if (typeof raw !== 'string' || !rt?.accountId) return true;
    const granted = [rt.resource ?? []].flat();
    const audience = typeof param === 'string' ? param : granted.length === 1 ? granted[0] : undefined;
    const user = deps.policy.user(rt.accountId);
    const def = deps.policy.snapshot().clients.get(ctx.oidc.client?.clientId ?? '');
    // Anything else wrong (no single granted resource, a disabled person) is refused further on.
    if (!audience || !rt.resourceIndicators.has(audience) || !user || user.disabled || !def) return true;
    // The same evaluation as the refresh itself (effective-grant.ts), before anything is consumed.
    const now = deps.now();
    const e = evaluateGrant(deps.policy.snapshot(), deps.policy.revocations, {
      principal: person(deps, user, rt, now),
      client: def,
      audience,
      requested: raw.split(' '),
      source: rt.scopes,
      now,
      policy: policyRequestFor(deps.policy, policyFactsOf(ctx, now, rt)),
    });
    if (e.policy?.unavailable) throw new errors.TemporarilyUnavailable('the access policy cannot be evaluated right now; try again later');
    if (!e.scopes.length) {
      throw new errors.InvalidScope('none of the requested scopes is granted to this account for the resource', raw);
    }
    return true;
  };
}

/** Every access token is an RS256 JWT (RFC 9068) signed with the key that signs now. */
export const jwtAccessTokenFormat = (signingKid: () => string): Pick<ResourceServer, 'accessTokenFormat' | 'jwt'> => ({
  accessTokenFormat: 'jwt',
  jwt: { sign: { alg: SIGNING_ALG, kid: signingKid() } },
});

export function createResourceIndicators(deps: ResourceIndicatorDeps) {
  const { policy, defaults, now } = deps;
  const jwtFormat = () => jwtAccessTokenFormat(deps.signingKid);

  return {
    enabled: true,

    defaultResource(ctx: KoaContextWithOIDC, client: { clientId: string }, oneOf?: readonly string[]) {
      if (oneOf?.length) return oneOf.length === 1 ? oneOf[0] : undefined;
      if (ctx.oidc.route !== 'token') {
        // An authorization request without `resource` is for the resource(s) offering the
        // scopes it asks for; none means a sign-in only (ID token, no API access).
        const scopeParam = ctx.oidc.params?.scope;
        const requested = typeof scopeParam === 'string' ? scopeParam.split(' ') : [];
        const matches = [...policy.snapshot().resources.values()].filter((r) => requested.some((s) => r.scopes.has(s))).map((r) => r.audience);
        return matches.length === 1 ? matches[0] : matches.length ? matches : undefined;
      }
      if (!isClientCredentials(ctx)) return undefined;
      const snapshot = policy.snapshot();
      const def = snapshot.clients.get(client.clientId);
      const audience = def && defaultAudienceFor(snapshot, def, defaults, now());
      // Without a resource oidc-provider would issue an opaque token and drop every API scope.
      if (!audience) throw new errors.InvalidTarget('the resource parameter is required: no default resource applies to this client');
      return audience;
    },

    async getResourceServerInfo(ctx: KoaContextWithOIDC, resourceIndicator: string, client: { clientId: string }): Promise<ResourceServer> {
      const snapshot = policy.snapshot();
      const def = snapshot.clients.get(client.clientId);
      const at = now();
      const raw = ctx.oidc.params?.scope;

      if (isClientCredentials(ctx)) {
        const requested = typeof raw === 'string' ? raw.split(' ').filter(Boolean) : undefined;
        const grant = effectiveGrant(snapshot, policy.revocations, defaults, {
          principal: CLIENT,
          client: def,
          audience: resourceIndicator,
          requested,
          now: at,
          policy: policyRequestFor(policy, policyFactsOf(ctx, at)),
        });
        if (!grant.ok) throw toOidcError(grant, typeof raw === 'string' ? raw : '');
        ctx.state.decision = { grant };
        if (requested === undefined && ctx.oidc.params) ctx.oidc.params.scope = grant.scopes.join(' ');
        await waitOutCutoff(policy.revocations, { clientId: client.clientId, roles: grant.roles }, now);
        return { scope: grant.scopes.join(' '), audience: resourceIndicator, accessTokenTTL: grant.ttl, ...jwtFormat() };
      }

      if (isUserTokenRequest(ctx)) {
        // Code exchange and refresh: what the person still holds now (roles can have been
        // revoked, or the person disabled), high-sensitivity scopes only with a recent second
        // factor recorded in the code or refresh token.
        const source = grantSource(ctx);
        const user = source?.accountId ? policy.user(source.accountId) : undefined;
        // The agent's token acts on the person's approval, and so does every refresh of its grant.
        const cibaRequest = await deps.cibaApproval(ctx);
        // The code or refresh token being used: revoked if it predates a revocation of a role its
        // scopes come from ("its refresh tokens stop working"). User and client revocations
        // delete that principal's codes, refresh tokens and grants outright (revocations.ts),
        // so whatever still exists was created after them.
        const presented = (ctx.oidc.entities.RotatedRefreshToken ?? ctx.oidc.entities.RefreshToken ?? ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.BackchannelAuthenticationRequest) as { iat?: number } | undefined;
        const grant = effectiveGrant(snapshot, policy.revocations, defaults, {
          principal: person(deps, user, source, at),
          client: def,
          audience: resourceIndicator,
          source: source?.scopes,
          now: at,
          presented: { iat: presented?.iat ?? 0 },
          policy: policyRequestFor(policy, policyFactsOf(ctx, at, source)),
        });
        if (!grant.ok) throw grantType(ctx) === CIBA_GRANT ? cibaRefusal(grant) : toOidcError(grant);
        await waitOutCutoff(policy.revocations, { userId: user?.id, clientId: client.clientId, roles: grant.roles }, now);
        ctx.state.decision = { grant, ...(cibaRequest !== undefined && { cibaRequest }) };
        // The token's own lifetime and roles follow the scopes it ends up carrying (token-lifetimes.ts).
        const ttl = grant.resource.tokenTtl ?? defaults.accessTokenTtl;
        return { scope: grant.allowed.join(' '), audience: resourceIndicator, accessTokenTTL: ttl, ...jwtFormat() };
      }

      // Authorization endpoint: the ceiling is the resource (∩ the client's registered
      // ceiling); the person's own roles are applied at consent and at every token.
      const ceiling = effectiveGrant(snapshot, policy.revocations, defaults, { principal: ANYONE, client: def, audience: resourceIndicator, now: at });
      if (!ceiling.ok) throw toOidcError(ceiling);
      // A resource named without any of its scopes would end in a code that cannot be exchanged
      // (no API token carries an empty scope): refuse it now, at the authorization request.
      const requested = typeof raw === 'string' ? raw.split(' ') : [];
      if (!requested.some((s) => ceiling.resource.scopes.has(s))) {
        throw new errors.InvalidScope(`no scope of the resource ${resourceIndicator} was requested (leave out resource for a sign-in only)`, typeof raw === 'string' ? raw : '');
      }
      return { scope: ceiling.scopes.join(' '), audience: resourceIndicator, accessTokenTTL: ceiling.resource.tokenTtl ?? defaults.accessTokenTtl, ...jwtFormat() };
    },

    useGrantedResource: () => true,
  };
}

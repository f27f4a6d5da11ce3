// RFC 8707 resource indicators: the only way oidc-provider issues JWT access tokens
// (getResourceServerInfo → accessTokenFormat 'jwt'), and where govauth applies governance.
//
// client_credentials: oidc-provider's own grant handler resolves the resource (calling these
// hooks) and only then reads the requested scopes, so the governance decision made here is what
// the token gets: requested ∩ role scopes ∩ resource scopes, lifetime from policy, `invalid_scope`
// / `invalid_target` instead of silently dropping scopes (its default behaviour). No `scope`
// parameter means everything the client holds for the resource, so we fill it in.
import { errors, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import { AppError, isAppError } from '../errors/app-error.ts';
import {
  contributingRoles,
  currentUserScopes,
  decideClientCredentials,
  defaultAudienceFor,
  isHighSensitivity,
  mayUseAudience,
  type ClientDef,
  type PolicyDefaults,
  type TokenDecision,
  type UserDef,
} from '../governance/policy-model.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import { SIGNING_ALG } from '../keys/signing-keys.ts';
import { mfaFresh } from '../interactions/step-up.ts';
import { waitPastCutoff } from '../governance/revocation-state.ts';

export interface ResourceIndicatorDeps {
  readonly policy: PolicyStore;
  readonly defaults: PolicyDefaults;
  readonly now: () => number;
  /** kid of the key that signs now. */
  readonly signingKid: () => string;
  /** Seconds a second factor counts as recent for high-sensitivity scopes. */
  readonly mfaMaxAge: number;
}

const grantType = (ctx: KoaContextWithOIDC): unknown => (ctx.oidc.route === 'token' ? ctx.oidc.params?.grant_type : undefined);
const isClientCredentials = (ctx: KoaContextWithOIDC): boolean => grantType(ctx) === 'client_credentials';
const isUserTokenRequest = (ctx: KoaContextWithOIDC): boolean => grantType(ctx) === 'authorization_code' || grantType(ctx) === 'refresh_token';

/** Converts a governance refusal into the OAuth error oidc-provider renders (RFC 6749 §5.2). */
export function toOidcError(err: unknown, scope = ''): unknown {
  if (!isAppError(err)) return err;
  if (err.code === 'invalid_scope') return new errors.InvalidScope(err.message, scope);
  if (err.code === 'invalid_target') return new errors.InvalidTarget(err.message);
  return err;
}

/**
 * Right after a principal revocation, hold issuance until the next second so the new token's
 * iat (whole seconds) is after the cutoff's second and the revocation does not catch it.
 */
async function waitOutCutoff(policy: PolicyStore, principals: { userId?: string; clientId?: string; roles?: readonly string[] }, now: () => number): Promise<void> {
  const cutoff = policy.revocations.latestCutoff(principals);
  // Re-checked after each sleep: a timer measures from the event loop's cached clock, which
  // lags wall time when the loop is busy, so it can fire before the wall-clock second turns
  // (seen under load: a fresh token came out inside the cutoff second and was born revoked).
  for (let ms = waitPastCutoff(cutoff, now()); ms > 0; ms = waitPastCutoff(cutoff, now())) {
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}

/** Decisions made for this request, for extraTokenClaims (same ctx, same request). */
const decisions = new WeakMap<object, TokenDecision>();

/** The code or refresh token an access token is being issued from, if any. */
export function grantSource(ctx: KoaContextWithOIDC): { acr?: string; amr?: string[]; authTime?: number; accountId?: string; scopes?: Set<string> } | undefined {
  const { entities } = ctx.oidc;
  return entities.AuthorizationCode ?? entities.RefreshToken;
}
export const decisionFor = (ctx: object): TokenDecision | undefined => decisions.get(ctx);

/** What the person may get for `audience` now: their role scopes, high-sensitivity ones only with a recent second factor. */
function allowedUserScopes(deps: ResourceIndicatorDeps, user: UserDef, def: ClientDef, audience: string, source: ReturnType<typeof grantSource>) {
  const snapshot = deps.policy.snapshot();
  const { scopes, held } = currentUserScopes(snapshot, user, def, audience, deps.now());
  const fresh = mfaFresh(source?.amr, source?.authTime, deps.mfaMaxAge, deps.now());
  return { allowed: scopes.filter((s) => fresh || !isHighSensitivity(snapshot, s)), held };
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
 */
export function createRotateRefreshToken(deps: ResourceIndicatorDeps) {
  return (ctx: KoaContextWithOIDC): true => {
    const raw = ctx.oidc.params?.scope;
    const rt = ctx.oidc.entities.RefreshToken;
    const param = ctx.oidc.params?.resource;
    // A resource outside the grant is refused here too, for the same reason: oidc-provider would
    // answer invalid_target only after consuming the refresh token (RFC 8707 §2.2).
    if (rt && typeof param === 'string' && !rt.resourceIndicators.has(param)) {
      throw new errors.InvalidTarget('the resource is not part of this grant');
    }
    if (typeof raw !== 'string' || !rt?.accountId) return true;
    const granted = [rt.resource ?? []].flat();
    const audience = typeof param === 'string' ? param : granted.length === 1 ? granted[0] : undefined;
    const user = deps.policy.user(rt.accountId);
    const def = deps.policy.snapshot().clients.get(ctx.oidc.client?.clientId ?? '');
    // Anything else wrong (no single granted resource, a disabled person) is refused further on.
    if (!audience || !rt.resourceIndicators.has(audience) || !user || user.disabled || !def) return true;
    const requested = raw.split(' ');
    const { allowed } = allowedUserScopes(deps, user, def, audience, rt);
    if (!allowed.some((s) => requested.includes(s) && rt.scopes.has(s))) {
      throw new errors.InvalidScope('none of the requested scopes is granted to this account for the resource', raw);
    }
    return true;
  };
}

export function createResourceIndicators(deps: ResourceIndicatorDeps) {
  const { policy, defaults, now } = deps;

  const jwtFormat = (): Pick<ResourceServer, 'accessTokenFormat' | 'jwt'> => ({
    accessTokenFormat: 'jwt', // RFC 9068
    jwt: { sign: { alg: SIGNING_ALG, kid: deps.signingKid() } },
  });

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
      const resource = snapshot.resources.get(resourceIndicator);
      if (!resource) throw new errors.InvalidTarget('unknown resource');
      const def = snapshot.clients.get(client.clientId);
      if (!def) throw new errors.InvalidClient('client not found');
      // Before any scope: this client may not hold tokens for this audience at all (the admin
      // API without an administrator's allowance). Every grant and /auth pass through here;
      // RFC 8707 §2 names invalid_target for a resource the client may not have.
      if (!mayUseAudience(def, resourceIndicator)) {
        throw new errors.InvalidTarget(`this client is not allowed tokens for ${resourceIndicator} (an administrator must allow it)`);
      }

      if (isClientCredentials(ctx)) {
        const raw = ctx.oidc.params?.scope;
        const requested = typeof raw === 'string' ? raw.split(' ').filter(Boolean) : undefined;
        let decision: TokenDecision;
        try {
          decision = decideClientCredentials(snapshot, def, resourceIndicator, requested, defaults, now());
        } catch (err) {
          throw toOidcError(err, typeof raw === 'string' ? raw : '');
        }
        decisions.set(ctx, decision);
        if (requested === undefined && ctx.oidc.params) ctx.oidc.params.scope = decision.scopes.join(' ');
        await waitOutCutoff(policy, { clientId: def.id, roles: decision.roles }, now);
        return { scope: decision.scopes.join(' '), audience: resourceIndicator, accessTokenTTL: decision.ttl, ...jwtFormat() };
      }

      if (isUserTokenRequest(ctx)) {
        // Code exchange and refresh: what the person still holds now (roles can have been
        // revoked, or the person disabled), high-sensitivity scopes only with a recent second
        // factor recorded in the code or refresh token.
        const source = grantSource(ctx);
        const user = source?.accountId ? policy.user(source.accountId) : undefined;
        if (!user || user.disabled) throw new errors.InvalidGrant('the account is disabled or no longer exists');
        // The code or refresh token being used: revoked if it predates a revocation of a role its
        // scopes come from ("its refresh tokens stop working"). User and client revocations
        // delete that principal's codes, refresh tokens and grants outright (revocations.ts),
        // so whatever still exists was created after them.
        const presented = (ctx.oidc.entities.RotatedRefreshToken ?? ctx.oidc.entities.RefreshToken ?? ctx.oidc.entities.AuthorizationCode) as { iat?: number } | undefined;
        const { allowed, held } = allowedUserScopes(deps, user, def, resourceIndicator, source);
        const granted = allowed.filter((s) => source?.scopes?.has(s) ?? true);
        if (!granted.length) throw new errors.InvalidGrant('the account no longer holds any of the granted scopes for this resource');
        const roles = contributingRoles(held, granted);
        const revokedBy = policy.revocations.check({ iat: presented?.iat ?? 0, roles });
        if (revokedBy) throw new errors.InvalidGrant(`this grant was revoked (${revokedBy})`);
        await waitOutCutoff(policy, { userId: user.id, clientId: def.id, roles }, now);
        decisions.set(ctx, { audience: resourceIndicator, scopes: granted, roles, ttl: resource.tokenTtl ?? defaults.accessTokenTtl });
        return { scope: allowed.join(' '), audience: resourceIndicator, accessTokenTTL: resource.tokenTtl ?? defaults.accessTokenTtl, ...jwtFormat() };
      }

      // Authorization endpoint: the ceiling is the resource (∩ the client's registered
      // ceiling); the person's own roles are applied at consent and at every token.
      const scopes = [...resource.scopes].filter((s) => def.scopeCeiling === null || def.scopeCeiling.has(s));
      if (!scopes.length) throw toOidcError(new AppError('invalid_scope', 'this client may request no scopes for this resource'));
      // A resource named without any of its scopes would end in a code that cannot be exchanged
      // (no API token carries an empty scope): refuse it now, at the authorization request.
      const raw = ctx.oidc.params?.scope;
      const requested = typeof raw === 'string' ? raw.split(' ') : [];
      if (!requested.some((s) => resource.scopes.has(s))) {
        throw new errors.InvalidScope(`no scope of the resource ${resourceIndicator} was requested (leave out resource for a sign-in only)`, typeof raw === 'string' ? raw : '');
      }
      return { scope: scopes.join(' '), audience: resourceIndicator, accessTokenTTL: resource.tokenTtl ?? defaults.accessTokenTtl, ...jwtFormat() };
    },

    useGrantedResource: () => true,
  };
}

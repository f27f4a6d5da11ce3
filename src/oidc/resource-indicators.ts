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
import { decideClientCredentials, defaultAudienceFor, type PolicyDefaults, type TokenDecision } from '../governance/policy-model.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import { SIGNING_ALG } from '../keys/signing-keys.ts';

export interface ResourceIndicatorDeps {
  readonly policy: PolicyStore;
  readonly defaults: PolicyDefaults;
  readonly now: () => number;
  /** kid of the key that signs now. */
  readonly signingKid: () => string;
}

const isClientCredentials = (ctx: KoaContextWithOIDC): boolean =>
  ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials';

/** Converts a governance refusal into the OAuth error oidc-provider renders (RFC 6749 §5.2). */
export function toOidcError(err: unknown, scope = ''): unknown {
  if (!isAppError(err)) return err;
  if (err.code === 'invalid_scope') return new errors.InvalidScope(err.message, scope);
  if (err.code === 'invalid_target') return new errors.InvalidTarget(err.message);
  return err;
}

/** Decisions made for this request, for extraTokenClaims (same ctx, same request). */
const decisions = new WeakMap<object, TokenDecision>();
export const decisionFor = (ctx: object): TokenDecision | undefined => decisions.get(ctx);

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
      if (!isClientCredentials(ctx)) return undefined;
      const snapshot = policy.snapshot();
      const def = snapshot.clients.get(client.clientId);
      const audience = def && defaultAudienceFor(snapshot, def, defaults, now());
      // Without a resource oidc-provider would issue an opaque token and drop every API scope.
      if (!audience) throw new errors.InvalidTarget('the resource parameter is required: no default resource applies to this client');
      return audience;
    },

    getResourceServerInfo(ctx: KoaContextWithOIDC, resourceIndicator: string, client: { clientId: string }): ResourceServer {
      const snapshot = policy.snapshot();
      const resource = snapshot.resources.get(resourceIndicator);
      if (!resource) throw new errors.InvalidTarget('unknown resource');
      const def = snapshot.clients.get(client.clientId);
      if (!def) throw new errors.InvalidClient('client not found');

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
        return { scope: decision.scopes.join(' '), audience: resourceIndicator, accessTokenTTL: decision.ttl, ...jwtFormat() };
      }

      // Interactive flows: the ceiling here is the resource (∩ the client's registered ceiling);
      // the person's own roles are applied at consent and re-checked at every refresh.
      const scopes = [...resource.scopes].filter((s) => def.scopeCeiling === null || def.scopeCeiling.has(s));
      if (!scopes.length) throw toOidcError(new AppError('invalid_scope', 'this client may request no scopes for this resource'));
      return { scope: scopes.join(' '), audience: resourceIndicator, accessTokenTTL: resource.tokenTtl ?? defaults.accessTokenTtl, ...jwtFormat() };
    },

    useGrantedResource: () => true,
  };
}

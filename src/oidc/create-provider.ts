// Assembles the oidc-provider instance. Each non-default choice carries its reason; the
// concerns live in their own files (adapter, resource indicators, lifetimes, claims, pages).
import type { Middleware } from 'koa';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/load-config.ts';
import type { Database } from '../db/database.ts';
import type { SecretVerifier } from '../governance/client-secrets.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import { ACR_MFA, ACR_PASSWORD, createInteractionPolicy } from '../interactions/step-up.ts';
import { htmlHeaders, originsOf, type Views } from '../interactions/views.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { MasterKey } from '../keys/master-key.ts';
import type { Logger } from '../log/logger.ts';
import { createExtraTokenClaims, createFindAccount } from './accounts-and-claims.ts';
import { createAdapterFactory, type GrantRevokedHook } from './oidc-adapter.ts';
import { createResourceIndicators, createRotateRefreshToken } from './resource-indicators.ts';
import { createTtl } from './token-lifetimes.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { ClientAuthThrottled } from '../ratelimit/client-auth-failures.ts';
import type { RateLimiter } from '../ratelimit/rate-limiter.ts';
import { slowDownFor, tokenRateLimit } from './token-rate-limit.ts';
import { formPostPage } from './form-post-page.ts';
import { createRenderError } from './render-error.ts';
import { tokenErrorCodes } from './token-error-codes.ts';
import { signOutEndsGrants } from './sign-out-revocation.ts';
import { waitOutCutoff } from '../governance/revocation-state.ts';

export interface ProviderDeps {
  readonly config: Config;
  readonly issuer: string;
  readonly log: Logger;
  readonly db: Database;
  readonly policy: PolicyStore;
  readonly keyring: Keyring;
  readonly master: MasterKey;
  readonly verifier: SecretVerifier;
  readonly limiter: RateLimiter;
  readonly views: Views;
  readonly onGrantRevoked?: GrantRevokedHook;
  /** Records token responses (request-audit.ts); runs outside every rewrite of the response. */
  readonly responseAudit?: Middleware;
  readonly metrics: Pick<Metrics, 'databaseError'>;
  readonly now: () => number;
}

export function cookieKeys(master: MasterKey): string[] {
  return [master.derive('cookie-signing-v1').toString('base64url')];
}

export function createProvider(deps: ProviderDeps): Provider {
  const { config, log, keyring, policy, views } = deps;
  const defaults = { accessTokenTtl: config.accessTokenTtl, defaultResource: config.defaultResource };
  const snapshotClient = (id: string | undefined) => (id ? policy.snapshot().clients.get(id) : undefined);
  const indicators = { policy, defaults, now: deps.now, signingKid: () => keyring.signingKid(), mfaMaxAge: config.signIn.mfaMaxAge };

  const configuration: Configuration = {
    adapter: createAdapterFactory(deps),
    clients: [], // every client comes from the governance catalogue
    jwks: { keys: keyring.privateJwks() },
    // Only secret-based methods: secrets are stored as argon2id hashes, which rules out
    // client_secret_jwt (it needs the plaintext as an HMAC key).
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    responseTypes: ['code'], // no implicit or hybrid flows (RFC 9700 §2.1.2)
    pkce: { required: () => true }, // S256 for every client, not only public ones (RFC 9700 §2.1.1)
    // Browser apps may call the token endpoint from the origins of their redirect URIs only.
    clientBasedCORS: (_ctx, origin, client) =>
      client.grantTypeAllowed('authorization_code') && originsOf(client.redirectUris ?? []).includes(origin),
    cookies: {
      keys: cookieKeys(deps.master),
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    scopes: ['openid', 'offline_access', 'email'],
    // ID tokens always say how and when the person authenticated (acr, amr per RFC 8176,
    // auth_time): claims listed under the openid scope are always included.
    claims: { sid: null, iss: null, openid: ['sub', 'acr', 'amr', 'auth_time'], email: ['email'] },
    acrValues: [ACR_PASSWORD, ACR_MFA],
    // UserInfo is off (every access token is a JWT for a resource), so scope claims such as
    // email go into the ID token.
    conformIdTokenClaims: false,
    // Every use rotates; reuse of a used one revokes the grant (RFC 9700 §4.14.2). A refresh
    // whose scope would leave the access token empty is refused first (resource-indicators.ts).
    rotateRefreshToken: createRotateRefreshToken(indicators),
    features: {
      devInteractions: { enabled: false }, // it accepts any username and password
      clientCredentials: { enabled: true },
      resourceIndicators: createResourceIndicators(indicators),
      // govauth serves introspection and revocation itself: oidc-provider's endpoints reject JWT
      // access tokens (lib/shared/reject_structured_tokens.js).
      introspection: { enabled: false },
      revocation: { enabled: false },
      // Every access token is an RS256 JWT for a resource; UserInfo needs opaque, audience-less ones.
      userinfo: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource(ctx, form) {
          const client = snapshotClient(ctx.oidc.client?.clientId);
          htmlHeaders(ctx, originsOf(client?.postLogoutRedirectUris ?? []));
          ctx.type = 'html';
          ctx.body = views.html('logout', { form, appName: client?.name });
        },
        postLogoutSuccessSource(ctx) {
          htmlHeaders(ctx);
          ctx.type = 'html';
          ctx.body = views.html('logged-out', { appName: snapshotClient(ctx.oidc.client?.clientId)?.name });
        },
      },
    },
    // oidc-provider's default, after holding the authorization response out of a revocation's
    // second: an access token carries its code's iat (source_iat), and a code issued in the
    // second of a revocation made just before it would otherwise be covered by it, so a person
    // signing in right after `set-password` or `revoke --user` would get invalid_grant.
    async loadExistingGrant(ctx) {
      const { session, client } = ctx.oidc;
      if (!session || !client) return undefined;
      const user = session.accountId ? policy.user(session.accountId) : undefined;
      await waitOutCutoff(policy.revocations, { userId: session.accountId, clientId: client.clientId, roles: user?.roles.map((r) => r.role) ?? [] }, deps.now);
      const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    ttl: createTtl(deps),
    extraTokenClaims: createExtraTokenClaims(deps),
    findAccount: createFindAccount(deps),
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: createInteractionPolicy({ policy, mfaMaxAge: config.signIn.mfaMaxAge, now: deps.now }),
    },
    // govauth's own error page: a sentence per error, a way back to the app (render-error.ts).
    renderError: createRenderError({ views, policy }),
  };

  const provider = new Provider(deps.issuer, configuration);
  // First, so outermost: the audit records the answer exactly as the client receives it, after
  // every rewrite registered below (RFC 6749 §5.2 codes, 503 for a database outage).
  if (deps.responseAudit) provider.use(deps.responseAudit);

  // Verify against the stored argon2id hash, paying argon2 once per secret (client-secrets.ts);
  // an authenticated client then spends from its token rate limit (token-rate-limit.ts).
  const limitToken = tokenRateLimit(deps.limiter, config.rateLimits.tokenPerClient, log);
  // Failures spend from the source address's budget first (client-auth-failures.ts).
  provider.Client.prototype.compareClientSecret = async function compareClientSecret(this: { clientId: string; clientSecret?: string }, presented: string) {
    if (!this.clientSecret) return false;
    const ctx = Provider.ctx;
    try {
      if (!(await deps.verifier.verify(this.clientId, this.clientSecret, presented, ctx?.ip))) return false;
    } catch (err) {
      if (err instanceof ClientAuthThrottled && ctx) throw slowDownFor(ctx, err);
      throw err;
    }
    await limitToken(this.clientId);
    return true;
  };

  // An unknown or disabled client_id fails before compareClientSecret ("client not found"):
  // answer as late as a wrong secret does, so timing does not tell which client_ids exist
  // (client-secrets.ts). Only when a secret was presented: without one, no argon2 runs anyway.
  provider.use(async (ctx, next) => {
    const startedAt = performance.now();
    await next();
    const { oidc } = ctx as Partial<KoaContextWithOIDC>; // absent when no protocol route matched
    const secretSent = Boolean(oidc?.params?.client_secret) || /^basic /i.test(ctx.get('authorization'));
    if (ctx.status === 401 && secretSent && oidc && !oidc.client && (ctx.body as { error?: unknown } | undefined)?.error === 'invalid_client') {
      await deps.verifier.reject(startedAt);
    }
  });

  // Inside the timing padding above, which then sees the 401 invalid_client it produces.
  provider.use(tokenErrorCodes()); // RFC 6749 §5.2 codes where oidc-provider differs
  provider.use(formPostPage(views, deps.issuer)); // no provider page with inline script (form-post-page.ts)
  // A confirmed sign-out revokes every grant of the session, offline_access ones included.
  if (deps.onGrantRevoked) provider.use(signOutEndsGrants({ db: deps.db, revocations: policy.revocations, revokeGrant: deps.onGrantRevoked }));

  provider.on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
    ctx.state.serverError = err; // rewritten to 503 below when the database is the cause
    if (isDatabaseUnavailable(err)) log.warn('database unavailable during a protocol request', { err: err.message, route: ctx.oidc?.route, requestId: ctx.state?.requestId });
    else log.error('oidc server error', { err, route: ctx.oidc?.route, requestId: ctx.state?.requestId });
  });
  // oidc-provider renders any exception as 500 server_error; a database outage is a 503 the
  // client should retry (RFC 6749 §5.2 has no code for it; temporarily_unavailable is §4.1.2.1).
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.status === 500 && isDatabaseUnavailable(ctx.state.serverError)) {
      deps.metrics.databaseError('protocol');
      ctx.status = 503;
      ctx.set('Retry-After', '2');
      if (ctx.body && typeof ctx.body === 'object') ctx.body = { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable; retry shortly' };
    }
  });
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: Error & { error_detail?: string }) => {
    ctx.state.grantError = err; // for the audit record of the refusal (request-audit.ts)
    log.debug('token request refused', { error: err.message, detail: err.error_detail, client: ctx.oidc?.client?.clientId });
  });
  return provider;
}

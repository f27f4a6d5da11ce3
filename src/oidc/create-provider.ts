// Assembles the oidc-provider instance. Each non-default choice carries its reason; the
// concerns live in their own files (adapter, resource indicators, lifetimes, claims, pages).
import Provider, { errors, type Configuration } from 'oidc-provider';
import type { Config } from '../config/load-config.ts';
import type { Clock } from '../time/clock.ts';
import type { Database } from '../db/database.ts';
import { insertOidcRowOnce } from '../db/oidc-storage.ts';
import { clientSecretsOf, type SecretVerifier } from '../governance/client-secrets.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import { ACR_MFA, ACR_PASSWORD, ACR_PHR } from '../governance/step-up.ts';
import { CLIENT_ASSERTION_ALGS } from '../governance/client-jwks.ts';
import { assertionClaimsProblem } from '../governance/client-assertion-rules.ts';
import { createInteractionPolicy } from './step-up-prompt.ts';
import { htmlHeaders, originsOf, type Views } from '../pages/views.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { MasterKey } from '../keys/master-key.ts';
import type { Logger } from '../log/logger.ts';
import { createExtraTokenClaims, createFindAccount, createSignedClaimsRecorder, type StatusClaimSource } from './accounts-and-claims.ts';
import { createAdapterFactory, type GrantRevokedHook } from './oidc-adapter.ts';
import { accountSignInGrant, isAccountClient } from './account-session.ts';
import { createResourceIndicators, createRotateRefreshToken } from './resource-indicators.ts';
import { createTtl } from './token-lifetimes.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { ClientAuthThrottled } from '../ratelimit/client-auth-failures.ts';
import type { RateLimiter } from '../ratelimit/rate-limiter.ts';
import { slowDownFor, tokenRateLimit } from './token-rate-limit.ts';
import { formPostPage } from './form-post-page.ts';
import { createRenderError } from './render-error.ts';
import { tokenErrorCodes } from './token-error-codes.ts';
import { signOutEndsGrants } from './sign-out-revocation.ts';
import { discoveryMetadata } from './discovery-metadata.ts';
import { metadataDocumentFeature } from './client-id-metadata-documents.ts';
import { clientRegistrations, extraClientMetadata, registrationFeatures, registrationGate } from './client-registration.ts';
import { databaseOutage, protocolEvents, unknownClientTiming } from './response-wrappers.ts';
import { patchCibaPolling, patchClientSecretCheck, patchReplayDetection, registerGrants, useResponseWrappers, type ProviderWrappers } from './seams.ts';
import { tokenExchangeGrant } from './token-exchange-grant.ts';
import { recordSessionDevices } from './session-devices.ts';
import { mutualTls } from './mutual-tls.ts';
import { createOutboundFetch, FETCH_RESPONSE_BODY_LIMITS } from './outbound-fetch.ts';
import { outboundFetchFailures } from './outbound-fetch-errors.ts';
import type { AccessTokenChecker } from '../introspection/access-token-check.ts';
import { waitOutCutoff } from '../governance/revocation-state.ts';
import { cibaFeature, cibaInterval, cibaPollCheck, cibaRedeemCheck, isNobody } from './ciba.ts';
import { createCibaApproval } from './ciba-approval.ts';
import { approvalOfGrant } from '../governance/ciba-requests.ts';

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
  /** The response wrappers built by the app (audit, tracing); seams.ts says where each runs. */
  readonly wrappers: Pick<ProviderWrappers, 'responseAudit' | 'unknownClientFailures' | 'endSessionAudit' | 'tokenIssuanceSpan'>;
  readonly metrics: Pick<Metrics, 'databaseError'>;
  readonly now: Clock;
  /** Judges the access tokens a token exchange presents (introspection/access-token-check.ts). */
  readonly checker: Pick<AccessTokenChecker, 'checkAnyAudience'>;
  /** The token status list entry of each access token minted (src/statuslist). */
  readonly statusList: StatusClaimSource;
}

export function cookieKeys(master: MasterKey): string[] {
  return [master.derive('cookie-signing-v1').toString('base64url')];
}

/**
 * RFC 9449 §8 server-provided nonces: oidc-provider derives each nonce from this secret and the
 * time, so every instance must hold the same one to accept the others' nonces.
 */
function dpopNonceSecret(master: MasterKey): Buffer {
  return master.derive('dpop-nonce-v1');
}

export function createProvider(deps: ProviderDeps): Provider {
  const { config, log, keyring, policy, views } = deps;
  const defaults = { accessTokenTtl: config.accessTokenTtl, defaultResource: config.defaultResource };
  const snapshotClient = (id: string | undefined) => (id ? policy.snapshot().clients.get(id) : undefined);
  const indicators = {
    policy,
    defaults,
    now: deps.now,
    signingKid: () => keyring.signingKid(),
    mfaMaxAge: config.signIn.mfaMaxAge,
    popThreshold: config.pop.requiredSensitivity,
    cibaApproval: createCibaApproval((grantId, clientId, userId) => approvalOfGrant(deps.db, grantId, clientId, userId)),
  };

  const findAccount = createFindAccount(deps);
  const limitToken = tokenRateLimit(deps.limiter, config.rateLimits.tokenPerClient, log);

  const configuration: Configuration = {
    adapter: createAdapterFactory({ ...deps, registrations: clientRegistrations(deps), ciba: config.ciba.enabled }),
    clients: [], // every client comes from the governance catalogue
    // govauth's rules for self-registered clients' metadata run here (client-registration.ts).
    extraClientMetadata,
    jwks: { keys: keyring.privateJwks() },
    // Secrets are stored as argon2id hashes, which rules out client_secret_jwt (it needs the
    // plaintext as an HMAC key); private_key_jwt needs no secret at all (RFC 7523 §2.2);
    // tls_client_auth (RFC 8705 §2.1): a certificate from an authority the operator configured;
    // self_signed_tls_client_auth (§2.2): a certificate registered in the client's JWKS (mutual-tls.ts).
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none', 'tls_client_auth', 'self_signed_tls_client_auth'],
    // Asymmetric only (client-jwks.ts); oidc-provider's default list also has HS256.
    enabledJWA: { clientAuthSigningAlgValues: [...CLIENT_ASSERTION_ALGS] },
    // Beyond oidc-provider's own checks (signature, iss, aud, exp, jti once): a short lifetime
    // and sub = iss (governance/client-assertion-rules.ts, shared with introspection). Runs once
    // the signature is verified, so an authenticated client then spends from its token rate
    // limit, as one with a secret does in patchClientSecretCheck below.
    async assertJwtClientAuthClaimsAndHeader(ctx, claims, _header, client) {
      const problem = assertionClaimsProblem(claims, Math.floor(deps.now() / 1000));
      if (problem) throw new errors.InvalidClientAuth(problem);
      await limitToken(client.clientId, ctx);
    },
    // Every server-side fetch to a URL someone else chose (a client's jwks_uri): https only, no
    // special-use addresses, no redirects, bounded in time and size (outbound-fetch.ts).
    fetch: createOutboundFetch(config.outboundFetch),
    fetchResponseBodyLimits: { ...FETCH_RESPONSE_BODY_LIMITS },
    // No implicit or hybrid flows (RFC 9700 §2.1.2). `none` issues nothing: only the account
    // pages' own client is registered for it (account-session.ts); catalogue clients get `code`.
    responseTypes: ['code', 'none'],
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
    acrValues: [ACR_PASSWORD, ACR_MFA, ACR_PHR],
    // UserInfo is off (every access token is a JWT for a resource), so scope claims such as
    // email go into the ID token.
    conformIdTokenClaims: false,
    // Every use rotates; reuse of a used one revokes the grant (RFC 9700 §4.14.2). A refresh
    // whose scope would leave the access token empty is refused first (resource-indicators.ts).
    rotateRefreshToken: createRotateRefreshToken(indicators),
    features: {
      devInteractions: { enabled: false }, // it accepts any username and password
      clientCredentials: { enabled: true },
      // RFC 7591/7592 with GOVAUTH_DYNAMIC_REGISTRATION (client-registration.ts).
      ...registrationFeatures(config.selfRegistration),
      // Client ID Metadata Documents with GOVAUTH_CLIENT_ID_METADATA_DOCUMENTS (client-id-metadata-documents.ts).
      ...metadataDocumentFeature({ config: config.selfRegistration, db: deps.db, policy, limiter: deps.limiter, perMinute: config.rateLimits.metadataDocumentPerAddress, log }),
      mTLS: mutualTls(config.tls.clientCa, deps.now),
      // Any client may bind its tokens to a key (RFC 9449); whether it must is governance
      // (proof-of-possession.ts). With GOVAUTH_DPOP_NONCE every proof must carry a nonce the
      // server chose (§8: a proof signed in advance by a stolen key is of no use).
      dPoP: {
        enabled: true,
        ...(config.pop.dpopNonce && { nonceSecret: dpopNonceSecret(deps.master), requireNonce: () => true }),
      },
      resourceIndicators: createResourceIndicators(indicators),
      // OpenID CIBA with GOVAUTH_CIBA: agents ask people for approval out of band (ciba.ts).
      ciba: cibaFeature({ config: config.ciba, db: deps.db, policy, log, now: deps.now, limiter: deps.limiter }),
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
      if (isAccountClient(client.clientId)) return accountSignInGrant(ctx);
      const user = session.accountId ? policy.user(session.accountId) : undefined;
      await waitOutCutoff(policy.revocations, { userId: session.accountId, clientId: client.clientId, roles: user?.roles.map((r) => r.role) ?? [] }, deps.now);
      const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    ttl: createTtl(deps),
    extraTokenClaims: createExtraTokenClaims({ ...deps, popThreshold: config.pop.requiredSensitivity }),
    // Sees the final claims just before signing: the audit record gets the signed iat and exp.
    formats: { customizers: { jwt: createSignedClaimsRecorder() } },
    // At /backchannel, a login_hint naming nobody has a placeholder account, so the request is
    // answered like any other and can only expire (ciba.ts: no enumeration). Nowhere else.
    findAccount: (ctx, sub, token) => (ctx.oidc?.route === 'backchannel_authentication' && isNobody(sub) ? { accountId: sub, claims: () => ({ sub }) } : findAccount(ctx, sub, token)),
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: createInteractionPolicy({ policy, mfaMaxAge: config.signIn.mfaMaxAge, now: deps.now }),
    },
    // govauth's own error page: a sentence per error, a way back to the app (render-error.ts).
    renderError: createRenderError({ views, policy }),
  };

  const provider = new Provider(deps.issuer, configuration);
  // Before any client is loaded: clients are validated against the registered grant types.
  registerGrants(provider, [
    tokenExchangeGrant({ policy, defaults, checker: deps.checker, now: deps.now, mfaMaxAge: config.signIn.mfaMaxAge, signingKid: () => keyring.signingKid() }),
  ]);
  // Verify against the stored argon2id hash, paying argon2 once per secret (client-secrets.ts);
  // failures spend from the source address's budget first (client-auth-failures.ts), and an
  // authenticated client then spends from its token rate limit (token-rate-limit.ts).
  patchClientSecretCheck(provider, async (clientId, _storedHash, presented, ctx) => {
    // The snapshot, not oidc-provider's copy of the metadata, holds the previous secret of a
    // rotation with a grace and both instants; they are checked on every request.
    const secrets = clientSecretsOf(snapshotClient(clientId));
    try {
      const match = secrets ? await deps.verifier.verify(clientId, secrets, presented, deps.now(), ctx?.ip) : await deps.verifier.reject(undefined, ctx?.ip);
      if (!match) return false;
    } catch (err) {
      if (err instanceof ClientAuthThrottled && ctx) throw slowDownFor(ctx, err);
      throw err;
    }
    await limitToken(clientId, ctx);
    return true;
  });
  patchReplayDetection(provider, (id, iss, exp) =>
    insertOidcRowOnce(deps.db, 'ReplayDetection', id, { payload: JSON.stringify({ kind: 'ReplayDetection', jti: id, iss, exp }), grantId: null, accountId: null, clientId: null, uid: null, userCode: null, expiresAt: new Date(exp * 1000) }),
  );
  if (config.ciba.enabled) patchCibaPolling(provider, cibaPollCheck({ config: config.ciba, db: deps.db, now: deps.now }), cibaRedeemCheck(policy));
  protocolEvents(provider, log);
  recordSessionDevices(provider, { db: deps.db, log, now: deps.now });
  useResponseWrappers(provider, {
    ...deps.wrappers,
    unknownClientTiming: unknownClientTiming(deps.verifier),
    tokenErrorCodes: tokenErrorCodes(),
    outboundFetchFailures: outboundFetchFailures(),
    formPostPage: formPostPage(views, deps.issuer),
    signOutEndsGrants: deps.onGrantRevoked && signOutEndsGrants({ db: deps.db, revocations: policy.revocations, revokeGrant: deps.onGrantRevoked }),
    databaseOutage: databaseOutage(deps.metrics),
    registrationGate: registrationGate({ config: config.selfRegistration, db: deps.db, limiter: deps.limiter, perMinute: config.rateLimits.registrationPerAddress, log, now: deps.now }),
    cibaInterval: config.ciba.enabled ? cibaInterval(config.ciba) : undefined,
    discoveryMetadata: discoveryMetadata({ issuer: deps.issuer, policy, tls: config.tls }),
  });
  return provider;
}

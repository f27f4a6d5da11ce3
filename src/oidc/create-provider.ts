// Assembles the oidc-provider instance. Each non-default choice carries its reason; the
// concerns live in their own files (adapter, resource indicators, client metadata, errors).
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/load-config.ts';
import type { Database } from '../db/database.ts';
import type { SecretVerifier } from '../governance/client-secrets.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { MasterKey } from '../keys/master-key.ts';
import type { Logger } from '../log/logger.ts';
import { createAdapterFactory } from './oidc-adapter.ts';
import { renderPlainError } from './render-error.ts';
import { createResourceIndicators, decisionFor } from './resource-indicators.ts';

export interface ProviderDeps {
  readonly config: Config;
  readonly issuer: string;
  readonly log: Logger;
  readonly db: Database;
  readonly policy: PolicyStore;
  readonly keyring: Keyring;
  readonly master: MasterKey;
  readonly verifier: SecretVerifier;
  readonly now: () => number;
}

export function cookieKeys(master: MasterKey): string[] {
  return [master.derive('cookie-signing-v1').toString('base64url')];
}

export function createProvider(deps: ProviderDeps): Provider {
  const { config, log, keyring, policy } = deps;
  const defaults = { accessTokenTtl: config.accessTokenTtl, defaultResource: config.defaultResource };

  const configuration: Configuration = {
    adapter: createAdapterFactory(deps),
    clients: [], // every client comes from the governance catalogue
    jwks: { keys: keyring.privateJwks() },
    // Only secret-based methods: secrets are stored as argon2id hashes, which rules out
    // client_secret_jwt (it needs the plaintext as an HMAC key).
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    responseTypes: ['code'], // no implicit or hybrid flows (RFC 9700 §2.1.2)
    pkce: { required: () => true }, // S256 for every client, not only public ones (RFC 9700 §2.1.1)
    clientBasedCORS: () => false,
    cookies: { keys: cookieKeys(deps.master) },
    features: {
      devInteractions: { enabled: false }, // it accepts any username and password
      clientCredentials: { enabled: true },
      resourceIndicators: createResourceIndicators({ policy, defaults, now: deps.now, signingKid: () => keyring.signingKid() }),
      // govauth serves introspection and revocation itself: oidc-provider's endpoints reject JWT
      // access tokens (lib/shared/reject_structured_tokens.js).
      introspection: { enabled: false },
      revocation: { enabled: false },
      // Every access token is an RS256 JWT for a resource; UserInfo needs opaque, audience-less ones.
      userinfo: { enabled: false },
    },
    extraTokenClaims(ctx, token) {
      if (token.kind === 'ClientCredentials') {
        const decision = decisionFor(ctx);
        return decision ? { roles: [...decision.roles] } : undefined;
      }
      return undefined;
    },
    ttl: {
      // Decided by governance per request (resource TTL, scope max TTLs, role-grant expiry).
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.accessTokenTtl,
    },
    findAccount: () => undefined,
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: (ctx, out) => renderPlainError(ctx, out),
  };

  const provider = new Provider(deps.issuer, configuration);
  provider.proxy = config.trustProxy;

  // Verify against the stored argon2id hash, paying argon2 once per secret (client-secrets.ts).
  provider.Client.prototype.compareClientSecret = function compareClientSecret(this: { clientId: string; clientSecret?: string }, presented: string) {
    if (!this.clientSecret) return Promise.resolve(false);
    return deps.verifier.verify(this.clientId, this.clientSecret, presented);
  };

  provider.on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
    log.error('oidc server error', { err, route: ctx.oidc?.route, requestId: ctx.state?.requestId });
  });
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: Error & { error_detail?: string }) => {
    log.debug('token request refused', { error: err.message, detail: err.error_detail, client: ctx.oidc?.client?.clientId });
  });
  return provider;
}

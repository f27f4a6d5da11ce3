// How a client authenticates at the token endpoint and govauth's own endpoints, read from one
// place by the CLI, the admin API, the access review and the provider's client metadata.
// Methods named as in the OAuth Token Endpoint Authentication Methods registry (RFC 7591 §2),
// except that client_secret covers client_secret_basic and client_secret_post, both accepted.
// private_key_jwt (RFC 7523), tls_client_auth and self_signed_tls_client_auth (RFC 8705) join
// this list with their columns.

import { AppError } from '../errors/app-error.ts';

export const CLIENT_AUTH_METHODS = ['client_secret', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'none'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

interface AuthFacts {
  readonly secretHash: string | null;
  /** RFC 8705 §2.1.2: a registered certificate subject DN or SAN. */
  readonly tlsSubjectDn?: string | null;
  readonly tlsSan?: string | null;
  /** RFC 7523: registered public keys (a JSON text in a row, parsed in the snapshot). */
  readonly jwks?: unknown;
  /** RFC 8705 §2.2: the registered keys are certificates (x5c) presented in the TLS handshake, not assertion keys. */
  readonly tlsSelfSigned?: boolean;
  /** RFC 7591 §2: or the https URL of those keys. */
  readonly jwksUri?: string | null;
}

/**
 * Registered keys mean private_key_jwt (RFC 7523), or self_signed_tls_client_auth when they are
 * the client's certificates (RFC 8705 §2.2); a registered certificate subject means
 * tls_client_auth (§2.1); otherwise a client without a secret is public (RFC 6749 §2.1): it
 * identifies itself, it cannot prove it.
 */
export function clientAuthMethod(client: AuthFacts): ClientAuthMethod {
  if ((client.jwks !== undefined && client.jwks !== null) || (client.jwksUri ?? null) !== null) return client.tlsSelfSigned === true ? 'self_signed_tls_client_auth' : 'private_key_jwt';
  if ((client.tlsSubjectDn ?? null) !== null || (client.tlsSan ?? null) !== null) return 'tls_client_auth';
  return client.secretHash === null ? 'none' : 'client_secret';
}

/**
 * A method as an administrator names it (CLI --auth, admin API auth_method): govauth's names or
 * the registry's, client_secret_basic and client_secret_post meaning client_secret.
 */
export function parseClientAuthMethod(raw: string): ClientAuthMethod {
  const name = raw.trim();
  if (name === 'client_secret_basic' || name === 'client_secret_post') return 'client_secret';
  if (!(CLIENT_AUTH_METHODS as readonly string[]).includes(name)) throw new AppError('invalid_request', `unknown authentication method ${JSON.stringify(raw.slice(0, 60))}: one of ${CLIENT_AUTH_METHODS.join(', ')}`);
  return name as ClientAuthMethod;
}

/** The method's name in the RFC 7591 registry, as oidc-provider and discovery spell it (a secret: client_secret_basic, client_secret_post also accepted). */
export type TokenEndpointAuthMethod = Exclude<ClientAuthMethod, 'client_secret'> | 'client_secret_basic';
export function tokenEndpointAuthMethod(client: AuthFacts): TokenEndpointAuthMethod {
  const m = clientAuthMethod(client);
  return m === 'client_secret' ? 'client_secret_basic' : m;
}

/** Whether the client proves itself with a copyable shared secret (the access review flags these). */
export const usesSharedSecret = (client: AuthFacts): boolean => clientAuthMethod(client) === 'client_secret';

/** Whether the client authenticates with a TLS client certificate (RFC 8705 §2), at the token endpoint only. */
export const usesClientCertificate = (client: AuthFacts): boolean => {
  const m = clientAuthMethod(client);
  return m === 'tls_client_auth' || m === 'self_signed_tls_client_auth';
};

/**
 * Whether every access token of the client is bound to a key it holds, so a copied token is
 * useless without that key: certificate-bound tokens (RFC 8705 §3), or proof of possession
 * required of it (`--require-pop`, proof-of-possession.ts).
 */
export const requiresProofOfPossession = (client: { readonly tlsBoundTokens?: boolean; readonly requirePop?: boolean }): boolean =>
  client.tlsBoundTokens === true || client.requirePop === true;

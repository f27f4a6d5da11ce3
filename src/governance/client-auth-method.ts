// How a client authenticates at the token endpoint and govauth's own endpoints, read from one
// place by the CLI, the admin API, the access review and the provider's client metadata.
// Methods named as in the OAuth Token Endpoint Authentication Methods registry (RFC 7591 §2),
// except that client_secret covers client_secret_basic and client_secret_post, both accepted.
// private_key_jwt (RFC 7523) and tls_client_auth (RFC 8705) join this list with their columns.

export const CLIENT_AUTH_METHODS = ['client_secret', 'none'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/** A client without a secret is public (RFC 6749 §2.1): it identifies itself, it cannot prove it. */
export function clientAuthMethod(client: { readonly secretHash: string | null }): ClientAuthMethod {
  return client.secretHash === null ? 'none' : 'client_secret';
}

/** Whether the client proves itself with a copyable shared secret (the access review flags these). */
export const usesSharedSecret = (client: { readonly secretHash: string | null }): boolean => clientAuthMethod(client) === 'client_secret';

/**
 * Whether every access token of the client is bound to a key it holds (RFC 9449 DPoP or RFC 8705
 * mTLS), so a copied token is useless without that key. No client can require binding yet: the
 * dpop branch adds ClientDef.requirePop (and the mtls branch certificate-bound tokens); return
 * them here and the access review stops flagging those clients.
 */
export const requiresProofOfPossession = (_client: { readonly id: string }): boolean => false;

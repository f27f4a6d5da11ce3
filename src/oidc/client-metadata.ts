// Maps a govauth client (from the in-memory policy snapshot) to oidc-provider client metadata.
// Clients are served from memory: oidc-provider calls adapter('Client').find on every request
// (docs § clients), which would otherwise be a database read per token.
import type { ClientMetadata } from 'oidc-provider';
import { tokenEndpointAuthMethod } from '../governance/client-auth-method.ts';
import type { ClientDef } from '../governance/policy-model.ts';
import { tlsClientAuthMetadata } from './mutual-tls.ts';
import { CIBA_GRANT } from '../governance/client-ciba.ts';

/** `cibaEnabled`: GOVAUTH_CIBA; without it no client is given the CIBA grant (oidc-provider would refuse the client's metadata). */
export function toClientMetadata(client: ClientDef, cibaEnabled = false): ClientMetadata | undefined {
  if (client.disabled) return undefined; // a disabled client does not exist for the protocol: invalid_client
  const codeFlow = client.grantTypes.includes('authorization_code');
  return {
    client_id: client.id,
    client_name: client.name,
    // The argon2id hash: compareClientSecret is overridden to verify against it (oidc/seams.ts patchClientSecretCheck, governance/client-secrets.ts).
    ...(client.secretHash !== null && { client_secret: client.secretHash }),
    // private_key_jwt (RFC 7523 §2.2): assertions verified against the registered public keys;
    // self_signed_tls_client_auth (RFC 8705 §2.2): the certificate presented must be one of their x5c.
    token_endpoint_auth_method: tokenEndpointAuthMethod(client),
    ...(client.jwks && { jwks: { keys: client.jwks.keys.map((k) => ({ ...k })) } }),
    // Or fetched and cached by oidc-provider through outbound-fetch.ts (refetched when stale and an unknown kid arrives).
    ...(client.jwksUri && { jwks_uri: client.jwksUri }),
    // RFC 8705 §2.1.2: authenticates with a certificate carrying its registered subject; no secret.
    ...tlsClientAuthMetadata(client.tlsSubjectDn ?? null, client.tlsSan ?? null),
    ...(client.tlsBoundTokens === true && { tls_client_certificate_bound_access_tokens: true }),
    // A self-registered client redirecting anywhere but https is a native app (RFC 8252 §7.3,
    // dynamic-registration.ts): loopback redirects then match on any port.
    ...(client.selfRegistered && { application_type: client.redirectUris.every((u) => u.startsWith('https:')) ? 'web' : 'native' }),
    // OpenID CIBA Core §4: an administrator's choice (governance/client-ciba.ts); others get
    // unauthorized_client at /backchannel (oidc-provider checks the grant type).
    grant_types: cibaEnabled && client.ciba ? [...client.grantTypes, CIBA_GRANT] : [...client.grantTypes],
    ...(cibaEnabled && client.ciba && { backchannel_token_delivery_mode: client.ciba.mode }),
    ...(cibaEnabled && client.ciba?.notificationEndpoint && { backchannel_client_notification_endpoint: client.ciba.notificationEndpoint }),
    response_types: codeFlow ? ['code'] : [],
    redirect_uris: [...client.redirectUris],
    post_logout_redirect_uris: [...client.postLogoutRedirectUris],
  };
}

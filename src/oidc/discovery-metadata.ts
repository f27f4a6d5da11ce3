// The one place govauth changes oidc-provider's discovery document (OpenID Connect Discovery
// 1.0 §3; served as RFC 8414 metadata too, app.ts). oidc-provider builds it from its static
// configuration, which knows neither the endpoints govauth serves itself nor the governance
// catalogue, and the catalogue changes at runtime (the change feed), so the body is completed on
// every request from the live snapshot.
import type { Middleware } from 'koa';
import { readsClientCertificates, type TlsConfig } from '../config/tls-config.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import { INTROSPECTION_PATH, REVOCATION_PATH } from '../introspection/token-endpoints.ts';
import { CLIENT_ASSERTION_ALGS } from '../governance/client-jwks.ts';
import { STATUS_LIST_PATH } from '../statuslist/status-lists.ts';
import { protocolOf } from './seams.ts';

/**
 * Scopes a client may ask for (RFC 8414 §2 scopes_supported): the OpenID Connect ones
 * oidc-provider lists, then every scope some resource offers. A scope on no resource can never
 * be granted, so it is not advertised.
 */
function scopesSupported(policy: PolicyStore, protocolScopes: readonly string[]): string[] {
  const offered = new Set<string>();
  for (const resource of policy.snapshot().resources.values()) for (const scope of resource.scopes) offered.add(scope);
  return [...new Set([...protocolScopes, ...[...offered].sort()])];
}

/** The endpoints a client calls with its certificate (RFC 8705 §5), as discovery names them. */
const MTLS_ENDPOINTS = [
  'token_endpoint',
  'revocation_endpoint',
  'introspection_endpoint',
  'userinfo_endpoint',
  'pushed_authorization_request_endpoint',
  'device_authorization_endpoint',
  'backchannel_authentication_endpoint',
] as const;

/**
 * RFC 8705 §5: where certificates are presented at another origin than the issuer's (a
 * listener or proxy that asks for them, so the issuer's own need not, for browsers' sake), the
 * same endpoints at that origin. Absent when they would be the same URLs.
 */
function mtlsEndpointAliases(body: Record<string, unknown>, issuer: string, mtlsOrigin: string | undefined): Record<string, string> | undefined {
  const issuerOrigin = new URL(issuer).origin;
  if (mtlsOrigin === undefined || mtlsOrigin === issuerOrigin) return undefined;
  const aliases: Record<string, string> = {};
  for (const name of MTLS_ENDPOINTS) {
    const url = body[name];
    // The same path at the other origin (oidc-provider writes the endpoints from the request's view of the issuer).
    if (typeof url === 'string' && URL.canParse(url)) aliases[name] = `${mtlsOrigin}${new URL(url).pathname}`;
  }
  return aliases;
}

/** Each mutual TLS method needs its setting: tls_client_auth a client CA, self_signed_tls_client_auth certificates read at all (mutual-tls.ts). */
function unavailableAuthMethods(tls: Pick<TlsConfig, 'clientCa' | 'selfSignedClients'>): string[] {
  return [...(tls.clientCa === undefined ? ['tls_client_auth'] : []), ...(readsClientCertificates(tls) ? [] : ['self_signed_tls_client_auth'])];
}

export function discoveryMetadata(deps: { issuer: string; policy: PolicyStore; tls: Pick<TlsConfig, 'clientCa' | 'selfSignedClients' | 'mtlsOrigin'> }): Middleware {
  const unavailable = unavailableAuthMethods(deps.tls);
  return async (ctx, next) => {
    await next();
    const route = protocolOf(ctx)?.route;
    if (route !== 'discovery' || !ctx.body || typeof ctx.body !== 'object') return;
    const body = ctx.body as Record<string, unknown>;
    const protocolScopes = Array.isArray(body.scopes_supported) ? body.scopes_supported.map(String) : [];
    Object.assign(body, {
      scopes_supported: scopesSupported(deps.policy, protocolScopes),
      // Introspection and revocation are govauth's own endpoints (token-endpoints.ts).
      introspection_endpoint: `${deps.issuer}${INTROSPECTION_PATH}`,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      introspection_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGS],
      introspection_signing_alg_values_supported: ['RS256'],
      revocation_endpoint: `${deps.issuer}${REVOCATION_PATH}`,
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
      revocation_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGS],
      // Every access token names its status list (draft-ietf-oauth-status-list-20 §9.1, §14.6).
      status_list_aggregation_endpoint: `${deps.issuer}${STATUS_LIST_PATH}`,
    });
    // RFC 8705 §3.3, §2.3: advertised only where a certificate can be presented.
    if (!readsClientCertificates(deps.tls)) delete body.tls_client_certificate_bound_access_tokens;
    if (Array.isArray(body.token_endpoint_auth_methods_supported)) body.token_endpoint_auth_methods_supported = body.token_endpoint_auth_methods_supported.filter((m) => !unavailable.includes(String(m)));
    const aliases = readsClientCertificates(deps.tls) ? mtlsEndpointAliases(body, deps.issuer, deps.tls.mtlsOrigin) : undefined;
    if (aliases) body.mtls_endpoint_aliases = aliases;
  };
}

// How a client authenticates, as registered (RFC 7591 §2 token_endpoint_auth_method): the
// credentials a registration names (keys, keys' URL, a certificate subject, or none of them: a
// secret, or nothing for a public client), checked against each other and the method asked for.
// One place for these rules, whether the client is being created (client-registry.ts
// createClient) or its method changed afterwards (client-auth-change.ts).
import { AppError } from '../errors/app-error.ts';
import { clientAuthMethod, parseClientAuthMethod, type ClientAuthMethod } from './client-auth-method.ts';
import { checkSan, checkSubjectDn, type SanKind } from './client-certificates.ts';
import { checkClientJwks, checkJwksUri, checkSelfSignedJwks, type PublicJwks } from './client-jwks.ts';
import type { OutboundUrlRules } from './outbound-url.ts';

export interface TlsInput {
  readonly subjectDn?: string;
  readonly san?: { readonly kind: SanKind; readonly value: string };
  readonly boundTokens?: boolean;
}

/** What a registration gives for its authentication (CreateClientInput's fields of the same names). */
export interface AuthInput {
  readonly authMethod?: string;
  readonly jwks?: unknown;
  readonly jwksUri?: string;
  readonly tls?: TlsInput;
}

/** The client, as far as the rules need it. */
interface Registering {
  readonly isPublic: boolean;
  /** A resource server that introspects (introspect_audience). */
  readonly introspect: boolean;
  readonly grants: readonly string[];
}

/** The checked credentials, as the client's columns hold them. */
export interface AuthRegistration {
  readonly jwks: PublicJwks | null;
  readonly jwksUri: string | null;
  readonly tlsSubjectDn: string | null;
  readonly tlsSan: string | null;
  readonly tlsBoundTokens: boolean;
  readonly tlsSelfSigned: boolean;
  /**
   * No shared secret for a public client, a mutual TLS client (its certificate) or a
   * private_key_jwt client (its keys): nothing shared exists that could leak.
   */
  readonly secretless: boolean;
}

/**
 * RFC 8705 §2.1.2: exactly one registered subject. A mutual TLS client is confidential (not
 * --public), and govauth's own introspection authenticates resource servers by secret only.
 */
function checkTls(input: TlsInput | undefined, c: { isPublic: boolean; introspect: boolean; grants: readonly string[] }): { tlsSubjectDn: string | null; tlsSan: string | null; tlsBoundTokens: boolean } {
  const tlsSubjectDn = input?.subjectDn === undefined ? null : checkSubjectDn(input.subjectDn);
  const tlsSan = input?.san === undefined ? null : checkSan(input.san.kind, input.san.value);
  const tlsBoundTokens = input?.boundTokens === true;
  if (tlsSubjectDn !== null && tlsSan !== null) throw new AppError('invalid_request', 'register the certificate by one subject: --tls-subject-dn or one --tls-san-* (RFC 8705 §2.1.2), not both');
  if (tlsSubjectDn !== null || tlsSan !== null) {
    if (c.isPublic) throw new AppError('invalid_request', 'a client that authenticates with a TLS certificate is not public: drop --public');
    if (c.introspect) throw new AppError('invalid_request', 'resource servers authenticate to introspection with a secret; mutual TLS applies to clients that obtain tokens');
  }
  if (tlsBoundTokens && !c.grants.length) throw new AppError('invalid_request', '--bind-certificate applies to a client that obtains tokens');
  return { tlsSubjectDn, tlsSan, tlsBoundTokens };
}

/**
 * The method the registration asks for must be the one its credentials make (one way per
 * client). self_signed_tls_client_auth turns registered keys into registered certificates:
 * at least one with x5c (RFC 8705 §2.2.2), and its tokens are always certificate-bound (§3;
 * the certificate is presented on every token request anyway).
 */
function checkAuthMethod(asked: string | undefined, c: { isPublic: boolean; introspect: boolean; jwks: PublicJwks | null; jwksUri: string | null; tlsSubjectDn: string | null; tlsSan: string | null }): { tlsSelfSigned: boolean } {
  const method = asked === undefined ? undefined : parseClientAuthMethod(asked);
  const tlsSelfSigned = method === 'self_signed_tls_client_auth';
  if (tlsSelfSigned) {
    // The certificates are registered, not fetched: a jwks_uri would let whoever controls that URL
    // add a certificate that authenticates as this client.
    if (c.jwks === null) throw new AppError('invalid_request', 'self_signed_tls_client_auth needs the client certificate: --jwks-file with a key whose x5c holds it (RFC 8705 §2.2); --jwks-uri is not accepted for it');
    checkSelfSignedJwks(c.jwks);
    if (c.introspect) throw new AppError('invalid_request', 'resource servers authenticate to introspection with a secret or private_key_jwt; mutual TLS applies to clients that obtain tokens');
  }
  const made = clientAuthMethod({ secretHash: c.isPublic ? null : 'a secret', jwks: c.jwks, jwksUri: c.jwksUri, tlsSelfSigned, tlsSubjectDn: c.tlsSubjectDn, tlsSan: c.tlsSan });
  if (method !== undefined && method !== made) {
    const how: Record<ClientAuthMethod, string> = {
      client_secret: 'no --public, --jwks-file, --jwks-uri or certificate subject',
      private_key_jwt: '--jwks-file or --jwks-uri',
      tls_client_auth: '--tls-subject-dn or one --tls-san-*',
      self_signed_tls_client_auth: '--jwks-file with x5c',
      none: '--public',
    };
    throw new AppError('invalid_request', `the authentication method ${method} (--auth, auth_method) contradicts the other options, which register a ${made} client: ${method} takes ${how[method]}`);
  }
  return { tlsSelfSigned };
}

/** The credentials `input` registers for a client `c`, or invalid_request naming the contradiction. */
export function checkAuthRegistration(input: AuthInput, c: Registering, urlRules: OutboundUrlRules): AuthRegistration {
  const jwks = input.jwks === undefined ? null : checkClientJwks(input.jwks);
  const jwksUri = input.jwksUri === undefined ? null : checkJwksUri(input.jwksUri, urlRules);
  if (jwks && jwksUri) throw new AppError('invalid_request', 'register the keys one way: --jwks-file (the keys) or --jwks-uri (where they are published), not both');
  const keyed = jwks !== null || jwksUri !== null;
  if (jwksUri && c.introspect) throw new AppError('invalid_request', '--jwks-uri applies to clients that obtain tokens; a resource server that introspects registers its keys with --jwks-file');
  if (keyed && c.isPublic) throw new AppError('invalid_request', 'a client with registered keys (private_key_jwt) is not public: choose one of --public and --jwks-file');
  const tls = checkTls(input.tls, c);
  if (keyed && (tls.tlsSubjectDn !== null || tls.tlsSan !== null)) throw new AppError('invalid_request', 'a client authenticates one way: registered keys (--jwks-file or --jwks-uri) or a TLS certificate (--tls-subject-dn / --tls-san-*), not both');
  const { tlsSelfSigned } = checkAuthMethod(input.authMethod, { isPublic: c.isPublic, introspect: c.introspect, jwks, jwksUri, ...tls });
  return {
    jwks,
    jwksUri,
    ...tls,
    tlsBoundTokens: tls.tlsBoundTokens || tlsSelfSigned,
    tlsSelfSigned,
    secretless: c.isPublic || keyed || tls.tlsSubjectDn !== null || tls.tlsSan !== null,
  };
}

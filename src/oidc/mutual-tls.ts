// Mutual TLS (RFC 8705) in oidc-provider: tls_client_auth (§2.1), self_signed_tls_client_auth
// (§2.2) and certificate-bound access tokens (§3, cnf x5t#S256). The certificate is whatever the
// request presented through govauth's TLS listener or a trusted proxy
// (http/client-certificate.ts); for tls_client_auth, whether it is trusted and whose it is, is
// decided by governance/client-certificates.ts. For self_signed_tls_client_auth oidc-provider
// itself compares its SHA-256 thumbprint with the x5c certificates of the client's registered
// JWKS (governance/client-jwks.ts checks them at registration): no authority is involved, the
// registration is the trust.
//
// The feature is always on so client metadata that names it stays valid whatever the
// deployment; when no certificate is read (neither GOVAUTH_TLS_CLIENT_CA nor
// GOVAUTH_TLS_SELF_SIGNED_CLIENTS) a mutual TLS client is refused (invalid_client), a
// certificate-bound one gets invalid_grant, and discovery does not advertise them
// (discovery-metadata.ts).
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { Clock } from '../time/clock.ts';
import { createCertificateTrust, parseCertificates, parseStoredSan, sanMatches, subjectDnMatches } from '../governance/client-certificates.ts';

type MtlsFeature = NonNullable<NonNullable<Configuration['features']>['mTLS']>;

/** oidc-provider's name for each registered subject (RFC 8705 §2.1.2) → govauth's stored SAN kind. */
const SAN_PROPERTIES: Record<string, 'dns' | 'uri' | 'ip' | 'email'> = {
  tls_client_auth_san_dns: 'dns',
  tls_client_auth_san_uri: 'uri',
  tls_client_auth_san_ip: 'ip',
  tls_client_auth_san_email: 'email',
};

export function mutualTls(clientCa: string | undefined, now: Clock): MtlsFeature {
  const trust = createCertificateTrust(clientCa === undefined ? [] : parseCertificates(clientCa));
  const certificate = (ctx: KoaContextWithOIDC) => ctx.state.clientCertificate;
  return {
    enabled: true,
    certificateBoundAccessTokens: true,
    tlsClientAuth: true,
    selfSignedTlsClientAuth: true,
    getCertificate: certificate,
    certificateAuthorized(ctx) {
      const cert = certificate(ctx);
      return cert !== undefined && trust.authorized(cert, now());
    },
    certificateSubjectMatches(ctx, property, expected) {
      const cert = certificate(ctx);
      if (!cert) return false;
      if (property === 'tls_client_auth_subject_dn') return subjectDnMatches(cert, expected);
      const kind = SAN_PROPERTIES[property];
      return kind !== undefined && sanMatches(cert, kind, expected);
    },
  };
}

/** The oidc-provider client metadata of a client's registered certificate subject (stored as in client-certificates.ts). */
export function tlsClientAuthMetadata(subjectDn: string | null, san: string | null): Record<string, string> | undefined {
  if (subjectDn !== null) return { token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: subjectDn };
  if (san === null) return undefined;
  const { kind, value } = parseStoredSan(san);
  return { token_endpoint_auth_method: 'tls_client_auth', [`tls_client_auth_san_${kind}`]: value };
}

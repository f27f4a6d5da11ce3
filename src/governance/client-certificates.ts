// Mutual TLS client authentication (RFC 8705 §2.1): which certificate authorities the operator
// trusts for client certificates (GOVAUTH_TLS_CLIENT_CA), and whether a certificate carries the
// subject a client registered. Judged per request, never by the TLS layer: the listener asks for
// a certificate without requiring one (browsers are unaffected), and behind a proxy the
// certificate arrives in a header (src/http/client-certificate.ts).
import { X509Certificate } from 'node:crypto';
import { AppError } from '../errors/app-error.ts';

/** id-kp-clientAuth (RFC 5280 §4.2.1.12). */
const CLIENT_AUTH_EKU = '1.3.6.1.5.5.7.3.2';

export interface CertificateTrust {
  /**
   * Issued and signed by one of the configured authorities, within its validity period (and
   * the authority within its own), and not restricted to other purposes than client
   * authentication. The bundle is the set of trusted issuers: an intermediate authority is
   * trusted by listing it.
   */
  authorized(cert: X509Certificate, now: number): boolean;
}

export function parseCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

const within = (cert: X509Certificate, now: number): boolean => Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);

export function createCertificateTrust(authorities: readonly X509Certificate[]): CertificateTrust {
  return {
    authorized(cert, now) {
      if (!within(cert, now)) return false;
      if (cert.keyUsage !== undefined && !cert.keyUsage.includes(CLIENT_AUTH_EKU)) return false;
      return authorities.some((ca) => ca.ca && within(ca, now) && cert.checkIssued(ca) && cert.verify(ca.publicKey));
    },
  };
}

/** The registered subject kinds, as RFC 8705 §2.1.2 names them (tls_client_auth_san_<kind>). */
const SAN_KINDS = ['dns', 'uri', 'ip', 'email'] as const;
export type SanKind = (typeof SAN_KINDS)[number];

/** How node:crypto prints each kind in X509Certificate.subjectAltName. */
const SAN_PREFIX: Record<SanKind, string> = { dns: 'DNS:', uri: 'URI:', ip: 'IP Address:', email: 'email:' };

/** A registered SAN as stored (`dns:bot.example`), split into kind and value. */
export function parseStoredSan(stored: string): { kind: SanKind; value: string } {
  const at = stored.indexOf(':');
  const kind = stored.slice(0, at) as SanKind;
  if (!SAN_KINDS.includes(kind)) throw new TypeError(`not a stored SAN: ${stored}`);
  return { kind, value: stored.slice(at + 1) };
}

/** A SAN as the admin API takes it, the way it is shown (`dns:bot.example`): its kind and value, or invalid_request. */
export function splitSan(raw: string): { kind: SanKind; value: string } {
  const at = raw.indexOf(':');
  const kind = raw.slice(0, Math.max(at, 0)).trim().toLowerCase() as SanKind;
  if (at < 1 || !SAN_KINDS.includes(kind)) throw new AppError('invalid_request', `tls_san ${JSON.stringify(raw.slice(0, 60))}: expected <kind>:<value> with kind one of ${SAN_KINDS.join(', ')} (dns:bot.example)`);
  checkSan(kind, raw.slice(at + 1));
  return { kind, value: raw.slice(at + 1).trim() };
}

/**
 * RFC 4514 order (most specific first, comma-separated: `CN=bot,O=Example`, as `openssl x509
 * -noout -subject -nameopt RFC2253` prints it) → node:crypto's order (one RDN a line, most
 * significant first). Attribute types are case-insensitive; values are compared as written.
 */
function dnLines(dn: string): string[] {
  return dn
    .split(/(?<!\\),/)
    .map((rdn) => rdn.trim().replace(/^([A-Za-z0-9.]+)\s*=\s*/, (_m, type: string) => `${type.toUpperCase()}=`))
    .filter(Boolean);
}

export function checkSubjectDn(raw: string): string {
  const dn = raw.trim();
  const rdns = dnLines(dn);
  if (!rdns.length || dn.length > 1000 || rdns.some((rdn) => !/^[A-Z0-9.]+=./.test(rdn))) {
    throw new AppError('invalid_request', `--tls-subject-dn ${JSON.stringify(raw)}: expected an RFC 4514 distinguished name such as CN=bot,O=Example`);
  }
  return dn;
}

export function checkSan(kind: SanKind, raw: string): string {
  const value = raw.trim();
  if (!value || value.length > 500 || /[\s,"]/.test(value)) throw new AppError('invalid_request', `--tls-san-${kind} ${JSON.stringify(raw)}: expected one ${kind} name without spaces, commas or quotes`);
  return `${kind}:${value}`;
}

/** RFC 8705 §2.1.2: the certificate's subject DN equals the registered one. */
export function subjectDnMatches(cert: X509Certificate, registered: string): boolean {
  const actual = cert.subject.split('\n').map((rdn) => rdn.replace(/^([A-Za-z0-9.]+)=/, (_m, type: string) => `${type.toUpperCase()}=`));
  const expected = dnLines(registered).reverse();
  return actual.length === expected.length && actual.every((rdn, i) => rdn === expected[i]);
}

/** RFC 8705 §2.1.2: one of the certificate's SAN entries of the registered kind equals the registered value. */
export function sanMatches(cert: X509Certificate, kind: SanKind, value: string): boolean {
  const entries = (cert.subjectAltName ?? '').split(/, (?=(?:DNS|URI|IP Address|email|othername|DirName|Registered ID):)/);
  const prefix = SAN_PREFIX[kind];
  return entries.some((entry) => {
    if (!entry.startsWith(prefix)) return false;
    const printed = entry.slice(prefix.length);
    // Values with characters that would be ambiguous are printed as JSON strings.
    const actual = printed.startsWith('"') ? (JSON.parse(printed) as string) : printed;
    return kind === 'dns' || kind === 'email' ? actual.toLowerCase() === value.toLowerCase() : actual === value;
  });
}

// TLS on govauth's own listener (GOVAUTH_TLS_CERT, GOVAUTH_TLS_KEY) and mutual TLS (RFC 8705):
// the certificate authorities trusted for client certificates (GOVAUTH_TLS_CLIENT_CA, §2.1),
// self-signed client certificates registered in a client's JWKS (GOVAUTH_TLS_SELF_SIGNED_CLIENTS,
// §2.2), and the origin where clients present them when it is not the issuer's
// (GOVAUTH_MTLS_ORIGIN, §5). The files are read and parsed here, at start, so a wrong path or a
// broken PEM is a configuration error rather than a failed handshake later.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EnvValueError, parseBoolean, parseHttpUrl } from './env-parsers.ts';
import type { Read } from './env-reader.ts';

export interface TlsConfig {
  /** PEM certificate chain and private key of govauth's own https listener; undefined: plain http. */
  readonly listener: { readonly cert: string; readonly key: string } | undefined;
  /** PEM bundle of the authorities that issue client certificates; undefined: mutual TLS off. */
  readonly clientCa: string | undefined;
  /** self_signed_tls_client_auth without a client CA: certificates are read whatever their issuer. */
  readonly selfSignedClients: boolean;
  /** RFC 8705 §5: the https origin where clients present certificates; undefined: the issuer's. */
  readonly mtlsOrigin: string | undefined;
}

/**
 * Whether govauth reads client certificates at all: a CA for tls_client_auth, or self-signed
 * client certificates accepted. Otherwise the Client-Cert header is dropped and the listener
 * does not ask for a certificate.
 */
export const readsClientCertificates = (tls: Pick<TlsConfig, 'clientCa' | 'selfSignedClients'>): boolean => tls.clientCa !== undefined || tls.selfSignedClients;

/** An https origin (no path): where the mutual TLS endpoint aliases point. */
function parseOrigin(raw: string): string {
  const url = new URL(parseHttpUrl(raw));
  if (url.protocol !== 'https:') throw new EnvValueError('must be an https origin: a client certificate is presented in a TLS handshake');
  if (url.pathname !== '/') throw new EnvValueError('must be an origin without a path (e.g. https://mtls.auth.example.com)');
  return url.origin;
}

export function readPem(base: string, check: (pem: string) => void): (raw: string) => string {
  return (raw) => {
    const path = resolve(base, raw.trim());
    let pem: string;
    try {
      pem = readFileSync(path, 'utf8');
    } catch (err) {
      throw new EnvValueError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    check(pem);
    return pem;
  };
}

export function checkCertificates(pem: string): void {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (!blocks.length) throw new EnvValueError('holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      throw new EnvValueError('holds a certificate that cannot be parsed');
    }
  }
}

function checkKey(pem: string): void {
  try {
    createPrivateKey(pem);
  } catch {
    throw new EnvValueError('holds no PEM private key that can be read (an encrypted key is not supported)');
  }
}

export function readTls(read: Read, problems: string[], base: string, trustProxy: boolean): TlsConfig {
  const cert = read<string | undefined>('GOVAUTH_TLS_CERT', undefined, readPem(base, checkCertificates));
  const key = read<string | undefined>('GOVAUTH_TLS_KEY', undefined, readPem(base, checkKey));
  const clientCa = read<string | undefined>('GOVAUTH_TLS_CLIENT_CA', undefined, readPem(base, checkCertificates));
  const selfSignedClients = read('GOVAUTH_TLS_SELF_SIGNED_CLIENTS', false, parseBoolean);
  const mtlsOrigin = read<string | undefined>('GOVAUTH_MTLS_ORIGIN', undefined, parseOrigin);
  if ((cert === undefined) !== (key === undefined)) problems.push('GOVAUTH_TLS_CERT and GOVAUTH_TLS_KEY go together: set both (govauth serves https) or neither');
  // A certificate reaches govauth through its own TLS listener or a trusted proxy's header.
  for (const [name, set] of [['GOVAUTH_TLS_CLIENT_CA', clientCa !== undefined], ['GOVAUTH_TLS_SELF_SIGNED_CLIENTS', selfSignedClients]] as const) {
    if (set && cert === undefined && !trustProxy) {
      problems.push(`${name} is set but no client certificate can arrive: set GOVAUTH_TLS_CERT and GOVAUTH_TLS_KEY (govauth terminates TLS) or GOVAUTH_TRUST_PROXY=true (a proxy passes the Client-Cert header)`);
    }
  }
  if (mtlsOrigin !== undefined && !readsClientCertificates({ clientCa, selfSignedClients })) {
    problems.push('GOVAUTH_MTLS_ORIGIN is set but mutual TLS is off: set GOVAUTH_TLS_CLIENT_CA and/or GOVAUTH_TLS_SELF_SIGNED_CLIENTS=true');
  }
  return { listener: cert !== undefined && key !== undefined ? { cert, key } : undefined, clientCa, selfSignedClients, mtlsOrigin };
}

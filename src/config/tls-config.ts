// TLS on govauth's own listener (GOVAUTH_TLS_CERT, GOVAUTH_TLS_KEY) and the certificate
// authorities trusted for client certificates (GOVAUTH_TLS_CLIENT_CA, mutual TLS per RFC 8705):
// the files are read and parsed here, at start, so a wrong path or a broken PEM is a
// configuration error rather than a failed handshake later.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EnvValueError } from './env-parsers.ts';
import type { Read } from './env-reader.ts';

export interface TlsConfig {
  /** PEM certificate chain and private key of govauth's own https listener; undefined: plain http. */
  readonly listener: { readonly cert: string; readonly key: string } | undefined;
  /** PEM bundle of the authorities that issue client certificates; undefined: mutual TLS off. */
  readonly clientCa: string | undefined;
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
  if ((cert === undefined) !== (key === undefined)) problems.push('GOVAUTH_TLS_CERT and GOVAUTH_TLS_KEY go together: set both (govauth serves https) or neither');
  // A certificate reaches govauth through its own TLS listener or a trusted proxy's header.
  if (clientCa !== undefined && cert === undefined && !trustProxy) {
    problems.push('GOVAUTH_TLS_CLIENT_CA is set but no client certificate can arrive: set GOVAUTH_TLS_CERT and GOVAUTH_TLS_KEY (govauth terminates TLS) or GOVAUTH_TRUST_PROXY=true (a proxy passes the Client-Cert header)');
  }
  return { listener: cert !== undefined && key !== undefined ? { cert, key } : undefined, clientCa };
}

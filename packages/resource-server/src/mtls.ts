// Certificate-bound access tokens (RFC 8705 §3): the token's cnf["x5t#S256"] is the SHA-256
// thumbprint of the client certificate the request came with, taken from the TLS connection or,
// behind a TLS-terminating proxy, from the header the proxy sets (RFC 9440 Client-Cert).
import { createHash, X509Certificate } from 'node:crypto';
import { invalidToken } from './errors.ts';
import type { RequestFacts } from './request.ts';

export interface MtlsRules {
  /**
   * The header a trusted proxy puts the client certificate in (RFC 9440 §2.2 `Client-Cert`).
   * Only for a proxy that overwrites it on every request: a client that can set it itself can
   * claim any certificate, and certificates are not secret.
   */
  readonly certificateHeader: string | undefined;
}

/** RFC 8705 §3.1: base64url(SHA-256(DER)). */
export const certificateThumbprint = (der: Buffer): string => createHash('sha256').update(der).digest('base64url');

// RFC 9440 §2.2 / RFC 8941 §3.3.5: a Byte Sequence, standard base64 between colons.
const BYTE_SEQUENCE = /^:([A-Za-z0-9+/]+={0,2}):$/;

/** The DER certificate in an RFC 9440 Client-Cert value, or undefined if it is not one. */
export function certificateFromHeader(value: string): Buffer | undefined {
  const match = BYTE_SEQUENCE.exec(value.trim());
  if (!match?.[1]) return undefined;
  const der = Buffer.from(match[1], 'base64');
  try {
    new X509Certificate(der);
    return der;
  } catch {
    return undefined;
  }
}

function clientCertificate(facts: RequestFacts, rules: MtlsRules): Buffer | undefined {
  if (rules.certificateHeader) {
    const values = facts.headers[rules.certificateHeader.toLowerCase()] ?? [];
    return values.length === 1 && values[0] ? certificateFromHeader(values[0]) : undefined;
  }
  try {
    return facts.peerCertificate?.();
  } catch {
    return undefined;
  }
}

export function checkCertificateBinding(expected: string, facts: RequestFacts, rules: MtlsRules): void {
  const der = clientCertificate(facts, rules);
  if (!der?.length) throw invalidToken('The access token is bound to a client certificate and none was presented');
  if (certificateThumbprint(der) !== expected) throw invalidToken('The access token is bound to another client certificate');
}

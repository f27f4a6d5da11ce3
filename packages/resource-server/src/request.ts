// What the core needs to know about an HTTP request, independent of the framework, and the
// credentials it carries (RFC 6750 §2, RFC 9449 §7.1). Every malformed shape is a Refused, never
// an exception of another kind.
import { invalidProof, invalidRequest, type Scheme } from './errors.ts';

export interface RequestFacts {
  readonly method: string;
  /** The request target as received (node's `req.url`): a path and query, or an absolute URL. */
  readonly url: string;
  /** Every value received for each header, by lower-case name (node's `req.headersDistinct`). */
  readonly headers: Readonly<Record<string, readonly string[] | undefined>>;
  /** The connection is TLS (for the request's own URL when no public origin is configured). */
  readonly tls?: boolean;
  /** A parsed body carries `access_token` (RFC 6750 §2.2), a method this kit does not accept. */
  readonly bodyToken?: boolean;
  /** The client certificate of the TLS connection, DER (RFC 8705 §3). */
  readonly peerCertificate?: () => Buffer | undefined;
}

export interface Credentials {
  readonly scheme: Scheme;
  readonly token: string;
  /** The DPoP proof (RFC 9449 §4.1), with the DPoP scheme only. */
  readonly proof: string | undefined;
}

const MAX_TOKEN = 16_384;
const MAX_PROOF = 8_192;
// RFC 6750 §2.1 b64token, which is also RFC 9110 §11.2 token68 (the DPoP scheme's credentials).
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const AUTH_SCHEME = /^([^\s]+)(?:[ ]+([^]*))?$/;

function hasQueryToken(url: string): boolean {
  const q = url.indexOf('?');
  if (q === -1) return false;
  const hash = url.indexOf('#', q);
  return new URLSearchParams(url.slice(q + 1, hash === -1 ? undefined : hash)).has('access_token');
}

/**
 * The access token and its scheme, or undefined when the request carries none this kit accepts
 * (no Authorization header, or another scheme): RFC 6750 §3.1 answers that without an error code.
 */
export function extractCredentials(facts: RequestFacts, dpopEnabled: boolean): Credentials | undefined {
  const authorization = facts.headers.authorization ?? [];
  if (authorization.length > 1) throw invalidRequest('More than one Authorization header');
  // RFC 6750 §2.3 and §5.3: a token in the URI ends up in logs and Referer headers; the form-body
  // method (§2.2) is not offered either. Either one, alone or beside a header, is a malformed request.
  if (hasQueryToken(facts.url)) throw invalidRequest('Send the access token in the Authorization header, not in the URI');
  if (facts.bodyToken) throw invalidRequest('Send the access token in the Authorization header, not in the body');
  const header = authorization[0];
  if (header === undefined || header === '') return undefined;

  const match = AUTH_SCHEME.exec(header);
  if (!match) throw invalidRequest('Malformed Authorization header');
  const name = (match[1] ?? '').toLowerCase();
  const scheme: Scheme | undefined = name === 'bearer' ? 'Bearer' : name === 'dpop' && dpopEnabled ? 'DPoP' : undefined;
  if (!scheme) return undefined;
  const token = match[2] ?? '';
  if (token.length === 0 || token.length > MAX_TOKEN || !B64TOKEN.test(token)) throw invalidRequest('Malformed Authorization header');

  if (scheme === 'Bearer') return { scheme, token, proof: undefined };
  // RFC 9449 §4.3 check 1: exactly one DPoP header.
  const proofs = facts.headers.dpop ?? [];
  if (proofs.length === 0) throw invalidProof('A DPoP proof is required with the DPoP scheme');
  if (proofs.length > 1) throw invalidProof('More than one DPoP header');
  const proof = proofs[0] ?? '';
  if (proof.length === 0 || proof.length > MAX_PROOF) throw invalidProof('Malformed DPoP proof');
  return { scheme, token, proof };
}

/** The request's URL without query or fragment, as a client addressed it (for DPoP `htu`). */
export function requestUrl(facts: RequestFacts, origin: string | undefined, trustProxy: boolean): string | undefined {
  const target = facts.url;
  let path: string;
  if (target.startsWith('/')) {
    const end = target.search(/[?#]/);
    path = end === -1 ? target : target.slice(0, end);
  } else {
    // Absolute-form request target (RFC 9112 §3.2.2).
    const parsed = URL.parse(target);
    if (!parsed) return undefined;
    path = parsed.pathname;
  }
  if (origin) return origin + path;
  const first = (name: string): string | undefined => facts.headers[name]?.[0]?.split(',')[0]?.trim();
  const host = (trustProxy && first('x-forwarded-host')) || first('host');
  const proto = (trustProxy && first('x-forwarded-proto')) || (facts.tls ? 'https' : 'http');
  if (!host || (proto !== 'http' && proto !== 'https')) return undefined;
  return `${proto}://${host}${path}`;
}

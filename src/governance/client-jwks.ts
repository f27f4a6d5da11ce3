// A private_key_jwt client's registered keys (RFC 7523 §2.2, OpenID Connect Core §9), or a
// self_signed_tls_client_auth client's certificates (RFC 8705 §2.2: x5c in its JWKS): a public
// JWK Set the administrator gives at registration or rotation. Checked once here, at the edge of
// the catalogue, so that the protocol layer only ever sees keys it can safely verify with.
import { createPublicKey, X509Certificate } from 'node:crypto';
import { AppError } from '../errors/app-error.ts';
import { outboundUrlProblem, type OutboundUrlRules } from './outbound-url.ts';

/** Asymmetric only: an HMAC key would be a shared secret again (and HS256 "signed" with a public key is an old forgery). */
// Ed25519 is EdDSA's fully-specified name (RFC 9864), what openid-client signs with today.
export const CLIENT_ASSERTION_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'] as const;
const MAX_KEYS = 5; // the current key and the next during a rotation, with room to spare
const MAX_JSON_BYTES = 16_384;
/** Members of a private or symmetric JWK (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const ALLOWED_MEMBERS = new Set(['kty', 'kid', 'use', 'alg', 'key_ops', 'n', 'e', 'crv', 'x', 'y', 'x5c', 'x5t', 'x5t#S256']);

interface PublicJwk {
  readonly kty: string;
  readonly kid?: string;
  readonly alg?: string;
  readonly [member: string]: unknown;
}
export interface PublicJwks {
  readonly keys: readonly PublicJwk[];
}

const refuse = (message: string): AppError => new AppError('invalid_request', `jwks: ${message}`);

const MAX_CHAIN = 10;
/** RFC 7517 §4.7: standard base64 (not base64url) DER certificates. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * RFC 7517 §4.7: x5c is a chain whose first certificate holds this very key. Checked so that a
 * self_signed_tls_client_auth registration (matched on the first certificate's thumbprint,
 * RFC 8705 §2.2) cannot pin a certificate whose key the JWK does not describe, and oidc-provider
 * never meets a chain it cannot read.
 */
function checkX5c(key: Record<string, unknown>, index: number): void {
  const chain = key.x5c;
  if (chain === undefined) return;
  if (!Array.isArray(chain) || !chain.length || chain.length > MAX_CHAIN || !chain.every((c) => typeof c === 'string' && c.length <= 8192 && BASE64.test(c))) {
    throw refuse(`keys[${index}].x5c must be an array of 1 to ${MAX_CHAIN} base64 DER certificates (RFC 7517 §4.7)`);
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(chain[0] as string, 'base64'));
  } catch {
    throw refuse(`keys[${index}].x5c[0] is not a certificate`);
  }
  const spki = (k: ReturnType<typeof createPublicKey>): Buffer => k.export({ type: 'spki', format: 'der' });
  let same: boolean;
  try {
    same = spki(cert.publicKey).equals(spki(createPublicKey({ key, format: 'jwk' })));
  } catch {
    same = false;
  }
  if (!same) throw refuse(`keys[${index}].x5c[0] is a certificate for another key than the JWK's`);
}

function checkKey(raw: unknown, index: number): PublicJwk {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw refuse(`keys[${index}] is not a JSON object`);
  const key = raw as Record<string, unknown>;
  const secretMembers = PRIVATE_MEMBERS.filter((m) => m in key);
  if (secretMembers.length) {
    throw refuse(`keys[${index}] contains private key material (${secretMembers.join(', ')}): register the PUBLIC key only; the private key stays with the client`);
  }
  const unknown = Object.keys(key).filter((m) => !ALLOWED_MEMBERS.has(m));
  if (unknown.length) throw refuse(`keys[${index}] has unexpected member(s): ${unknown.join(', ')}`);
  for (const m of ['kid', 'use', 'alg', 'n', 'e', 'crv', 'x', 'y', 'x5t', 'x5t#S256']) {
    const v = key[m];
    if (v !== undefined && (typeof v !== 'string' || v.length > 2048)) throw refuse(`keys[${index}].${m} must be a string`);
  }
  const alg = key.alg as string | undefined; // a string or absent, checked just above
  if (key.use !== undefined && key.use !== 'sig') throw refuse(`keys[${index}].use must be "sig"`);
  if (alg !== undefined && !(CLIENT_ASSERTION_ALGS as readonly string[]).includes(alg)) {
    throw refuse(`keys[${index}].alg ${alg} is not accepted (asymmetric only: ${CLIENT_ASSERTION_ALGS.join(', ')})`);
  }
  switch (key.kty) {
    case 'RSA':
      if (typeof key.n !== 'string' || typeof key.e !== 'string') throw refuse(`keys[${index}]: an RSA key needs n and e`);
      // 2048 bits at least (NIST SP 800-131A): base64url of 256 bytes is 342 characters.
      if (key.n.length < 342) throw refuse(`keys[${index}]: RSA keys must be at least 2048 bits`);
      if (alg === 'ES256' || alg === 'EdDSA' || alg === 'Ed25519') throw refuse(`keys[${index}]: alg ${alg} does not fit an RSA key`);
      break;
    case 'EC':
      if (key.crv !== 'P-256' || typeof key.x !== 'string' || typeof key.y !== 'string') throw refuse(`keys[${index}]: EC keys must be P-256 (ES256) with x and y`);
      if (alg !== undefined && alg !== 'ES256') throw refuse(`keys[${index}]: alg ${alg} does not fit a P-256 key`);
      break;
    case 'OKP':
      if (key.crv !== 'Ed25519' || typeof key.x !== 'string') throw refuse(`keys[${index}]: OKP keys must be Ed25519 (EdDSA) with x`);
      if (alg !== undefined && alg !== 'EdDSA' && alg !== 'Ed25519') throw refuse(`keys[${index}]: alg ${alg} does not fit an Ed25519 key`);
      // Both names mean this key's one algorithm; a stored alg would make verifiers refuse the other.
      return Object.fromEntries(Object.entries(key).filter(([m]) => m !== 'alg')) as PublicJwk;
    case 'oct':
      throw refuse(`keys[${index}] is a symmetric key: private_key_jwt takes public keys (${CLIENT_ASSERTION_ALGS.join(', ')})`);
    default:
      throw refuse(`keys[${index}].kty must be RSA, EC or OKP`);
  }
  return key as PublicJwk;
}

/** A JWK Set as given (JSON text or parsed): its public signing keys, or invalid_request saying what is wrong. */
export function checkClientJwks(input: unknown): PublicJwks {
  let value = input;
  if (typeof input === 'string') {
    if (Buffer.byteLength(input) > MAX_JSON_BYTES) throw refuse(`larger than ${MAX_JSON_BYTES} bytes`);
    try {
      value = JSON.parse(input);
    } catch {
      throw refuse('not valid JSON (expected a JWK Set: {"keys": [...]})');
    }
  }
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { keys?: unknown }).keys)) throw refuse('expected a JWK Set: {"keys": [...]}');
  const raw = (value as { keys: unknown[] }).keys;
  if (!raw.length) throw refuse('no keys');
  if (raw.length > MAX_KEYS) throw refuse(`at most ${MAX_KEYS} keys`);
  const keys = raw.map((k, i) => {
    const key = checkKey(k, i);
    checkX5c(key, i);
    return key;
  });
  if (keys.length > 1) {
    // With several keys the assertion's kid says which one signed it (RFC 7515 §4.1.4).
    const kids = keys.map((k) => k.kid);
    if (kids.some((k) => !k)) throw refuse('every key needs a kid when there are several');
    if (new Set(kids).size !== kids.length) throw refuse('kids must be unique');
  }
  return { keys };
}

/**
 * RFC 8705 §2.2.2: a self_signed_tls_client_auth client registers its certificate in its JWKS;
 * the one it presents must be the first in the x5c of one of these keys.
 */
export function checkSelfSignedJwks(jwks: PublicJwks): PublicJwks {
  if (!jwks.keys.some((k) => Array.isArray(k.x5c))) {
    throw refuse('self_signed_tls_client_auth needs the client certificate in its JWKS: at least one key with x5c (RFC 8705 §2.2), e.g. the JWK of the certificate\'s key with "x5c": ["<base64 DER certificate>"]');
  }
  return jwks;
}

/** The stored column back to keys (written by checkClientJwks, so trusted). */
export const parseStoredJwks = (column: string | null): PublicJwks | null => (column === null ? null : (JSON.parse(column) as PublicJwks));

/**
 * A private_key_jwt client's jwks_uri (RFC 7591 §2): where the server fetches its keys, under
 * the rules of every server-side fetch (outbound-url.ts). `allowPrivate`: the development
 * allowance (GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE), refused in production at start.
 */
export function checkJwksUri(input: unknown, rules: OutboundUrlRules): string {
  if (typeof input !== 'string' || !input.trim()) throw new AppError('invalid_request', 'jwks_uri: expected an https URL');
  const uri = input.trim();
  if (uri.length > 2048) throw new AppError('invalid_request', 'jwks_uri: at most 2048 characters');
  const problem = outboundUrlProblem(uri, rules);
  if (problem) throw new AppError('invalid_request', `jwks_uri ${problem}`);
  return new URL(uri).href;
}

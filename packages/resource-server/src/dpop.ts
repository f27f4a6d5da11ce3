// DPoP proof validation at a resource server (RFC 9449 §4.3 and §7.1): the proof is a JWT
// signed by the key the access token is bound to (cnf.jkt), made for this request (htm, htu),
// for this token (ath), recently (iat), once (jti). Server-provided nonces (§9) are not used:
// freshness rests on the iat window and the replay cache.
import { createHash } from 'node:crypto';
import { EmbeddedJWK, calculateJwkThumbprint, jwtVerify } from 'jose';
import { invalidProof, invalidToken } from './errors.ts';
import { parseCompactJws } from './jws.ts';
import type { ReplayCache } from './replay-cache.ts';

export const DEFAULT_DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'EdDSA', 'Ed25519'] as const;

export interface DpopRules {
  /** Asymmetric JWS algorithms accepted for proofs (§4.3 check 5: never none, never a MAC). */
  readonly algorithms: readonly string[];
  /** How old a proof may be, in seconds (§4.3 check 11). */
  readonly maxAge: number;
  readonly clockTolerance: number;
  readonly replay: ReplayCache;
  readonly now: () => number;
}

export interface DpopRequest {
  readonly method: string;
  /** The request URL without query and fragment; undefined when it cannot be known. */
  readonly url: string | undefined;
  readonly accessToken: string;
  /** The token's cnf.jkt. */
  readonly jkt: string;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const MAX_JTI = 256;

/** RFC 9449 §4.3 check 9 with RFC 3986 §6.2.2–6.2.3 normalisation; query and fragment ignored. */
function normalizeHtu(value: string): string | undefined {
  const url = URL.parse(value);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return undefined;
  const path = (url.pathname || '/').replace(/%[0-9a-f]{2}/gi, (pct) => pct.toUpperCase());
  return `${url.protocol}//${url.host}${path}`;
}

export const accessTokenHash = (token: string): string => createHash('sha256').update(token, 'ascii').digest('base64url');

export async function verifyDpopProof(proof: string, req: DpopRequest, rules: DpopRules): Promise<void> {
  const jws = parseCompactJws(proof);
  if (!jws) throw invalidProof('The DPoP proof is not a JWT');
  const { header } = jws;
  if (header.typ !== 'dpop+jwt') throw invalidProof('The DPoP proof has the wrong typ');
  if (typeof header.alg !== 'string' || !rules.algorithms.includes(header.alg)) throw invalidProof('The DPoP proof algorithm is not accepted');
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw invalidProof('The DPoP proof carries no key');
  if (PRIVATE_MEMBERS.some((m) => m in jwk)) throw invalidProof('The DPoP proof key must be a public key');

  let claims: Record<string, unknown>;
  try {
    ({ payload: claims } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: [...rules.algorithms],
      clockTolerance: rules.clockTolerance,
      currentDate: new Date(rules.now()),
    }));
  } catch {
    throw invalidProof('The DPoP proof signature is invalid');
  }

  const { jti, htm, htu, iat, ath } = claims;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI) throw invalidProof('The DPoP proof has no valid jti');
  if (htm !== req.method) throw invalidProof('The DPoP proof is for another method');
  const expected = req.url === undefined ? undefined : normalizeHtu(req.url);
  if (typeof htu !== 'string' || expected === undefined || normalizeHtu(htu) !== expected) throw invalidProof('The DPoP proof is for another URL');
  const now = rules.now() / 1000;
  if (typeof iat !== 'number' || !Number.isFinite(iat) || iat > now + rules.clockTolerance || iat < now - rules.maxAge - rules.clockTolerance) {
    throw invalidProof('The DPoP proof is too old or from the future');
  }
  if (ath !== accessTokenHash(req.accessToken)) throw invalidProof('The DPoP proof is for another access token');

  let thumbprint: string;
  try {
    thumbprint = await calculateJwkThumbprint(jwk, 'sha256');
  } catch {
    throw invalidProof('The DPoP proof key is malformed');
  }
  // RFC 9449 §4.3 check 12: the proof key is the key the token is bound to. §7.1's example
  // answers a failed binding with invalid_token in the DPoP challenge.
  if (thumbprint !== req.jkt) throw invalidToken('Invalid DPoP key binding', 'DPoP');

  // Last, once the proof is known to be genuine: an unsigned proof must not use up a jti.
  const windowEnd = (iat + rules.maxAge + rules.clockTolerance) * 1000;
  if (!rules.replay.add(`${req.jkt}:${jti}`, windowEnd, rules.now())) throw invalidProof('The DPoP proof has been used before');
}

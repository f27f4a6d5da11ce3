// Local validation of a JWT access token (RFC 9068 §4): the signature with the issuer's key
// (RS256 only, RFC 8725 §3.1), the header type, issuer, audience and times. The hot path of
// every protected request: synchronous node:crypto verification on a cached KeyObject.
import { constants, verify } from 'node:crypto';
import { invalidToken } from './errors.ts';
import { parseCompactJws } from './jws.ts';
import type { KeyStore } from './jwks.ts';

/** The claims of a verified govauth access token (RFC 9068 §2.2, RFC 8693 §4, RFC 7800). */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string | string[];
  readonly client_id: string;
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
  readonly nbf?: number;
  readonly scope?: string;
  readonly roles?: string[];
  /** RFC 8693 §4.1: who acts for the subject (an agent), nested for a chain. */
  readonly act?: Actor;
  /** RFC 8693 §4.4: who may act for the subject. */
  readonly may_act?: Actor;
  /** RFC 7800 §3.1 confirmation: `jkt` (RFC 9449 §6.1), `x5t#S256` (RFC 8705 §3.1). */
  readonly cnf?: { readonly jkt?: string; readonly 'x5t#S256'?: string; readonly [method: string]: unknown };
  /** draft-ietf-oauth-status-list: where this token's revocation status is published. */
  readonly status?: { readonly status_list?: { readonly idx: number; readonly uri: string } };
  readonly [claim: string]: unknown;
}

export interface Actor {
  readonly sub: string;
  readonly act?: Actor;
  readonly [claim: string]: unknown;
}

export interface AccessTokenRules {
  readonly issuer: string;
  readonly audiences: readonly string[];
  /** Seconds of clock skew allowed on exp, nbf and iat. */
  readonly clockTolerance: number;
  readonly now: () => number;
}

// RFC 9068 §4: "at+jwt"; RFC 7515 §4.1.9 lets the "application/" prefix be present or not.
const AT_JWT = /^(application\/)?at\+jwt$/i;
const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export async function verifyAccessToken(token: string, keys: KeyStore, rules: AccessTokenRules): Promise<AccessTokenClaims> {
  const jws = parseCompactJws(token);
  if (!jws) throw invalidToken('The access token is not a JWT');
  const { header, payload } = jws;
  if (header.alg !== 'RS256') throw invalidToken('The access token is not signed with RS256');
  if (typeof header.typ !== 'string' || !AT_JWT.test(header.typ)) throw invalidToken('The token is not an access token (typ at+jwt)');
  // RFC 7515 §4.1.11: no extension is understood here, so any `crit` makes the token invalid.
  if (header.crit !== undefined) throw invalidToken('The access token has critical header parameters');
  if (!isString(header.kid)) throw invalidToken('The access token names no key');

  const key = await keys.get(header.kid);
  let valid: boolean;
  try {
    valid = verify('sha256', Buffer.from(jws.signingInput), { key, padding: constants.RSA_PKCS1_PADDING }, jws.signature);
  } catch {
    valid = false;
  }
  if (!valid) throw invalidToken('The access token signature is invalid');

  if (payload.iss !== rules.issuer) throw invalidToken('The access token is from another issuer');
  const aud = payload.aud;
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.some((a) => typeof a === 'string' && rules.audiences.includes(a))) throw invalidToken('The access token is for another audience');

  const now = rules.now() / 1000;
  const tol = rules.clockTolerance;
  if (!isTime(payload.exp)) throw invalidToken('The access token has no expiry');
  if (payload.exp <= now - tol) throw invalidToken('The access token has expired');
  if (payload.nbf !== undefined && (!isTime(payload.nbf) || payload.nbf > now + tol)) throw invalidToken('The access token is not yet valid');
  // RFC 7519 §4.1.6 iat: a token issued in the future was minted by a clock no one should trust.
  if (!isTime(payload.iat) || payload.iat > now + tol) throw invalidToken('The access token has no valid issue time');
  // RFC 9068 §2.2: sub, client_id and jti are required.
  if (!isString(payload.sub) || !isString(payload.client_id) || !isString(payload.jti)) throw invalidToken('The access token lacks a required claim');
  if (payload.scope !== undefined && typeof payload.scope !== 'string') throw invalidToken('The access token scope is malformed');
  return payload as AccessTokenClaims;
}

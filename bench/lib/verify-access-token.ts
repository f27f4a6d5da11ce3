// Checks that a benchmarked server answers what it claims to: one token request, and the access
// token verified as an RS256 JWT access token (RFC 9068 §4: `typ` at+jwt, signature against the
// issuer's published keys, `iss`, `aud` = the requested resource, unexpired).
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type { LoadOptions } from './load.ts';

export interface VerifiedSample {
  readonly header: Record<string, unknown>;
  readonly claims: Record<string, unknown>;
  /** The token endpoint's own response fields besides the token (token_type, expires_in, scope…). */
  readonly response: Record<string, unknown>;
}

export interface Expected {
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly audience: string;
}

export async function verifySampleToken(name: string, request: LoadOptions, expected: Expected): Promise<VerifiedSample> {
  const res = await fetch(request.url, { method: request.method ?? 'POST', headers: request.headers, body: request.body });
  if (res.status !== 200) throw new Error(`${name}: token request answered ${res.status} ${await res.text()}`);
  const { access_token: token, ...response } = (await res.json()) as { access_token?: string } & Record<string, unknown>;
  if (typeof token !== 'string') throw new Error(`${name}: no access_token in the response`);
  const keys = (await (await fetch(expected.jwksUrl)).json()) as JSONWebKeySet;
  try {
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(keys), {
      algorithms: ['RS256'],
      typ: 'at+jwt',
      issuer: expected.issuer,
      audience: expected.audience,
      requiredClaims: ['exp', 'iat', 'sub', 'client_id', 'jti'],
    });
    return { header: { ...protectedHeader }, claims: { ...payload }, response };
  } catch (err) {
    throw new Error(`${name}: the access token is not a valid RS256 JWT for ${expected.audience}: ${(err as Error).message}`, { cause: err });
  }
}

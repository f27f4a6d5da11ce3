// What govauth asks of a private_key_jwt client assertion beyond a valid signature, one place
// for the token endpoint (through oidc-provider's assertJwtClientAuthClaimsAndHeader) and for
// govauth's own introspection and revocation endpoints (introspection/client-assertion.ts).
// RFC 7523 §3 requires exp and lets the server limit how far ahead it lies; a short lifetime
// bounds both the use of a captured assertion and how long its jti must be remembered.

/** Seconds an assertion may be valid for, counted from now (and from its iat when it has one). */
const MAX_ASSERTION_LIFETIME = 300;
/** Seconds of clock difference tolerated (oidc-provider's default clockTolerance is 15). */
export const CLOCK_SKEW = 15;

/** Why the claims are refused, or undefined when they pass. `now` in epoch seconds. */
export function assertionClaimsProblem(payload: Record<string, unknown>, now: number): string | undefined {
  const { exp, iat, jti, iss, sub } = payload;
  if (typeof exp !== 'number') return 'exp (expiry) is required in the client_assertion';
  if (typeof jti !== 'string' || !jti || jti.length > 256) return 'jti (a unique id, at most 256 characters) is required in the client_assertion';
  if (typeof iss !== 'string' || iss !== sub) return 'iss and sub of the client_assertion must both be the client_id';
  if (exp - now > MAX_ASSERTION_LIFETIME + CLOCK_SKEW) return `client_assertion must expire within ${MAX_ASSERTION_LIFETIME} seconds`;
  if (iat !== undefined) {
    if (typeof iat !== 'number' || iat > now + CLOCK_SKEW) return 'iat of the client_assertion is in the future';
    if (exp - iat > MAX_ASSERTION_LIFETIME + CLOCK_SKEW) return `client_assertion must be valid for at most ${MAX_ASSERTION_LIFETIME} seconds`;
  }
  return undefined;
}

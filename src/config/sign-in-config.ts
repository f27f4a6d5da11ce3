// How long a sign-in and its tokens last, and when failed passwords lock an account
// (GOVAUTH_REFRESH_TOKEN_TTL, _SESSION_MAX_AGE, _MFA_MAX_AGE, _LOGIN_MAX_FAILURES, _LOGIN_LOCKOUT).
import { parseInteger } from './env-parsers.ts';
import type { Read } from './env-reader.ts';

export interface SignInConfig {
  /** Seconds a refresh token lives; each rotation issues a new one (idle timeout). */
  readonly refreshTokenTtl: number;
  /** Seconds a sign-in lasts at most: browser session, grant and refresh chain end then. */
  readonly sessionMaxAge: number;
  /** Seconds a TOTP verification counts as recent for high-sensitivity scopes. */
  readonly mfaMaxAge: number;
  readonly maxFailures: number;
  readonly lockoutSeconds: number;
}

export function readSignIn(read: Read): SignInConfig {
  return {
    refreshTokenTtl: read('GOVAUTH_REFRESH_TOKEN_TTL', 86_400, (v) => parseInteger(v, 60, 90 * 86_400)),
    sessionMaxAge: read('GOVAUTH_SESSION_MAX_AGE', 7 * 86_400, (v) => parseInteger(v, 300, 365 * 86_400)),
    mfaMaxAge: read('GOVAUTH_MFA_MAX_AGE', 900, (v) => parseInteger(v, 30, 86_400)),
    maxFailures: read('GOVAUTH_LOGIN_MAX_FAILURES', 5, (v) => parseInteger(v, 1, 100)),
    lockoutSeconds: read('GOVAUTH_LOGIN_LOCKOUT', 900, (v) => parseInteger(v, 1, 86_400)),
  };
}

/** The lifetimes must nest; checked after every variable is read, like the other cross-checks. */
export function checkSignIn(signIn: SignInConfig, problems: string[]): void {
  if (signIn.refreshTokenTtl > signIn.sessionMaxAge) {
    problems.push(
      `GOVAUTH_REFRESH_TOKEN_TTL=${signIn.refreshTokenTtl} exceeds GOVAUTH_SESSION_MAX_AGE=${signIn.sessionMaxAge}: a refresh token cannot outlive the sign-in it belongs to`,
    );
  }
}

// Throttles password guessing per (account, source address): after `maxFailures` failures
// within the window, sign-in for that pair is refused until the lockout ends. Keyed by a hash
// so the table holds neither emails nor addresses. Unknown emails are throttled the same way,
// so throttling does not reveal which accounts exist. Shared by all instances (database).
import { createHash } from 'node:crypto';
import type { Database } from '../db/database.ts';
import { countFailure, deleteStaleThrottles, findLockedUntil, forgetFailures, lockUntil, resetStaleWindow } from '../db/login-throttle-repository.ts';
import { canonicalEmail } from './email-address.ts';

export interface ThrottlePolicy {
  readonly maxFailures: number;
  /** Seconds: failures older than this are forgotten, and a lockout lasts this long. */
  readonly lockoutSeconds: number;
}

/**
 * Whose guesses are counted: a password sign-in for an email as typed (keyed on the spelling
 * the account lookup uses, email-address.ts, so a decomposed or upper-case spelling of a
 * locked account is the same locked account), or the second factor of a signed-in account.
 */
type ThrottleSubject = { readonly email: string } | { readonly mfaAccount: string };

const subjectKey = (s: ThrottleSubject): string => ('email' in s ? `email:${canonicalEmail(s.email)}` : `mfa:${s.mfaAccount}`);

const throttleKey = (subject: ThrottleSubject, ip: string): string =>
  createHash('sha256').update(`${subjectKey(subject)}\0${ip}`).digest('base64url');

export interface LoginThrottle {
  /** When sign-in for this pair is locked, until when (epoch ms). */
  lockedUntil(subject: ThrottleSubject, ip: string, now: number): Promise<number | undefined>;
  recordFailure(subject: ThrottleSubject, ip: string, now: number): Promise<{ lockedUntil: number | undefined }>;
  recordSuccess(subject: ThrottleSubject, ip: string): Promise<void>;
}

export function createLoginThrottle(db: Database, policy: ThrottlePolicy): LoginThrottle {
  const windowMs = policy.lockoutSeconds * 1000;
  return {
    async lockedUntil(subject, ip, now) {
      const until = (await findLockedUntil(db, throttleKey(subject, ip)))?.getTime();
      return until !== undefined && until > now ? until : undefined;
    },
    async recordFailure(subject, ip, now) {
      const key = throttleKey(subject, ip);
      // Start a fresh window if the last one is over.
      await resetStaleWindow(db, key, new Date(now - windowMs), new Date(now));
      const failures = await countFailure(db, key, new Date(now));
      if (failures < policy.maxFailures) return { lockedUntil: undefined };
      const lockedUntil = now + windowMs;
      await lockUntil(db, key, new Date(lockedUntil));
      return { lockedUntil };
    },
    async recordSuccess(subject, ip) {
      await forgetFailures(db, throttleKey(subject, ip));
    },
  };
}

export function pruneLoginThrottle(db: Database, olderThanMs: number, now: number): Promise<number> {
  return deleteStaleThrottles(db, new Date(now - olderThanMs), new Date(now));
}

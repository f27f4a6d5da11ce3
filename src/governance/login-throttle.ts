// Throttles password guessing per (account, source address): after `maxFailures` failures
// within the window, sign-in for that pair is refused until the lockout ends. Keyed by a hash
// so the table holds neither emails nor addresses. Unknown emails are throttled the same way,
// so throttling does not reveal which accounts exist. Shared by all instances (database).
import { createHash } from 'node:crypto';
import type { Database } from '../db/database.ts';
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
export type ThrottleSubject = { readonly email: string } | { readonly mfaAccount: string };

const subjectKey = (s: ThrottleSubject): string => ('email' in s ? `email:${canonicalEmail(s.email)}` : `mfa:${s.mfaAccount}`);

export const throttleKey = (subject: ThrottleSubject, ip: string): string =>
  createHash('sha256').update(`${subjectKey(subject)}\0${ip}`).digest('base64url');

export interface LoginThrottle {
  /** When sign-in for this pair is locked, until when (epoch ms). */
  lockedUntil(subject: ThrottleSubject, ip: string, now?: number): Promise<number | undefined>;
  recordFailure(subject: ThrottleSubject, ip: string, now?: number): Promise<{ lockedUntil: number | undefined }>;
  recordSuccess(subject: ThrottleSubject, ip: string): Promise<void>;
}

export function createLoginThrottle(db: Database, policy: ThrottlePolicy): LoginThrottle {
  const windowMs = policy.lockoutSeconds * 1000;
  return {
    async lockedUntil(subject, ip, now = Date.now()) {
      const row = await db.prisma.loginThrottle.findUnique({ where: { key: throttleKey(subject, ip) } });
      const until = row?.lockedUntil?.getTime();
      return until !== undefined && until > now ? until : undefined;
    },
    async recordFailure(subject, ip, now = Date.now()) {
      const key = throttleKey(subject, ip);
      // Start a fresh window if the last one is over (atomic: only one writer resets it).
      await db.prisma.loginThrottle.updateMany({
        where: { key, firstFailureAt: { lt: new Date(now - windowMs) } },
        data: { failures: 0, firstFailureAt: new Date(now), lockedUntil: null },
      });
      const row = await db.prisma.loginThrottle.upsert({
        where: { key },
        create: { key, failures: 1, firstFailureAt: new Date(now) },
        update: { failures: { increment: 1 } },
      });
      if (row.failures < policy.maxFailures) return { lockedUntil: undefined };
      const lockedUntil = now + windowMs;
      await db.prisma.loginThrottle.update({ where: { key }, data: { lockedUntil: new Date(lockedUntil) } });
      return { lockedUntil };
    },
    async recordSuccess(subject, ip) {
      await db.prisma.loginThrottle.deleteMany({ where: { key: throttleKey(subject, ip) } });
    },
  };
}

export async function pruneLoginThrottle(db: Database, olderThanMs: number, now = Date.now()): Promise<number> {
  const threshold = new Date(now - olderThanMs);
  const { count } = await db.prisma.loginThrottle.deleteMany({
    where: { firstFailureAt: { lt: threshold }, OR: [{ lockedUntil: null }, { lockedUntil: { lt: new Date(now) } }] },
  });
  return count;
}

// Sign-in failure counters (the LoginThrottle table), keyed by an opaque hash. The rules (how
// many failures, how long a window and a lockout last) are in src/governance/login-throttle.ts.
import type { Database } from './database.ts';

export async function findLockedUntil(db: Database, key: string): Promise<Date | null | undefined> {
  return (await db.prisma.loginThrottle.findUnique({ where: { key } }))?.lockedUntil;
}

/** Starts a fresh window at `now` if the last one began before `windowStart` (atomic: one writer resets it). */
export async function resetStaleWindow(db: Database, key: string, windowStart: Date, now: Date): Promise<void> {
  await db.prisma.loginThrottle.updateMany({
    where: { key, firstFailureAt: { lt: windowStart } },
    data: { failures: 0, firstFailureAt: now, lockedUntil: null },
  });
}

/** Counts one more failure (the first opens the window at `now`) and returns the count. */
export async function countFailure(db: Database, key: string, now: Date): Promise<number> {
  const row = await db.prisma.loginThrottle.upsert({
    where: { key },
    create: { key, failures: 1, firstFailureAt: now },
    update: { failures: { increment: 1 } },
  });
  return row.failures;
}

export async function lockUntil(db: Database, key: string, until: Date): Promise<void> {
  await db.prisma.loginThrottle.update({ where: { key }, data: { lockedUntil: until } });
}

export async function forgetFailures(db: Database, key: string): Promise<void> {
  await db.prisma.loginThrottle.deleteMany({ where: { key } });
}

/** Deletes counters whose window opened before `threshold` and that are not locked at `now`. */
export async function deleteStaleThrottles(db: Database, threshold: Date, now: Date): Promise<number> {
  const { count } = await db.prisma.loginThrottle.deleteMany({
    where: { firstFailureAt: { lt: threshold }, OR: [{ lockedUntil: null }, { lockedUntil: { lt: now } }] },
  });
  return count;
}

// How long a client's shared secret works: its optional expiry, and the grace during which a
// rotated-out secret still works so deployments can switch without an outage (RFC 9700 §2.5
// prefers asymmetric client authentication; where a shared secret remains it should be
// replaceable without downtime). The check on each request is client-secrets.ts
// liveSecretHashes; these are the rules for setting them.
import { AppError } from '../errors/app-error.ts';
import { parseDuration } from './durations.ts';

const DAY_MS = 86_400_000;
/** A grace long enough for a weekly deployment train, short enough that a leak does not linger. */
const MAX_GRACE_MS = 30 * DAY_MS;
/** An expiry beyond two years is no expiry to plan around; say `never` instead. */
const MAX_SECRET_LIFETIME_MS = 731 * DAY_MS;
/** The access review warns this long before a secret stops working. */
export const SECRET_EXPIRY_WARNING_MS = 14 * DAY_MS;

/** `--grace`: 0 (none: the old secret stops at once, the default) up to 30 days. Returns ms. */
export function parseGrace(raw: string): number {
  if (raw.trim() === '0') return 0;
  return parseDuration(raw, 'grace', MAX_GRACE_MS);
}

/**
 * `--secret-expires`: a duration from now (90d) or an ISO 8601 instant in the future, or
 * `never`. Returns the instant (epoch ms), or null for never.
 */
export function parseSecretExpiry(raw: string, now: number): number | null {
  const text = raw.trim();
  if (text === 'never') return null;
  if (/^\d+\s*[smhdw]$/.test(text)) return now + parseDuration(text, 'secret expiry', MAX_SECRET_LIFETIME_MS);
  const at = Date.parse(text);
  if (Number.isNaN(at) || !/^\d{4}-\d{2}-\d{2}/.test(text)) throw new AppError('invalid_request', `secret expiry must be a duration (90d), an ISO 8601 time (2027-03-01T00:00:00Z) or never (got ${JSON.stringify(text.slice(0, 40))})`);
  if (at <= now) throw new AppError('invalid_request', `secret expiry ${new Date(at).toISOString()} is in the past: a secret must work for some time`);
  if (at - now > MAX_SECRET_LIFETIME_MS) throw new AppError('invalid_request', `secret expiry must be at most ${MAX_SECRET_LIFETIME_MS / DAY_MS} days away (or never)`);
  return at;
}

/**
 * The new secret's expiry at a rotation: as asked, or else the lifetime its predecessor had (set
 * at `setAt`, expiring at `expiresAt`), so a policy of 90-day secrets survives rotation.
 */
export function nextSecretExpiry(asked: number | null | undefined, current: { setAt: number; expiresAt: number | null }, now: number): number | null {
  if (asked !== undefined) return asked;
  return current.expiresAt === null ? null : now + Math.max(current.expiresAt - current.setAt, DAY_MS);
}

/**
 * Until when the replaced secret still works after a rotation at `now` with `graceMs`: never
 * past its own expiry. null: it stops at once (no grace, or it had already expired).
 */
export function previousSecretValidUntil(graceMs: number, oldExpiresAt: number | null, now: number): number | null {
  if (graceMs <= 0) return null;
  const until = Math.min(now + graceMs, oldExpiresAt ?? Infinity);
  return until > now ? until : null;
}

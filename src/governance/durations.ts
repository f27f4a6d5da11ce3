// Durations as people type them: 90s, 15m, 8h, 7d, 2w (one unit).
import { MAX_TTL_SECONDS } from '../config/token-limits.ts';
import { AppError } from '../errors/app-error.ts';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const MAX_DURATION_MS = 366 * 86_400_000;
/** Audit retention runs to years: the 100 years GOVAUTH_AUDIT_RETENTION_DAYS allows. */
const MAX_RETENTION_MS = 36_500 * 86_400_000;

export function parseDuration(raw: string, what = 'duration', maxMs = MAX_DURATION_MS): number {
  const match = /^(\d{1,6})\s*([smhdw])$/.exec(raw.trim());
  const n = Number(match?.[1]);
  const unit = UNIT_MS[match?.[2] ?? ''];
  if (!match || !unit || n < 1) throw new AppError('invalid_request', `${what} must look like 90s, 15m, 8h, 7d or 2w (got ${JSON.stringify(raw)})`);
  const ms = n * unit;
  if (ms > maxMs) throw new AppError('invalid_request', `${what} must be at most ${maxMs / 86_400_000} days`);
  return ms;
}

/** The cut-off of an audit prune (CLI and admin API): records older than `olderThan` go. */
export const retentionCutoff = (olderThan: string, now: number, what: string): Date => new Date(now - parseDuration(olderThan, what, MAX_RETENTION_MS));

/** An ISO 8601 instant, or a duration before now ("7d" = seven days ago). */
export function parseInstant(raw: string, now: number, what = 'time'): Date {
  if (/^\d+\s*[smhdw]$/.test(raw.trim())) return new Date(now - parseDuration(raw, what));
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw new AppError('invalid_request', `${what} must be an ISO 8601 time (2026-11-23T10:00:00Z) or a duration ago (7d)`);
  return new Date(t);
}

/**
 * A token lifetime as typed: seconds (600) or a duration in one unit (90s, 10m, 8h), never
 * longer than any token may live (MAX_TTL_SECONDS). Returns seconds.
 */
export function parseTtl(raw: string, what: string): number {
  const match = /^(\d{1,9})\s*([smhdw]?)$/.exec(raw.trim());
  if (!match) throw new AppError('invalid_request', `${what} must be seconds (600) or a duration such as 90s, 10m or 8h (got ${JSON.stringify(raw.slice(0, 40))})`);
  const seconds = (Number(match[1]) * (UNIT_MS[match[2] || 's'] ?? 1000)) / 1000;
  if (seconds < 1 || seconds > MAX_TTL_SECONDS) throw new AppError('invalid_request', `${what} must be between 1 second and ${MAX_TTL_SECONDS / 3600} hours (${MAX_TTL_SECONDS} seconds)`);
  return seconds;
}

// GOVAUTH_AUDIT_CHECKPOINT_EVERY / _FILE / _WEBHOOK: periodic signed checkpoints of the audit
// chain (src/audit/checkpoint-writer.ts), parsed and checked once at start.
import { resolve } from 'node:path';
import { EnvValueError } from './env-parsers.ts';

export interface AuditCheckpointConfig {
  /** Milliseconds between periodic checkpoints. */
  readonly everyMs: number;
  /** Appends one JWS per line. */
  readonly file: string | undefined;
  /** Receives each JWS in a POST (application/jose). */
  readonly webhook: string | undefined;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** 90s, 15m, 1h, 1d (one unit); at least 1 second, at most 366 days. */
export function parseCheckpointPeriod(raw: string): number {
  const m = /^(\d{1,6})([smhdw])$/.exec(raw.trim());
  const ms = m ? Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0) : 0;
  if (ms < 1000 || ms > 366 * 86_400_000) throw new EnvValueError('must be a duration such as 90s, 15m, 1h or 1d (at least 1s, at most 366d)');
  return ms;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https only: checkpoints leave the machine. http to a loopback address is for development. */
export function parseCheckpointWebhook(raw: string, production: boolean): string {
  const url = URL.parse(raw.trim());
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new EnvValueError('must be an absolute https URL');
  if (url.username || url.password) throw new EnvValueError('must not contain credentials');
  if (url.protocol === 'http:' && (production || !LOOPBACK.has(url.hostname))) {
    throw new EnvValueError('must use https (http is accepted only for a loopback address outside production)');
  }
  return url.href;
}

export const parseCheckpointFile = (raw: string, base: string): string => {
  if (!raw.trim()) throw new EnvValueError('must be a file path');
  return resolve(base, raw.trim());
};

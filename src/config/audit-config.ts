// How long audit records are kept (GOVAUTH_AUDIT_RETENTION_DAYS) and where periodic signed
// checkpoints go (GOVAUTH_AUDIT_CHECKPOINT_*, parsed in audit-checkpoint-config.ts).
import { parseCheckpointFile, parseCheckpointPeriod, parseCheckpointWebhook, type AuditCheckpointConfig } from './audit-checkpoint-config.ts';
import { EnvValueError, parseInteger } from './env-parsers.ts';
import type { Env, Read } from './env-reader.ts';

/**
 * The least any audit record is kept. An admin token (or a stolen one) must not be able to
 * erase the trail of what it just did; only the operator's configuration raises this.
 */
const AUDIT_RETENTION_FLOOR_DAYS = 30;

interface AuditSettings {
  readonly retentionDays: number;
  readonly pruneFloorDays: number;
  readonly checkpoint: AuditCheckpointConfig | undefined;
}

/** `base` resolves a relative checkpoint file; `production` refuses an http webhook. */
export function readAudit(env: Env, read: Read, problems: string[], base: string, production: boolean): AuditSettings {
  const retentionDays = read('GOVAUTH_AUDIT_RETENTION_DAYS', 0, (v) => {
    const days = parseInteger(v, 0, 36_500);
    if (days > 0 && days < AUDIT_RETENTION_FLOOR_DAYS) {
      throw new EnvValueError(`must be 0 (keep records forever) or at least ${AUDIT_RETENTION_FLOOR_DAYS}: audit records younger than ${AUDIT_RETENTION_FLOOR_DAYS} days are never pruned`);
    }
    return days;
  });
  const checkpointEvery = read('GOVAUTH_AUDIT_CHECKPOINT_EVERY', undefined as number | undefined, parseCheckpointPeriod);
  const checkpointFile = read('GOVAUTH_AUDIT_CHECKPOINT_FILE', undefined as string | undefined, (v) => parseCheckpointFile(v, base));
  const checkpointWebhook = read('GOVAUTH_AUDIT_CHECKPOINT_WEBHOOK', undefined as string | undefined, (v) => parseCheckpointWebhook(v, production));
  const hasCheckpointTarget = checkpointFile !== undefined || checkpointWebhook !== undefined;
  if (checkpointEvery !== undefined && !hasCheckpointTarget && !problems.some((p) => p.startsWith('GOVAUTH_AUDIT_CHECKPOINT_'))) {
    problems.push('GOVAUTH_AUDIT_CHECKPOINT_EVERY is set but neither GOVAUTH_AUDIT_CHECKPOINT_FILE nor GOVAUTH_AUDIT_CHECKPOINT_WEBHOOK: a checkpoint kept only in the database it vouches for proves nothing');
  }
  if (checkpointEvery === undefined && hasCheckpointTarget && !env.GOVAUTH_AUDIT_CHECKPOINT_EVERY) {
    problems.push('GOVAUTH_AUDIT_CHECKPOINT_FILE or _WEBHOOK is set without GOVAUTH_AUDIT_CHECKPOINT_EVERY (how often, e.g. 1h)');
  }
  const checkpoint = checkpointEvery !== undefined && hasCheckpointTarget ? Object.freeze({ everyMs: checkpointEvery, file: checkpointFile, webhook: checkpointWebhook }) : undefined;
  return { retentionDays, pruneFloorDays: Math.max(AUDIT_RETENTION_FLOOR_DAYS, retentionDays), checkpoint };
}

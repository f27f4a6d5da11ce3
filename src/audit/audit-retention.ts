// Retention: deleting the oldest audit records (`govauth audit prune`, POST /admin/v1/audit/prune,
// and the server's own GOVAUTH_AUDIT_RETENTION_DAYS sweep). A trail that whoever holds an admin
// token can empty is no evidence, so no caller can remove a record younger than the floor the
// operator configured (config.auditPruneFloorDays: 30 days, or GOVAUTH_AUDIT_RETENTION_DAYS if
// more); a prune that asks for more is refused, and the refusal is itself recorded.
import { auditLogTransaction } from '../db/audit-log.ts';
import { anchorDetail, PRUNED_ACTION } from '../db/audit-record.ts';
import type { Database } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { Actor } from './audit-chain.ts';

const DAY_MS = 86_400_000;

export interface RetentionFloor {
  /** Records younger than this many days are never removed. */
  readonly floorDays: number;
  /** The clock the floor is measured from (ms since the epoch). */
  readonly now: number;
}

/**
 * Deletes the records older than `before` from the head of the chain and moves the anchor to
 * the last one deleted; the pruning itself is recorded in the chain, naming that anchor, which
 * is what `verifyAuditChain` demands of a chain that does not start at genesis. Only a prefix
 * goes: the first record at or after `before` stops the deletion, so a record that carries an
 * earlier time than its predecessors (clock skew between instances) never takes younger ones
 * with it. Refuses (and records the refusal) when `before` lies inside the floor.
 */
export async function pruneAuditTrail(db: Database, before: Date, by: Actor, floor: RetentionFloor): Promise<number> {
  const latest = floor.now - floor.floorDays * DAY_MS;
  if (before.getTime() > latest) {
    const message = `the audit retention floor is ${floor.floorDays} days: records younger than that cannot be pruned (asked for records before ${before.toISOString()}; give ${floor.floorDays}d or more; the floor is set by GOVAUTH_AUDIT_RETENTION_DAYS)`;
    await auditLogTransaction(db, (log) => log.append([{ action: 'audit.prune_refused', ...by, outcome: 'denied', detail: { before: before.toISOString(), floor_days: floor.floorDays } }], new Date(floor.now)));
    throw new AppError('invalid_request', message);
  }
  return auditLogTransaction(db, async (log) => {
    const pruned = await log.pruneBefore(before);
    if (!pruned) return 0;
    await log.append([{ action: PRUNED_ACTION, ...by, detail: { removed: pruned.count, before: before.toISOString(), ...anchorDetail(pruned.anchor) } }], new Date(floor.now));
    return pruned.count;
  });
}

// Retention: deleting the oldest audit records (`govauth audit prune`, POST /admin/v1/audit/prune,
// and the server's own GOVAUTH_AUDIT_RETENTION_DAYS sweep). A trail that whoever holds an admin
// token can empty is no evidence, so no caller can remove a record younger than the floor the
// operator configured (config.auditPruneFloorDays: 30 days, or GOVAUTH_AUDIT_RETENTION_DAYS if
// more); a prune that asks for more is refused, and the refusal is itself recorded.
import type { Database } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { ANCHOR_META, anchorDetail, appendAuditEvents, lockAuditChain, PRUNED_ACTION, writeAnchor, type Actor } from './audit-chain.ts';

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
    await db.prisma.$transaction(async (tx) => {
      await appendAuditEvents(db, tx, [{ action: 'audit.prune_refused', ...by, outcome: 'denied', detail: { before: before.toISOString(), floor_days: floor.floorDays } }]);
    });
    throw new AppError('invalid_request', message);
  }
  return db.prisma.$transaction(async (tx) => {
    await lockAuditChain(db, tx);
    const young = await tx.auditEvent.findFirst({ where: { at: { gte: before } }, orderBy: { seq: 'asc' }, select: { seq: true } });
    const last = await tx.auditEvent.findFirst({
      where: { at: { lt: before }, ...(young && { seq: { lt: young.seq } }) },
      orderBy: { seq: 'desc' },
      select: { seq: true, hash: true },
    });
    if (!last) return 0;
    const { count } = await tx.auditEvent.deleteMany({ where: { seq: { lte: last.seq } } });
    const anchor = writeAnchor(last);
    await tx.meta.upsert({ where: { key: ANCHOR_META }, create: { key: ANCHOR_META, value: anchor }, update: { value: anchor } });
    await appendAuditEvents(db, tx, [{ action: PRUNED_ACTION, ...by, detail: { removed: count, before: before.toISOString(), ...anchorDetail(last) } }]);
    return count;
  });
}

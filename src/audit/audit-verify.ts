// Verifying the audit chain (`govauth audit verify`, GET /admin/v1/audit/verify): every record
// follows its predecessor, hashes to what it says, and the chain starts where it must. A chain
// that does not start at genesis must start right after the anchor of a recorded pruning: a
// verified `audit.pruned` record naming that anchor. The anchor in Meta alone proves nothing
// (anyone who can delete rows can write it), so deleting the oldest records with SQL reads as
// a break, not as retention.
import { auditRecordAtOrBelow, findAuditRecords, readAuditAnchor } from '../db/audit-log-reads.ts';
import { GENESIS, hashRecord, prunedAnchor, type Anchor } from '../db/audit-record.ts';
import type { Database } from '../db/database.ts';

export type VerifyResult =
  | { ok: true; records: number; first: number | undefined; last: number | undefined; lastHash: string | undefined }
  | { ok: false; records: number; brokenAt: number; problem: string };

/**
 * A (seq, hash) pair kept outside the database, e.g. the head printed by an earlier
 * `govauth audit verify`. The chain alone cannot show that someone with write access to the
 * database rewrote it from some record on and recomputed every hash after it; a checkpoint can.
 */
export interface Checkpoint {
  readonly seq: number;
  readonly hash: string;
}

const sameAnchor = (a: Anchor | undefined, b: Anchor): boolean => a !== undefined && a.seq === b.seq && a.hash === b.hash;

/** Walks the chain from its anchor; names the first record that does not fit. */
export async function verifyAuditChain(db: Database, batch = 2000, checkpoint?: Checkpoint): Promise<VerifyResult> {
  let anchor: Anchor;
  try {
    anchor = await readAuditAnchor(db);
  } catch (err) {
    return { ok: false, records: 0, brokenAt: 0, problem: (err as Error).message };
  }
  let expectedSeq = anchor.seq + 1;
  let prevHash = anchor.hash;
  let records = 0;
  let first: number | undefined;
  let anchorRecorded = anchor.seq === GENESIS.seq;
  let checkpointSeen = checkpoint === undefined;
  if (checkpoint && checkpoint.seq === anchor.seq) {
    if (checkpoint.hash !== anchor.hash) return { ok: false, records, brokenAt: anchor.seq, problem: `record ${anchor.seq} does not match the checkpoint (the chain was rewritten)` };
    checkpointSeen = true;
  }
  for (;;) {
    const rows = await findAuditRecords(db, { fromSeq: expectedSeq }, 'asc', batch);
    if (!rows.length) break;
    for (const r of rows) {
      first ??= r.seq;
      if (r.seq !== expectedSeq) return { ok: false, records, brokenAt: expectedSeq, problem: `record ${expectedSeq} is missing (next is ${r.seq})` };
      if (r.prevHash !== prevHash) return { ok: false, records, brokenAt: r.seq, problem: `record ${r.seq} does not follow record ${r.seq - 1} (deleted, reordered or edited)` };
      if (hashRecord(r) !== r.hash) return { ok: false, records, brokenAt: r.seq, problem: `record ${r.seq} was altered (its hash does not match its content)` };
      if (checkpoint?.seq === r.seq) {
        if (checkpoint.hash !== r.hash) return { ok: false, records, brokenAt: r.seq, problem: `record ${r.seq} does not match the checkpoint (the chain was rewritten)` };
        checkpointSeen = true;
      }
      // Only a record already proven to belong to the chain may vouch for its start.
      if (sameAnchor(prunedAnchor(r), anchor)) anchorRecorded = true;
      prevHash = r.hash;
      expectedSeq = r.seq + 1;
      records++;
    }
  }
  if (!anchorRecorded) {
    const problem = records
      ? `the chain starts after record ${anchor.seq}, but no audit.pruned record names that anchor: records 1–${anchor.seq} were deleted outside retention`
      : `the chain was pruned up to record ${anchor.seq}, but every record after it, the pruning's own included, is gone`;
    return { ok: false, records, brokenAt: anchor.seq, problem };
  }
  // Records below the anchor cannot exist unless someone re-inserted pruned ones.
  const stray = await auditRecordAtOrBelow(db, anchor.seq);
  if (stray !== undefined) return { ok: false, records, brokenAt: stray, problem: `record ${stray} lies before the retention anchor (${anchor.seq})` };
  if (!checkpointSeen && checkpoint) {
    const problem = checkpoint.seq < anchor.seq ? `record ${checkpoint.seq} was pruned (retention anchor ${anchor.seq}); use a newer checkpoint` : `record ${checkpoint.seq} of the checkpoint is missing (the chain ends at ${expectedSeq - 1})`;
    return { ok: false, records, brokenAt: checkpoint.seq, problem };
  }
  return { ok: true, records, first, last: records ? expectedSeq - 1 : undefined, lastHash: records ? prevHash : undefined };
}

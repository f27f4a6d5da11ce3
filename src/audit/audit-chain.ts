// The tamper-evident audit chain. Record n carries hash_n = SHA-256(canonical({fields of n,
// prevHash: hash_{n-1}})), so editing, deleting or reordering any record breaks every later
// link. Appends are serialized in the database (an advisory lock on PostgreSQL, the single
// writer on SQLite) so several instances extend one chain without forks, and `seq` is gap-free.
// Retention pruning leaves an anchor (the last pruned record's seq and hash) from which
// verification resumes.
import { createHash } from 'node:crypto';
import type { Database, Tx } from '../db/database.ts';
import type { RawSql } from '../db/raw-sql.ts';
import { canonicalJson } from './canonical-json.ts';

export const GENESIS_HASH = '0'.repeat(64);
const AUDIT_LOCK = 0x67617533; // "gau3"
const ANCHOR_META = 'audit_anchor';

export type ActorType = 'client' | 'user' | 'admin' | 'cli' | 'system';
export type Outcome = 'success' | 'failure' | 'denied';

/** What callers record. Never secrets: no tokens, passwords or client secrets (a jti is enough). */
export interface AuditInput {
  readonly action: string;
  readonly actorType: ActorType;
  readonly actor?: string | undefined;
  readonly subject?: string | undefined;
  readonly clientId?: string | undefined;
  readonly requestId?: string | undefined;
  readonly ip?: string | undefined;
  readonly outcome?: Outcome;
  readonly detail?: Record<string, unknown>;
  /** Defaults to the time of appending. */
  readonly at?: Date;
}

/** Who is making a change: the CLI, an administrator through the admin API, or the system. */
export type Actor = Pick<AuditInput, 'actorType' | 'actor' | 'requestId' | 'ip'>;

/** An administrative change, with the state before and after (never secrets). */
export function adminEvent(by: Actor, action: string, subject: string, before: unknown, after: unknown, extra: Record<string, unknown> = {}): AuditInput {
  return { ...by, action, subject, detail: { before: before ?? null, after: after ?? null, ...extra } };
}

export interface AuditRecord {
  readonly seq: number;
  readonly at: Date;
  readonly action: string;
  readonly actorType: string;
  readonly actor: string | null;
  readonly subject: string | null;
  readonly clientId: string | null;
  readonly requestId: string | null;
  readonly ip: string | null;
  readonly outcome: string;
  readonly detail: string;
  readonly prevHash: string;
  readonly hash: string;
}

export function hashRecord(r: Omit<AuditRecord, 'hash'>): string {
  const canonical = canonicalJson({
    seq: r.seq,
    at: r.at.toISOString(),
    action: r.action,
    actorType: r.actorType,
    actor: r.actor,
    subject: r.subject,
    clientId: r.clientId,
    requestId: r.requestId,
    ip: r.ip,
    outcome: r.outcome,
    detail: r.detail,
    prevHash: r.prevHash,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

export async function lockAuditChain(db: Pick<Database, 'kind'>, tx: Tx): Promise<void> {
  if (db.kind === 'postgresql') await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock($1::bigint)', AUDIT_LOCK);
}

async function chainTail(tx: Tx): Promise<{ seq: number; hash: string }> {
  const last = await tx.auditEvent.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true, hash: true } });
  if (last) return last;
  const anchor = await tx.meta.findUnique({ where: { key: ANCHOR_META } });
  return anchor ? (JSON.parse(anchor.value) as { seq: number; hash: string }) : { seq: 0, hash: GENESIS_HASH };
}

function buildRecords(tail: { seq: number; hash: string }, events: readonly AuditInput[], now: Date): AuditRecord[] {
  let { seq, hash } = tail;
  return events.map((e) => {
    seq += 1;
    const base = {
      seq,
      at: e.at ?? now,
      action: e.action,
      actorType: e.actorType,
      actor: e.actor ?? null,
      subject: e.subject ?? null,
      clientId: e.clientId ?? null,
      requestId: e.requestId ?? null,
      ip: e.ip ?? null,
      outcome: e.outcome ?? 'success',
      detail: canonicalJson(e.detail ?? {}),
      prevHash: hash,
    };
    hash = hashRecord(base);
    return { ...base, hash };
  });
}

const AUDIT_COLUMNS = ['seq', 'at', 'action', 'actorType', 'actor', 'subject', 'clientId', 'requestId', 'ip', 'outcome', 'detail', 'prevHash', 'hash'] as const;
const AUDIT_INSERT = `INSERT INTO "AuditEvent" (${AUDIT_COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES `;
const AUDIT_ROW = `(${AUDIT_COLUMNS.map(() => '?').join(', ')})`;

export interface SqlStatement {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** Rows derived from a batch (scope usage), written in the batch's transaction, or nothing. */
export type Alongside = (records: readonly AuditRecord[], inputs: readonly AuditInput[], time: (date: Date) => unknown) => SqlStatement | undefined;

/**
 * The request-path append, in plain SQL on the driver (src/db/raw-sql.ts): same lock, same
 * tail, same chain as appendAuditEvents, at a fraction of the cost. One transaction per batch,
 * which takes the chain's lock itself. On PostgreSQL the lock comes with BEGIN in one round
 * trip and the records and derived rows go in one statement, so the lock is held for three
 * round trips, not five (throughput on the 2-core bench machine did not change: bench/README.md).
 */
export async function appendAuditBatch(sql: RawSql, events: readonly AuditInput[], alongside?: Alongside, now = new Date()): Promise<AuditRecord[]> {
  if (!events.length) return [];
  return sql.transaction(
    async (tx) => {
      // Read after the lock is granted, in a statement of its own: under READ COMMITTED each
      // statement sees what was committed before it started, so this sees every earlier append.
      const [last] = await tx.query<{ seq: number | bigint; hash: string }>('SELECT "seq", "hash" FROM "AuditEvent" ORDER BY "seq" DESC LIMIT 1');
      let tail = last ? { seq: Number(last.seq), hash: last.hash } : undefined;
      if (!tail) {
        const [anchor] = await tx.query<{ value: string }>('SELECT "value" FROM "Meta" WHERE "key" = ?', [ANCHOR_META]);
        tail = anchor ? (JSON.parse(anchor.value) as { seq: number; hash: string }) : { seq: 0, hash: GENESIS_HASH };
      }
      const records = buildRecords(tail, events, now);
      const insert = AUDIT_INSERT + records.map(() => AUDIT_ROW).join(', ');
      const params = records.flatMap((r) => AUDIT_COLUMNS.map((c) => (c === 'at' ? tx.time(r.at) : r[c])));
      const derived = alongside?.(records, events, (date) => tx.time(date));
      if (derived && sql.kind === 'postgresql') {
        // A data-modifying WITH runs exactly once, whether or not it is referenced (PostgreSQL
        // manual, 7.8.4); placeholders are numbered in order, the records' first.
        await tx.query(`WITH "appended" AS (${insert}) ${derived.sql}`, [...params, ...derived.params]);
      } else {
        await tx.query(insert, params);
        if (derived) await tx.query(derived.sql, derived.params);
      }
      return records;
    },
    { advisoryLock: AUDIT_LOCK },
  );
}

/** Appends inside the caller's transaction (the lock is held until it commits). */
export async function appendAuditEvents(db: Pick<Database, 'kind'>, tx: Tx, events: readonly AuditInput[], now = new Date()): Promise<AuditRecord[]> {
  if (!events.length) return [];
  await lockAuditChain(db, tx);
  const records = buildRecords(await chainTail(tx), events, now);
  await tx.auditEvent.createMany({ data: records });
  return records;
}

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

/** Walks the chain from its anchor; names the first record that does not fit. */
export async function verifyAuditChain(db: Database, batch = 2000, checkpoint?: Checkpoint): Promise<VerifyResult> {
  const anchorRow = await db.prisma.meta.findUnique({ where: { key: ANCHOR_META } });
  const anchor = anchorRow ? (JSON.parse(anchorRow.value) as { seq: number; hash: string }) : { seq: 0, hash: GENESIS_HASH };
  let expectedSeq = anchor.seq + 1;
  let prevHash = anchor.hash;
  let records = 0;
  let first: number | undefined;
  let checkpointSeen = checkpoint === undefined;
  if (checkpoint && checkpoint.seq === anchor.seq) {
    if (checkpoint.hash !== anchor.hash) return { ok: false, records, brokenAt: anchor.seq, problem: `record ${anchor.seq} does not match the checkpoint (the chain was rewritten)` };
    checkpointSeen = true;
  }
  for (;;) {
    const rows = await db.prisma.auditEvent.findMany({ where: { seq: { gte: expectedSeq } }, orderBy: { seq: 'asc' }, take: batch });
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
      prevHash = r.hash;
      expectedSeq = r.seq + 1;
      records++;
    }
  }
  // Records below the anchor cannot exist unless someone re-inserted pruned ones.
  const stray = await db.prisma.auditEvent.findFirst({ where: { seq: { lte: anchor.seq } }, select: { seq: true } });
  if (stray) return { ok: false, records, brokenAt: stray.seq, problem: `record ${stray.seq} lies before the retention anchor (${anchor.seq})` };
  if (!checkpointSeen && checkpoint) {
    const problem = checkpoint.seq < anchor.seq ? `record ${checkpoint.seq} was pruned (retention anchor ${anchor.seq}); use a newer checkpoint` : `record ${checkpoint.seq} of the checkpoint is missing (the chain ends at ${expectedSeq - 1})`;
    return { ok: false, records, brokenAt: checkpoint.seq, problem };
  }
  return { ok: true, records, first, last: records ? expectedSeq - 1 : undefined, lastHash: records ? prevHash : undefined };
}

/**
 * Deletes records older than `before` and moves the anchor to the last deleted one; the
 * pruning itself is recorded in the chain. Verification keeps working from the anchor.
 */
export async function pruneAuditTrail(db: Database, before: Date, by: Actor): Promise<number> {
  return db.prisma.$transaction(async (tx) => {
    await lockAuditChain(db, tx);
    const last = await tx.auditEvent.findFirst({ where: { at: { lt: before } }, orderBy: { seq: 'desc' }, select: { seq: true, hash: true } });
    if (!last) return 0;
    const { count } = await tx.auditEvent.deleteMany({ where: { seq: { lte: last.seq } } });
    const anchor = JSON.stringify({ seq: last.seq, hash: last.hash });
    await tx.meta.upsert({ where: { key: ANCHOR_META }, create: { key: ANCHOR_META, value: anchor }, update: { value: anchor } });
    await appendAuditEvents(db, tx, [{ action: 'audit.pruned', ...by, detail: { removed: count, before: before.toISOString(), anchor_seq: last.seq, anchor_hash: last.hash } }]);
    return count;
  });
}

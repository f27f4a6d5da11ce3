// The tamper-evident audit chain. Record n carries hash_n = SHA-256(canonical({fields of n,
// prevHash: hash_{n-1}})), so editing, deleting or reordering any record breaks every later
// link. Appends are serialized in the database (an advisory lock on PostgreSQL, the single
// writer on SQLite) so several instances extend one chain without forks, and `seq` is gap-free.
// Retention pruning (audit-retention.ts) leaves an anchor, the last pruned record's seq and
// hash, kept in Meta and named by the `audit.pruned` record the pruning appends; verification
// (audit-verify.ts) resumes from it and demands that record.
import { createHash } from 'node:crypto';
import type { Database, Tx } from '../db/database.ts';
import type { RawSql } from '../db/raw-sql.ts';
import { canonicalJson } from './canonical-json.ts';

export const GENESIS_HASH = '0'.repeat(64);
const AUDIT_LOCK = 0x67617533; // "gau3"
export const ANCHOR_META = 'audit_anchor';

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

/** Where a pruned chain resumes: the last removed record's seq and hash. */
export interface Anchor {
  readonly seq: number;
  readonly hash: string;
}

export const GENESIS: Anchor = Object.freeze({ seq: 0, hash: GENESIS_HASH });

const isAnchor = (seq: unknown, hash: unknown): boolean => Number.isSafeInteger(seq) && (seq as number) > 0 && typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash);

/**
 * The one reader of the anchor kept in Meta (absent: the chain starts at genesis). A value that
 * is not an anchor is an error, never "no anchor": reading it as genesis would let someone who
 * can write Meta make verification pass over a chain whose head was cut off.
 */
export function readAnchor(value: string | undefined): Anchor {
  if (value === undefined) return GENESIS;
  let parsed: { seq?: unknown; hash?: unknown } | undefined;
  try {
    parsed = JSON.parse(value) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  if (!parsed || !isAnchor(parsed.seq, parsed.hash)) throw new Error(`the audit anchor in Meta is malformed: ${value.slice(0, 120)}`);
  return { seq: parsed.seq as number, hash: parsed.hash as string };
}

export const writeAnchor = (anchor: Anchor): string => JSON.stringify({ seq: anchor.seq, hash: anchor.hash });

export const PRUNED_ACTION = 'audit.pruned';

/** The anchor an `audit.pruned` record names (its detail's anchor_seq, anchor_hash), if any. */
export function prunedAnchor(record: Pick<AuditRecord, 'action' | 'detail'>): Anchor | undefined {
  if (record.action !== PRUNED_ACTION) return undefined;
  let d: { anchor_seq?: unknown; anchor_hash?: unknown } | null;
  try {
    d = JSON.parse(record.detail) as typeof d;
  } catch {
    return undefined;
  }
  return d && isAnchor(d.anchor_seq, d.anchor_hash) ? { seq: d.anchor_seq as number, hash: d.anchor_hash as string } : undefined;
}

/** What an `audit.pruned` record says of its anchor (read back by prunedAnchor). */
export const anchorDetail = (anchor: Anchor): { anchor_seq: number; anchor_hash: string } => ({ anchor_seq: anchor.seq, anchor_hash: anchor.hash });

export async function lockAuditChain(db: Pick<Database, 'kind'>, tx: Tx): Promise<void> {
  if (db.kind === 'postgresql') await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock($1::bigint)', AUDIT_LOCK);
}

async function chainTail(tx: Tx): Promise<Anchor> {
  const last = await tx.auditEvent.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true, hash: true } });
  if (last) return last;
  return readAnchor((await tx.meta.findUnique({ where: { key: ANCHOR_META } }))?.value);
}

function buildRecords(tail: Anchor, events: readonly AuditInput[], now: Date): AuditRecord[] {
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
      let tail: Anchor | undefined = last ? { seq: Number(last.seq), hash: last.hash } : undefined;
      if (!tail) {
        const [anchor] = await tx.query<{ value: string }>('SELECT "value" FROM "Meta" WHERE "key" = ?', [ANCHOR_META]);
        tail = readAnchor(anchor?.value);
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

// The audit log's records and how they chain. Record n carries hash_n = SHA-256(canonical({fields
// of n, prevHash: hash_{n-1}})), so editing, deleting or reordering any record breaks every later
// link. Retention pruning leaves an anchor, the last pruned record's seq and hash, kept in Meta
// and named by the `audit.pruned` record the pruning appends; verification resumes from it and
// demands that record. The chain's format is what the log stores, so it lives with the log's
// SQL (audit-log.ts); what to record and when is src/audit's.
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';

const GENESIS_HASH = '0'.repeat(64);
export const ANCHOR_META = 'audit_anchor';
export const PRUNED_ACTION = 'audit.pruned';

export type ActorType = 'client' | 'user' | 'admin' | 'cli' | 'system';
type Outcome = 'success' | 'failure' | 'denied';

/** What callers record. Never secrets: no tokens, passwords or client secrets (a jti is enough). */
export interface AuditInput {
  readonly action: string;
  readonly actorType: ActorType;
  readonly actor?: string | undefined;
  readonly subject?: string | undefined;
  readonly clientId?: string | undefined;
  /** The resource (audience URI) the record concerns, if one: what the explorer's resource filter matches. */
  readonly resource?: string | undefined;
  readonly requestId?: string | undefined;
  readonly ip?: string | undefined;
  readonly outcome?: Outcome;
  readonly detail?: Record<string, unknown>;
  /** Defaults to the time of appending. */
  readonly at?: Date;
}

export interface AuditRecord {
  readonly seq: number;
  readonly at: Date;
  readonly action: string;
  readonly actorType: string;
  readonly actor: string | null;
  readonly subject: string | null;
  readonly clientId: string | null;
  readonly resource: string | null;
  readonly requestId: string | null;
  readonly ip: string | null;
  readonly outcome: string;
  readonly detail: string;
  readonly prevHash: string;
  readonly hash: string;
}

/**
 * A record's hash. `resource` came after the chain's format was fixed: it is hashed only when
 * set, so a record without one hashes exactly as every record written before the column existed
 * (those keep verifying) and one with it cannot have it changed, added or removed unnoticed.
 */
export function hashRecord(r: Omit<AuditRecord, 'hash'>): string {
  const canonical = canonicalJson({
    seq: r.seq,
    at: r.at.toISOString(),
    action: r.action,
    actorType: r.actorType,
    actor: r.actor,
    subject: r.subject,
    clientId: r.clientId,
    ...(r.resource !== null && { resource: r.resource }),
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

/** The records `events` become after `tail`, each linked to the one before. */
export function chainRecords(tail: Anchor, events: readonly AuditInput[], now: Date): AuditRecord[] {
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
      resource: e.resource ?? null,
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

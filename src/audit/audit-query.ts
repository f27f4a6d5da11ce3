// Reading the audit trail: export (JSON Lines for a SIEM) and tail (recent records for people).
import { distinctAuditActions, findAuditRecords, type AuditWhere } from '../db/audit-log-reads.ts';
import type { AuditRecord } from '../db/audit-record.ts';
import type { Database } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';

export interface AuditEventView {
  seq: number;
  at: string;
  action: string;
  actor_type: string;
  actor: string | null;
  subject: string | null;
  client_id: string | null;
  resource: string | null;
  request_id: string | null;
  ip: string | null;
  outcome: string;
  detail: unknown;
  prev_hash: string;
  hash: string;
}

const eventView = (r: AuditRecord): AuditEventView => ({
  seq: r.seq,
  at: r.at.toISOString(),
  action: r.action,
  actor_type: r.actorType,
  actor: r.actor,
  subject: r.subject,
  client_id: r.clientId,
  resource: r.resource,
  request_id: r.requestId,
  ip: r.ip,
  outcome: r.outcome,
  detail: JSON.parse(r.detail) as unknown,
  prev_hash: r.prevHash,
  hash: r.hash,
});

export interface AuditFilter {
  readonly since?: Date;
  readonly until?: Date;
  readonly actor?: string;
  readonly action?: string;
  readonly subject?: string;
  readonly clientId?: string;
  /** Records that concern this resource (audience URI): AuditInput.resource. */
  readonly resource?: string;
  /** Records before this chain position (seq < before): the explorer's pager, exact where times tie. */
  readonly before?: number;
  /**
   * Records after this chain position (seq > after): the pager's way back to newer records. A tail
   * then takes the records closest to it (read upwards from it), not the newest; with before, a window.
   */
  readonly after?: number;
}

/** The largest seq a record can have: the column is a 32-bit integer (prisma/models.prisma `Int`). */
export const MAX_SEQ = 2_147_483_647;

/** The most records one tail request returns (admin API limit, CLI --limit). */
export const MAX_TAIL = 10_000;
/** Distinct action names considered for a family filter; govauth's code defines a few dozen. */
const MAX_ACTIONS = 5000;

/** A family of at most this many names is read one index seek per name; a larger one with IN. */
const MAX_SEEKS = 64;

/**
 * An action filter ending in "*" names a family ("admin.*"): every action that starts with the
 * text before the star, taken literally. SQL LIKE would read "%" and "_" in it as wildcards
 * (found by test/security/hostile-input.test.ts: "%*" matched everything) and SQLite's LIKE
 * ignores ASCII case, so the family is resolved to exact names first (JavaScript's startsWith,
 * which knows no wildcards): exact on both databases whatever their collation. Returns the
 * names to select, or undefined when the filter is not a family.
 */
async function actionNames(db: Database, action: string | undefined): Promise<string[] | undefined> {
  if (action === undefined || !action.endsWith('*')) return undefined;
  const prefix = action.slice(0, -1);
  const names = await distinctAuditActions(db, MAX_ACTIONS);
  // Never a silent partial answer: a trail with more names than govauth defines is refused.
  if (names.length >= MAX_ACTIONS) throw new AppError('invalid_request', `the audit trail holds more than ${MAX_ACTIONS} distinct actions; filter by an exact action`);
  return names.filter((a) => a.startsWith(prefix));
}

const actionWhere = (action: string | undefined, names: string[] | undefined): AuditWhere => (names ? { actions: names } : action === undefined ? {} : { action });

const where = (f: AuditFilter): AuditWhere => ({
  ...(f.since && { since: f.since }),
  ...(f.until && { until: f.until }),
  ...(f.actor !== undefined && { actor: f.actor }),
  ...(f.subject !== undefined && { subject: f.subject }),
  ...(f.clientId !== undefined && { clientId: f.clientId }),
  ...(f.resource !== undefined && { resource: f.resource }),
  ...(f.before !== undefined && { beforeSeq: f.before }),
  ...(f.after !== undefined && { afterSeq: f.after }),
});

/** Streams matching records in chain order, in batches (one query per batch of matches). */
export async function exportAuditEvents(db: Database, filter: AuditFilter, onEvent: (e: AuditEventView) => void, batch = 1000): Promise<number> {
  const names = await actionNames(db, filter.action);
  if (names?.length === 0) return 0;
  let after = filter.after ?? 0;
  let count = 0;
  for (;;) {
    const rows = await findAuditRecords(db, { ...where(filter), ...actionWhere(filter.action, names), afterSeq: after }, 'asc', batch);
    for (const r of rows) onEvent(eventView(r));
    count += rows.length;
    if (rows.length < batch) return count;
    after = rows[rows.length - 1]?.seq ?? after;
  }
}

/**
 * The most recent matching records, newest last, at most MAX_TAIL; with `after`, the records
 * closest above it instead (`seq > after ORDER BY seq ASC LIMIT n`: the same one range read of the
 * (value, seq) index, upwards), so a pager steps exactly one page newer. A family is read with one
 * index seek per name (each `action = ? ORDER BY seq DESC LIMIT n`), merged here: measured on
 * SQLite, `action IN (…) ORDER BY seq DESC` scans the table instead (bench/README.md). So a
 * request costs one query, or 1 + the family's names (at most MAX_SEEKS), never one per record.
 */
export async function tailAuditEvents(db: Database, filter: AuditFilter, limit: number): Promise<AuditEventView[]> {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_TAIL) throw new TypeError(`limit must be between 1 and ${MAX_TAIL}`);
  const names = await actionNames(db, filter.action);
  const upwards = filter.after !== undefined;
  const closest = (action: AuditWhere): Promise<AuditRecord[]> => findAuditRecords(db, { ...where(filter), ...action }, upwards ? 'asc' : 'desc', limit);
  let rows: AuditRecord[];
  if (names === undefined || names.length > MAX_SEEKS) rows = await closest(actionWhere(filter.action, names));
  else rows = (await Promise.all(names.map((action) => closest({ action })))).flat().sort((a, b) => (upwards ? a.seq - b.seq : b.seq - a.seq)).slice(0, limit);
  return (upwards ? rows : rows.reverse()).map(eventView);
}

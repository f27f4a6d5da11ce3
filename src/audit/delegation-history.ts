// "Which agents acted for this person, on what, when": the token exchanges (RFC 8693) recorded
// with the person as subject, newest first through the trail's subject index, with the agents'
// names and the whole chain of actors (§4.1 `act`, the current actor first). Optionally the
// refused exchanges too. Records are read as written by the token endpoint; a field a record
// lacks is reported as null, never guessed.
import { findAuditRecords, type AuditWhere } from '../db/audit-log-reads.ts';
import type { AuditRecord } from '../db/audit-record.ts';
import { clientNames } from '../db/client-repository.ts';
import type { Database } from '../db/database.ts';
import { findUserId, userEmails } from '../db/people-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { TOKEN_EXCHANGE_GRANT } from '../governance/delegation.ts';
import { normalizeEmail } from '../governance/email-address.ts';

const EXCHANGED = 'token.exchanged';
const REFUSED = 'token.refused';
/** The most rows one query returns (CLI --limit, admin API limit). */
export const MAX_DELEGATION_ROWS = 1000;
const USER_ID = /^usr_[A-Za-z0-9_-]{1,64}$/;

export interface DelegationEvent {
  seq: number;
  at: string;
  outcome: 'exchanged' | 'refused';
  /** The acting (current) agent. */
  agent: { client_id: string | null; name: string | null };
  /** Every actor, the current one first, with the delegation that let it act. */
  chain: { client_id: string; name: string | null; delegation: string | null }[];
  resource: string | null;
  scopes: string[];
  /** Seconds the issued token lives. */
  lifetime: number | null;
  /** The issued token's jti (what `govauth revoke --token` and introspection name). */
  jti: string | null;
  subject_token_jti: string | null;
  actor_token_jti: string | null;
  /** Refused exchanges: the OAuth error and govauth's reason. */
  error: string | null;
  reason: string | null;
}

export interface DelegationHistory {
  user: { id: string; email: string };
  events: DelegationEvent[];
  /** More matching records exist before the oldest shown. */
  truncated: boolean;
}

export interface DelegationHistoryQuery {
  /** An email address or a user id (usr_…). */
  readonly user: string;
  readonly since?: Date | undefined;
  readonly until?: Date | undefined;
  readonly limit: number;
  /** Include refused exchanges. */
  readonly refused?: boolean | undefined;
}

async function resolvePerson(db: Database, raw: string): Promise<{ id: string; email: string }> {
  const value = raw.trim();
  if (value.includes('@')) {
    const email = normalizeEmail(value);
    const found = await findUserId(db, email);
    if (!found) throw new AppError('not_found', `no user ${email}`);
    return { id: found.id, email };
  }
  if (!USER_ID.test(value)) throw new AppError('invalid_request', `user must be an email address or a user id (usr_…), got ${JSON.stringify(value.slice(0, 80))}`);
  const [found] = await userEmails(db, [value]);
  if (!found) throw new AppError('not_found', `no user ${value}`);
  return found;
}

/** The newest `limit` records matching `where` that `keep` accepts, and whether there are more. */
async function newest(db: Database, where: AuditWhere, limit: number, keep: (r: AuditRecord) => boolean): Promise<{ rows: AuditRecord[]; more: boolean }> {
  const rows: AuditRecord[] = [];
  let through: number | undefined;
  for (;;) {
    const batch = await findAuditRecords(db, { ...where, ...(through !== undefined && { throughSeq: through }) }, 'desc', limit + 1);
    for (const r of batch) {
      if (!keep(r)) continue;
      if (rows.length === limit) return { rows, more: true };
      rows.push(r);
    }
    const last = batch.at(-1);
    if (batch.length <= limit || !last) return { rows, more: false };
    through = last.seq - 1;
  }
}

const detailOf = (r: AuditRecord): Record<string, unknown> => {
  try {
    const d: unknown = JSON.parse(r.detail);
    return d !== null && typeof d === 'object' && !Array.isArray(d) ? (d as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const textOf = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The event a record tells, agents not yet named. */
function eventOf(r: AuditRecord): DelegationEvent {
  const d = detailOf(r);
  const agent = r.actor ?? textOf(d.client_id);
  const act = strings(d.act);
  const delegations = strings(d.delegations);
  const actors = act.length ? act : agent === null ? [] : [agent];
  return {
    seq: r.seq,
    at: r.at.toISOString(),
    outcome: r.action === EXCHANGED ? 'exchanged' : 'refused',
    agent: { client_id: agent, name: null },
    chain: actors.map((id, i) => ({ client_id: id, name: null, delegation: delegations[i] ?? null })),
    resource: typeof d.aud === 'string' ? d.aud : Array.isArray(d.aud) ? strings(d.aud).join(' ') || null : null,
    scopes: strings(d.scopes),
    lifetime: typeof d.lifetime === 'number' ? d.lifetime : null,
    jti: textOf(d.jti),
    subject_token_jti: textOf(d.subject_token_jti),
    actor_token_jti: textOf(d.actor_token_jti),
    error: textOf(d.error),
    reason: textOf(d.reason),
  };
}

/** The most recent exchanges for a person (and refusals, when asked), oldest first, at most `limit`. */
export async function delegationHistory(db: Database, q: DelegationHistoryQuery): Promise<DelegationHistory> {
  if (!Number.isSafeInteger(q.limit) || q.limit < 1 || q.limit > MAX_DELEGATION_ROWS) throw new TypeError(`limit must be between 1 and ${MAX_DELEGATION_ROWS}`);
  const user = await resolvePerson(db, q.user);
  const where: AuditWhere = { subject: user.id, ...(q.since && { since: q.since }), ...(q.until && { until: q.until }) };
  const reads = [newest(db, { ...where, action: EXCHANGED }, q.limit, () => true)];
  // Refusals of other grants (a refresh, a code) can name the person too: only exchanges count.
  if (q.refused) reads.push(newest(db, { ...where, action: REFUSED }, q.limit, (r) => detailOf(r).grant_type === TOKEN_EXCHANGE_GRANT));
  const found = await Promise.all(reads);
  const merged = found.flatMap((f) => f.rows).sort((a, b) => b.seq - a.seq);
  const shown = merged.slice(0, q.limit);
  const truncated = merged.length > q.limit || found.some((f) => f.more);
  const events = shown.map(eventOf).reverse();
  const ids = [...new Set(events.flatMap((e) => [e.agent.client_id, ...e.chain.map((h) => h.client_id)]).filter((id): id is string => id !== null))];
  // An id no client has (a record older than the database it was restored into) stays unnamed.
  const names = new Map((ids.length ? await clientNames(db, ids) : []).map((c) => [c.id, c.name]));
  const nameOf = (id: string | null): string | null => (id === null ? null : (names.get(id) ?? null));
  return {
    user,
    events: events.map((e) => ({ ...e, agent: { ...e.agent, name: nameOf(e.agent.client_id) }, chain: e.chain.map((h) => ({ ...h, name: nameOf(h.client_id) })) })),
    truncated,
  };
}

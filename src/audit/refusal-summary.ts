// Refused token requests that carry no valid client secret (public clients, unknown client_ids,
// wrong secrets, bogus codes) cost the sender nothing, yet each one used to append a durable
// audit record under the same lock token issuance waits on: a flood of them from one address
// slowed every instance's issuance and buried the trail. So, per source address and fixed
// window, the first `allowance` refusals are recorded in full as before (an auditor sees
// when and how a flood began, with request ids), and the rest only bump counters in memory:
// no audit write and no lock per request. When the window ends one `token.refused.summary`
// record carries how many there were, the first and last time, and the error codes, grant
// types and claimed client_ids seen. The counters of a process that dies before writing them
// are lost; the refusals recorded in full are not. Each instance summarises its own requests.
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../time/clock.ts';
import type { AuditInput } from './audit-chain.ts';
import type { AuditWriter } from './audit-writer.ts';

export const SUMMARY_ACTION = 'token.refused.summary';
/** Refusals per address and window recorded in full before the rest are summarised. */
export const FULL_RECORDS_PER_WINDOW = 5;
const WINDOW_SECONDS = 60;
/** Claimed client_ids listed in one summary; beyond this the summary says it was truncated. */
const MAX_CLIENT_IDS = 20;
/**
 * Addresses tracked at once; further addresses (a flood from many) share one summary without
 * an address, so memory stays bounded. Their refusals get no full record.
 */
const MAX_ADDRESSES = 10_000;
const OVERFLOW = '';
const SWEEP_MS = 1000;

interface Refusal {
  readonly error: string;
  readonly grantType?: string | undefined;
  readonly clientId?: string | undefined;
}

export interface RefusalSummary {
  /** Whether this refusal gets its own record; if not, it has been counted for the summary. */
  admit(ip: string | undefined, refusal: Refusal): boolean;
  /** Counts a refusal that gets no record of its own (e.g. a repeated 429) into the summary. */
  count(ip: string | undefined, refusal: Refusal): void;
  /** Writes the summaries of windows that have ended (every window, with `all`). */
  flush(all?: boolean): Promise<void>;
  /** Stops the sweep and writes every summary. */
  close(): Promise<void>;
}

interface Window {
  readonly start: number; // epoch ms
  full: number;
  count: number;
  firstAt: number;
  lastAt: number;
  readonly errors: Map<string, number>;
  readonly grantTypes: Map<string, number>;
  readonly clientIds: Set<string>;
  clientIdsTruncated: boolean;
}

const tally = (m: Map<string, number>, key: string): void => void m.set(key, (m.get(key) ?? 0) + 1);

export function createRefusalSummary(deps: { writer: AuditWriter; log: Logger; now: Clock }): RefusalSummary {
  const windowMs = WINDOW_SECONDS * 1000;
  const windows = new Map<string, Window>();

  const summaryOf = (key: string, w: Window): AuditInput => ({
    action: SUMMARY_ACTION,
    actorType: 'client',
    ip: key === OVERFLOW ? undefined : key,
    outcome: 'failure',
    detail: {
      window_start: new Date(w.start).toISOString(),
      window_seconds: WINDOW_SECONDS,
      // Refusals in this window with no record of their own; `recorded_in_full` had one.
      count: w.count,
      recorded_in_full: w.full,
      first_at: new Date(w.firstAt).toISOString(),
      last_at: new Date(w.lastAt).toISOString(),
      errors: Object.fromEntries(w.errors),
      grant_types: Object.fromEntries(w.grantTypes),
      client_ids: [...w.clientIds], // as claimed: none of them authenticated
      ...(w.clientIdsTruncated && { client_ids_truncated: true }),
      ...(key === OVERFLOW && { other_addresses: true }),
    },
  });

  const pending = new Set<Promise<void>>();
  const write = (key: string, w: Window): void => {
    if (!w.count) return; // every refusal already has its own record
    const p = deps.writer
      .record(summaryOf(key, w))
      .catch((err: unknown) => deps.log.error('audit summary of refused token requests was lost', { err: (err as Error).message, ip: key, count: w.count }))
      .finally(() => pending.delete(p));
    pending.add(p);
  };

  /** The current window of `ip`, writing the summary of its previous one if that has ended. */
  const windowOf = (ip: string | undefined, at: number): { key: string; w: Window } => {
    const start = Math.floor(at / windowMs) * windowMs;
    let key = ip ?? OVERFLOW;
    if (!windows.has(key) && windows.size >= MAX_ADDRESSES) key = OVERFLOW;
    let w = windows.get(key);
    if (w && w.start !== start) {
      write(key, w);
      w = undefined;
    }
    if (!w) {
      w = { start, full: 0, count: 0, firstAt: at, lastAt: at, errors: new Map(), grantTypes: new Map(), clientIds: new Set(), clientIdsTruncated: false };
      windows.set(key, w);
    }
    return { key, w };
  };

  const add = (w: Window, refusal: Refusal, at: number): void => {
    if (!w.count) w.firstAt = at;
    w.count++;
    w.lastAt = at;
    tally(w.errors, refusal.error);
    if (refusal.grantType) tally(w.grantTypes, refusal.grantType);
    if (refusal.clientId && !w.clientIds.has(refusal.clientId)) {
      if (w.clientIds.size < MAX_CLIENT_IDS) w.clientIds.add(refusal.clientId.slice(0, 200));
      else w.clientIdsTruncated = true;
    }
  };

  const sweep = (all: boolean): void => {
    const at = deps.now();
    for (const [key, w] of windows) {
      if (all || w.start + windowMs <= at) {
        windows.delete(key);
        write(key, w);
      }
    }
  };
  const timer = setInterval(() => sweep(false), SWEEP_MS);
  timer.unref();

  return {
    admit(ip, refusal) {
      const at = deps.now();
      const { key, w } = windowOf(ip, at);
      if (key !== OVERFLOW && w.full < FULL_RECORDS_PER_WINDOW) {
        w.full++;
        return true;
      }
      add(w, refusal, at);
      return false;
    },
    count(ip, refusal) {
      const at = deps.now();
      add(windowOf(ip, at).w, refusal, at);
    },
    async flush(all = false) {
      sweep(all);
      await Promise.all(pending);
    },
    async close() {
      clearInterval(timer);
      sweep(true);
      await Promise.all(pending);
    },
  };
}

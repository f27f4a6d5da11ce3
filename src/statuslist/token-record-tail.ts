// Every instance learns every access token from the audit trail, whichever instance minted it:
// a token response waits for its durable audit record (src/oidc/token-audit.ts), so once a
// token can be presented its record is readable here. At start the instance reads the records
// of every token that can still be live (as far back as the longest lifetime the policy allows);
// then it follows the chain by seq, which is gap-free and commits in order (src/db/audit-log.ts),
// every `intervalMs`. Every read is a range of the primary key (whatever plan either database
// would pick for a filter on `action`), returning the details of token records only.
import { auditDetailsAfter, firstAuditSeqSince, lastAuditSeq } from '../db/audit-log-reads.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../time/clock.ts';
import type { MintedToken } from './live-tokens.ts';
import { MINTED_TOKEN_ACTIONS, mintedTokenFromRecord } from './token-facts.ts';

const CATCH_UP_PAGE = 5000;
const TAIL_PAGE = 2000;
// Records are stamped by the instance that appended them; allow for clocks a little apart.
const CLOCK_MARGIN_MS = 60_000;

export interface TokenRecordTailDeps {
  readonly db: Pick<Database, 'sql'>;
  /** Seconds: the longest an access token issued so far can still live. */
  readonly lookbackSeconds: () => number;
  readonly intervalMs: number;
  readonly onToken: (token: MintedToken) => void;
  /** Indices per list (token-facts.ts). */
  readonly listSize: number;
  readonly log: Logger;
  readonly now: Clock;
}

export interface TokenRecordTail {
  /** Whether the records of every token that can still be live have been read. */
  caughtUp(): boolean;
  /** Reads what was appended since the last read (also run every intervalMs). */
  poll(): Promise<void>;
  close(): void;
}

export function startTokenRecordTail(deps: TokenRecordTailDeps): TokenRecordTail {
  let cursor: number | undefined;
  let caughtUp = false;
  let running: Promise<void> | undefined;
  let closed = false;

  const read = (detail: string | null): void => {
    const token = detail === null ? undefined : mintedTokenFromRecord(detail, deps.listSize);
    if (token) deps.onToken(token);
  };

  const catchUp = async (): Promise<void> => {
    const since = new Date(deps.now() - deps.lookbackSeconds() * 1000 - CLOCK_MARGIN_MS);
    const first = await firstAuditSeqSince(deps.db, since);
    let seq = first === undefined ? await lastAuditSeq(deps.db) : first - 1;
    for (;;) {
      const rows = await auditDetailsAfter(deps.db, seq, MINTED_TOKEN_ACTIONS, CATCH_UP_PAGE);
      for (const row of rows) read(row.detail);
      seq = rows.at(-1)?.seq ?? seq;
      if (rows.length < CATCH_UP_PAGE || closed) break;
      await new Promise((resolve) => setImmediate(resolve)); // let requests run between pages
    }
    cursor = seq;
    caughtUp = true;
  };

  const follow = async (): Promise<void> => {
    for (;;) {
      const rows = await auditDetailsAfter(deps.db, cursor ?? 0, MINTED_TOKEN_ACTIONS, TAIL_PAGE);
      for (const row of rows) read(row.detail);
      cursor = rows.at(-1)?.seq ?? cursor;
      if (rows.length < TAIL_PAGE || closed) return;
    }
  };

  const poll = (): Promise<void> => {
    running ??= (cursor === undefined ? catchUp() : follow()).finally(() => {
      running = undefined;
    });
    return running;
  };
  const tick = (): void => {
    poll().catch((err: unknown) => deps.log.warn('status list: reading new token records failed; retrying', { err }));
  };
  const timer = setInterval(tick, deps.intervalMs);
  timer.unref();
  tick();

  return {
    caughtUp: () => caughtUp,
    poll,
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}

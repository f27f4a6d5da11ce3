// The overview's figures that cost a scan: token statistics aggregated by the database over the
// last 24 hours, and the access review's finding counts (reviewAccess reads every principal). Kept
// for STALE_MS: a page served while they are older starts one refresh in the background and
// shows the kept figures (stale-while-revalidate), so only the first overview after start waits
// for the aggregation (seconds on a trail with a million records in the window; measured by
// bench/console-bench.ts). The figures are per minute, so a minute's delay hides nothing.
import type { Database } from '../db/database.ts';
import { tokensBy, tokensPerMinute, topScopes, type KeyedCount, type MinuteCount } from '../db/console-stats.ts';
import { reviewAccess } from '../governance/access-review.ts';

const DAY = 86_400_000;
const STALE_MS = 60_000;

interface OverviewStats {
  readonly at: number;
  readonly minutes: readonly MinuteCount[];
  readonly byGrant: readonly KeyedCount[];
  readonly byClient: readonly KeyedCount[];
  readonly scopes: readonly { scope: string; tokens: number }[];
  /** The access review's findings by kind (counts only: no one is named here). */
  readonly findings: { readonly total: number; readonly byKind: Readonly<Record<string, number>> };
}

export interface OverviewStatsSource {
  get(): Promise<OverviewStats>;
}

export function createOverviewStats(db: Database, now: () => number, onError: (err: unknown) => void): OverviewStatsSource {
  let kept: OverviewStats | undefined;
  let running: Promise<OverviewStats> | undefined;
  const refresh = (): Promise<OverviewStats> => {
    running ??= (async () => {
      const at = now();
      const since = new Date(at - DAY);
      const [minutes, byGrant, byClient, scopes, review] = await Promise.all([
        tokensPerMinute(db, since),
        tokensBy(db, 'grant_type', since, 10),
        tokensBy(db, 'client', since, 10),
        topScopes(db, since, 10),
        reviewAccess(db, { unusedDays: 30, now: at }),
      ]);
      kept = { at, minutes, byGrant, byClient, scopes, findings: { total: review.summary.findings, byKind: review.summary.by_kind } };
      return kept;
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  return {
    get() {
      if (!kept) return refresh();
      if (now() - kept.at > STALE_MS) refresh().catch(onError);
      return Promise.resolve(kept);
    },
  };
}

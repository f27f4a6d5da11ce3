// The overview's token statistics, aggregated by the database over the last 24 hours and kept
// for STALE_MS: a page served while they are older starts one refresh in the background and
// shows the kept figures (stale-while-revalidate), so only the first overview after start waits
// for the aggregation (seconds on a trail with a million records in the window; measured by
// bench/console-bench.ts). The figures are per minute, so a minute's delay hides nothing.
import type { Database } from '../db/database.ts';
import { tokensBy, tokensPerMinute, topScopes, type KeyedCount, type MinuteCount } from '../db/console-stats.ts';

const DAY = 86_400_000;
const STALE_MS = 60_000;

interface TokenStats {
  readonly at: number;
  readonly minutes: readonly MinuteCount[];
  readonly byGrant: readonly KeyedCount[];
  readonly byClient: readonly KeyedCount[];
  readonly scopes: readonly { scope: string; tokens: number }[];
}

export interface TokenStatsSource {
  get(): Promise<TokenStats>;
}

export function createTokenStats(db: Database, now: () => number, onError: (err: unknown) => void): TokenStatsSource {
  let kept: TokenStats | undefined;
  let running: Promise<TokenStats> | undefined;
  const refresh = (): Promise<TokenStats> => {
    running ??= (async () => {
      const at = now();
      const since = new Date(at - DAY);
      const [minutes, byGrant, byClient, scopes] = await Promise.all([tokensPerMinute(db, since), tokensBy(db, 'grant_type', since, 10), tokensBy(db, 'client', since, 10), topScopes(db, since, 10)]);
      kept = { at, minutes, byGrant, byClient, scopes };
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

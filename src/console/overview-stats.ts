// The overview's figures, read afresh on every render. Token statistics come from the rollup
// each audit batch keeps current (src/db/token-rollup.ts): a few thousand rows at most for 24
// hours. The access review's finding counts come from this instance's policy in memory
// (reviewLive), a few milliseconds with 10,000 clients (bench/README.md).
import type { Database } from '../db/database.ts';
import { bucketOf, tokensBy, tokensPerMinute, type KeyedCount, type MinuteCount } from '../db/token-rollup.ts';
import { reviewLive } from '../governance/access-review.ts';
import type { PolicyStore } from '../governance/policy-store.ts';

const DAY = 86_400_000;

/** The access review's findings by kind (counts only: no one is named here). */
interface Findings {
  readonly total: number;
  readonly byKind: Readonly<Record<string, number>>;
}

interface OverviewStats {
  /** When the token figures were read. */
  readonly at: number;
  /** The series and the grant types count from this minute (epoch ms). */
  readonly since: number;
  /** Scopes count from this hour (hourly buckets: up to 25 hours). */
  readonly scopesSince: number;
  /** Clients count from this six-hour period (six-hour buckets: up to 30 hours). */
  readonly clientsSince: number;
  readonly minutes: readonly MinuteCount[];
  readonly byGrant: readonly KeyedCount[];
  readonly byClient: readonly KeyedCount[];
  readonly scopes: readonly { scope: string; tokens: number }[];
  readonly findings: Findings;
}

export interface OverviewStatsSource {
  get(): Promise<OverviewStats>;
}

export function createOverviewStats(db: Database, policy: Pick<PolicyStore, 'sync' | 'snapshot' | 'users'>, now: () => number): OverviewStatsSource {
  return {
    async get() {
      const at = now();
      // The bucket holding the instant 24 hours ago is included: each dimension's window starts
      // where that bucket does (a minute, an hour, six hours earlier at most).
      const dayAgo = Math.floor((at - DAY) / 60_000);
      const since = bucketOf('grant', dayAgo);
      const [minutes, byGrant, byClient, scopes, review] = await Promise.all([
        tokensPerMinute(db, since),
        tokensBy(db, 'grant', since, 10),
        tokensBy(db, 'client', bucketOf('client', dayAgo), 10),
        tokensBy(db, 'scope', bucketOf('scope', dayAgo), 10),
        reviewLive(db, policy, { unusedDays: 30, now: at }),
      ]);
      return {
        at, since: since * 60_000, scopesSince: bucketOf('scope', dayAgo) * 60_000, clientsSince: bucketOf('client', dayAgo) * 60_000,
        minutes, byGrant, byClient, scopes: scopes.map((s) => ({ scope: s.key, tokens: s.issued })),
        findings: { total: review.summary.findings, byKind: review.summary.by_kind },
      };
    },
  };
}

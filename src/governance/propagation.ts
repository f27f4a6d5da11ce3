// "When the command returns, the change is in force": after a write, wait (bounded) until every
// live server instance reports that it has applied the change id the write produced
// (src/db/instance-registry.ts). Used by the CLI (src/cli/propagation.ts) and the admin API.
// An instance is live while its heartbeat is recent; one that stops heartbeating (crashed,
// killed, frozen) counts as a laggard until LIVE_WITHIN_MS after its last heartbeat, then no more.
import type { Database } from '../db/database.ts';
import { instanceName, listLiveInstances } from '../db/server-instance-repository.ts';

export interface Propagation {
  /** The change id the write produced. */
  readonly change_id: number;
  /** Live instances that have applied it. */
  readonly applied: number;
  /** Live instances. */
  readonly live: number;
  /** Live instances that had not applied it when the wait ended, as host:pid/id. */
  readonly laggards: string[];
  /** applied === live: in force on every live instance (true with no live instance). */
  readonly complete: boolean;
  /** How long the wait took (ms). */
  readonly waited_ms: number;
}

// The registry is one small table; reading it costs a fraction of a millisecond. Instances
// report within milliseconds of a write (NOTIFY, or the SQLite notification file), so most
// waits end on the first or second read.
const CHECK_EVERY_MS = 5;

/** Waits up to `waitMs` for every live instance to apply `changeId`; 0 checks once. */
export async function awaitPropagation(db: Database, changeId: number, waitMs: number): Promise<Propagation> {
  const started = performance.now();
  for (;;) {
    const live = await listLiveInstances(db);
    const laggards = live.filter((i) => i.applied < changeId);
    const waited = performance.now() - started;
    if (!laggards.length || waited >= waitMs) {
      return {
        change_id: changeId,
        applied: live.length - laggards.length,
        live: live.length,
        laggards: laggards.map(instanceName).sort(),
        complete: !laggards.length,
        waited_ms: Math.round(waited),
      };
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(CHECK_EVERY_MS, waitMs - waited)));
  }
}

/** One line for people: "in force on 2/2 instances", or who has not applied it. */
export function describePropagation(p: Propagation, waitMs: number): string {
  if (!p.live) return 'no live instance; in force on the next start';
  if (p.complete) return `in force on ${p.applied}/${p.live} instance${p.live === 1 ? '' : 's'}`;
  return `in force on ${p.applied}/${p.live} instances; not applied within ${waitMs} ms by: ${p.laggards.join(', ')}`;
}

// Which server instances are running and which change each has applied (the ServerInstance
// table). Each instance registers at start, reports its applied change id right after applying
// changes and on a heartbeat, and deregisters at graceful shutdown. A command that wrote a
// change reads this table to learn when the change is in force everywhere
// (src/cli/propagation.ts, the admin API).
// A crashed or frozen instance stops heartbeating: after LIVE_WITHIN_MS it no longer counts as
// live, and its row is pruned later. The row only ever holds a change id whose effects are
// already in memory, so an instance waking from a freeze is a laggard until it has caught up.
// Cost: one small UPDATE per instance per heartbeat, through the raw SQL connection, off the
// token path; on SQLite it waits for the write lock like an audit batch does.
// Time: the database's clock on PostgreSQL (instances on several hosts must agree on "how long
// ago"), this host's clock on SQLite (one file, one host).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../log/logger.ts';
import { systemClock } from '../time/clock.ts';
import { readTime } from './dialect.ts';
import type { Database } from './database.ts';
import type { RawSql } from './raw-sql.ts';

const HEARTBEAT_MS = 1000;
/**
 * Ten missed heartbeats: not live. Generous on purpose: a loaded instance's heartbeat can be
 * seconds late (on SQLite a write retries the lock for up to 5 s), and declaring a serving
 * instance dead would let a command say a change is in force when it is not. The price: for
 * 10 s after a crash, commands name the dead instance as a laggard (and exit 75).
 */
const LIVE_WITHIN_MS = 10 * HEARTBEAT_MS;
/** Rows of instances gone this long are deleted by any instance's heartbeat. */
const PRUNE_AFTER_MS = 10 * 60_000;

export interface InstanceRow {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly applied: number;
  /** Milliseconds since its last heartbeat or report. */
  readonly ageMs: number;
}

/** host:pid/id, how an instance is named to operators. */
export const instanceName = (i: Pick<InstanceRow, 'host' | 'pid' | 'id'>): string => `${i.host}:${i.pid}/${i.id}`;

// The database's current time as a `timestamp(3)` column holds it (UTC wall time). Heartbeats
// are compared across processes, so on SQLite they take the system clock, never an injected one.
const dbNow = (sql: RawSql): { text: string; params: unknown[] } =>
  sql.dialect.kind === 'postgresql' ? { text: "(now() AT TIME ZONE 'UTC')", params: [] } : { text: '?', params: [sql.time(new Date(systemClock()))] };

/** Every registered instance with the age of its last heartbeat; live ones have ageMs < LIVE_WITHIN_MS. */
async function listInstances(sql: RawSql): Promise<InstanceRow[]> {
  if (sql.dialect.kind === 'postgresql') {
    const rows = await sql.query<{ id: string; host: string; pid: number; appliedChange: number; age: string | number }>(
      `SELECT "id", "host", "pid", "appliedChange", EXTRACT(EPOCH FROM ((now() AT TIME ZONE 'UTC') - "heartbeatAt")) * 1000 AS "age" FROM "ServerInstance"`,
    );
    return rows.map((r) => ({ id: r.id, host: r.host, pid: Number(r.pid), applied: Number(r.appliedChange), ageMs: Number(r.age) }));
  }
  const rows = await sql.query<{ id: string; host: string; pid: number; appliedChange: number; heartbeatAt: unknown }>(
    'SELECT "id", "host", "pid", "appliedChange", "heartbeatAt" FROM "ServerInstance"',
  );
  const now = systemClock();
  return rows.map((r) => ({ id: r.id, host: r.host, pid: Number(r.pid), applied: Number(r.appliedChange), ageMs: now - (readTime(r.heartbeatAt) ?? 0) }));
}

export async function liveInstances(sql: RawSql): Promise<InstanceRow[]> {
  return (await listInstances(sql)).filter((i) => i.ageMs < LIVE_WITHIN_MS);
}

export interface InstancePresence {
  readonly id: string;
  /** Reports the applied change id now (coalesced); call right after applying changes. */
  report(): void;
  /** Stops the heartbeat and removes this instance's row. */
  close(): Promise<void>;
}

/**
 * Registers this process as a live instance and keeps its row current. `applied` reads the
 * highest change id whose effects are in this process's memory.
 */
export async function registerInstance(deps: { db: Pick<Database, 'sql'>; applied: () => number; log: Logger; heartbeatMs?: number }): Promise<InstancePresence> {
  const { applied, log } = deps;
  const { sql } = deps.db;
  const id = randomUUID().slice(0, 8);
  const host = hostname();
  const insert = async (): Promise<void> => {
    const now = dbNow(sql);
    await sql.execute(
      `INSERT INTO "ServerInstance" ("id", "host", "pid", "startedAt", "heartbeatAt", "appliedChange") VALUES (?, ?, ?, ${now.text}, ${now.text}, ?)`,
      [id, host, process.pid, ...now.params, ...now.params, applied()],
    );
  };
  const beat = async (): Promise<void> => {
    const now = dbNow(sql);
    const changed = await sql.execute(`UPDATE "ServerInstance" SET "heartbeatAt" = ${now.text}, "appliedChange" = ? WHERE "id" = ?`, [...now.params, applied(), id]);
    // Pruned while this process was frozen (SIGSTOP, a long GC pause, a suspended VM): come back.
    if (!changed) await insert();
  };
  await insert();

  let inFlight: Promise<void> | undefined;
  let again = false;
  let closed = false;
  let failing = false; // one warning per outage, not one per second
  const report = (): void => {
    if (closed) return;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = (async () => {
      try {
        do {
          again = false;
          await beat();
        } while (again && !closed);
        if (failing) log.info('instance heartbeat recovered');
        failing = false;
      } catch (err) {
        if (!failing) log.warn('instance heartbeat failed; retrying every second (commands count this instance as live for 10 s)', { err: (err as Error).message });
        failing = true;
      } finally {
        inFlight = undefined;
      }
    })();
  };
  const timer = setInterval(report, deps.heartbeatMs ?? HEARTBEAT_MS);
  timer.unref();
  const pruner = setInterval(() => {
    pruneInstances(sql).catch((err: unknown) => log.warn('pruning old instance rows failed; will retry', { err: (err as Error).message }));
  }, 60_000);
  pruner.unref();

  return {
    id,
    report,
    async close() {
      closed = true;
      clearInterval(timer);
      clearInterval(pruner);
      // Bounded: with the database unreachable, shutdown must not wait on connection timeouts;
      // a row left behind stops counting as live after LIVE_WITHIN_MS anyway.
      const deregister = (async () => {
        await inFlight;
        await sql.execute('DELETE FROM "ServerInstance" WHERE "id" = ?', [id]);
      })();
      let deadline: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        deadline = setTimeout(() => reject(new Error('timed out')), 1000);
      });
      await Promise.race([deregister, timeout])
        .catch((err: unknown) => log.warn('could not deregister this instance; it stops counting as live after its heartbeat bound', { err: (err as Error).message }))
        .finally(() => clearTimeout(deadline));
      deregister.catch(() => undefined); // settled later, or never seen
    },
  };
}

/** Deletes rows of instances that stopped heartbeating long ago (crashed, killed -9). */
async function pruneInstances(sql: RawSql, olderThanMs = PRUNE_AFTER_MS): Promise<number> {
  if (sql.dialect.kind === 'postgresql') {
    return sql.execute(`DELETE FROM "ServerInstance" WHERE "heartbeatAt" < (now() AT TIME ZONE 'UTC') - make_interval(secs => ?)`, [olderThanMs / 1000]);
  }
  return sql.execute('DELETE FROM "ServerInstance" WHERE "heartbeatAt" < ?', [sql.time(new Date(systemClock() - olderThanMs))]);
}

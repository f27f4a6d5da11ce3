// The source networks each client has obtained tokens from (model ClientNetwork), shared by
// every instance and kept across restarts. src/governance/suspicious-use.ts decides what a new
// one means; this keeps the rows. Plain SQL (raw-sql.ts): these run beside token issuance.
import type { Database } from './database.ts';

export interface ClientNetworks {
  /** Whether the pair is recorded. */
  known(clientId: string, network: string): Promise<boolean>;
  /**
   * Records the pair unless it is recorded; true when this call recorded it. Of several
   * instances adding the same pair at once exactly one gets true: the primary key decides.
   */
  add(clientId: string, network: string, at: Date): Promise<boolean>;
  /** How many networks the client has used (after `add`: 1 means this was its first). */
  count(clientId: string): Promise<number>;
  /** Removes a pair whose event could not be recorded, so its next token tries again. */
  remove(clientId: string, network: string): Promise<void>;
  /** Moves the pair's last use forward (never back: instances report out of order). */
  seen(clientId: string, network: string, at: Date): Promise<void>;
}

export function clientNetworks(db: Pick<Database, 'sql'>): ClientNetworks {
  const { sql } = db;
  return {
    async known(clientId, network) {
      return (await sql.query('SELECT 1 AS "one" FROM "ClientNetwork" WHERE "clientId" = ? AND "network" = ?', [clientId, network])).length > 0;
    },
    async add(clientId, network, at) {
      const time = sql.time(at);
      const changed = await sql.execute(
        'INSERT INTO "ClientNetwork" ("clientId", "network", "firstSeenAt", "lastSeenAt") VALUES (?, ?, ?, ?) ON CONFLICT ("clientId", "network") DO NOTHING',
        [clientId, network, time, time],
      );
      return changed === 1;
    },
    async count(clientId) {
      const [row] = await sql.query<{ n: unknown }>('SELECT COUNT(*) AS "n" FROM "ClientNetwork" WHERE "clientId" = ?', [clientId]);
      return Number(row?.n ?? 0);
    },
    async remove(clientId, network) {
      await sql.execute('DELETE FROM "ClientNetwork" WHERE "clientId" = ? AND "network" = ?', [clientId, network]);
    },
    async seen(clientId, network, at) {
      const time = sql.time(at);
      await sql.execute('UPDATE "ClientNetwork" SET "lastSeenAt" = ? WHERE "clientId" = ? AND "network" = ? AND "lastSeenAt" < ?', [time, clientId, network, time]);
    },
  };
}

/** How long a network a client has not used since stays known (README "Retention"). */
export const CLIENT_NETWORK_KEEP_MS = 90 * 86_400_000;
const PRUNE_CHUNK = 500;

/**
 * Forgets networks a client has not used since `before`, in chunks of `chunk` rows (at most
 * `maxRounds` per call; the next maintenance run goes on), so no statement holds locks long. A
 * client's most recently used network is always kept: a client with no row counts its next
 * network as its first (routine, not suspicious), and a dormant client coming back from an
 * unknown network is exactly what suspicious-use.ts is there to report. Safe on several instances
 * at once: each statement deletes by primary key and re-checks the age, so a row another instance
 * just marked as seen stays.
 */
export async function pruneClientNetworks(db: Pick<Database, 'sql'>, before: Date, chunk = PRUNE_CHUNK, maxRounds = 20): Promise<number> {
  const time = db.sql.time(before);
  let removed = 0;
  for (let round = 0; round < maxRounds; round++) {
    const n = await db.sql.execute(
      `DELETE FROM "ClientNetwork" WHERE "lastSeenAt" < ? AND ("clientId", "network") IN (
         SELECT c."clientId", c."network" FROM "ClientNetwork" c WHERE c."lastSeenAt" < ? AND EXISTS (
           SELECT 1 FROM "ClientNetwork" n WHERE n."clientId" = c."clientId"
             AND (n."lastSeenAt" > c."lastSeenAt" OR (n."lastSeenAt" = c."lastSeenAt" AND n."network" > c."network")))
         LIMIT ${chunk})`,
      [time, time],
    );
    removed += n;
    if (n < chunk) break;
  }
  return removed;
}

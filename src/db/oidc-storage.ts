// oidc-provider's storage: one table for every model, indexed on grantId, uid, userCode and
// expiresAt (src/oidc/oidc-adapter.ts presents it as oidc-provider's Adapter). Plain SQL on
// the driver (raw-sql.ts): these run on every code exchange, refresh and sign-in step, where
// Prisma's per-query cost showed (one upsert opened a transaction, and on SQLite a new
// connection, each time).
import type { Database } from './database.ts';
import { readTime } from './dialect.ts';

/** A stored model instance as oidc-provider gave it, with the columns it is found by. */
export interface OidcRowInput {
  readonly payload: string;
  readonly grantId: string | null;
  readonly accountId: string | null;
  readonly clientId: string | null;
  readonly uid: string | null;
  readonly userCode: string | null;
  readonly expiresAt: Date | null;
}

export interface OidcRow {
  readonly payload: string;
  /** ms since the epoch, or null: never expires. */
  readonly expiresAt: number | null;
  /** ms since the epoch, or null: not consumed. */
  readonly consumedAt: number | null;
}

export type OidcLookup = 'id' | 'uid' | 'userCode';

const FIND: Record<OidcLookup, string> = {
  id: 'SELECT "payload", "expiresAt", "consumedAt" FROM "OidcPayload" WHERE "model" = ? AND "id" = ? LIMIT 1',
  uid: 'SELECT "payload", "expiresAt", "consumedAt" FROM "OidcPayload" WHERE "model" = ? AND "uid" = ? LIMIT 1',
  userCode: 'SELECT "payload", "expiresAt", "consumedAt" FROM "OidcPayload" WHERE "model" = ? AND "userCode" = ? LIMIT 1',
};

const UPSERT = `INSERT INTO "OidcPayload" ("model", "id", "payload", "grantId", "accountId", "clientId", "uid", "userCode", "expiresAt")
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT ("model", "id") DO UPDATE SET "payload" = excluded."payload", "grantId" = excluded."grantId",
         "accountId" = excluded."accountId", "clientId" = excluded."clientId", "uid" = excluded."uid",
         "userCode" = excluded."userCode", "expiresAt" = excluded."expiresAt"`;

export async function upsertOidcRow(db: Database, model: string, id: string, row: OidcRowInput): Promise<void> {
  const { sql } = db;
  await sql.execute(UPSERT, [model, id, row.payload, row.grantId, row.accountId, row.clientId, row.uid, row.userCode, row.expiresAt && sql.time(row.expiresAt)]);
}

/**
 * Stores the row unless one with the same id exists, in one statement; true when this call
 * stored it. What a one-time-use check needs: of two concurrent callers, exactly one is first.
 */
export async function insertOidcRowOnce(db: Database, model: string, id: string, row: OidcRowInput): Promise<boolean> {
  const { sql } = db;
  const stored = await sql.execute(
    `INSERT INTO "OidcPayload" ("model", "id", "payload", "grantId", "accountId", "clientId", "uid", "userCode", "expiresAt")
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT ("model", "id") DO NOTHING`,
    [model, id, row.payload, row.grantId, row.accountId, row.clientId, row.uid, row.userCode, row.expiresAt && sql.time(row.expiresAt)],
  );
  return stored !== 0;
}

/** Names the browser session a Grant was issued in, unless it already names one. */
export async function linkGrantToSession(db: Database, grantId: string, sessionUid: string): Promise<void> {
  await db.sql.execute(`UPDATE "OidcPayload" SET "sessionUid" = ? WHERE "model" = 'Grant' AND "id" = ? AND "sessionUid" IS NULL`, [sessionUid, grantId]);
}

export async function findOidcRow(db: Database, model: string, by: OidcLookup, value: string): Promise<OidcRow | undefined> {
  const [row] = await db.sql.query<{ payload: string; expiresAt: unknown; consumedAt: unknown }>(FIND[by], [model, value]);
  return row && { payload: row.payload, expiresAt: readTime(row.expiresAt), consumedAt: readTime(row.consumedAt) };
}

/** Marks a row consumed if no one did yet (compare-and-set); false when it was already consumed or is gone. */
export async function consumeOidcRow(db: Database, model: string, id: string, at: Date): Promise<boolean> {
  const { sql } = db;
  return (await sql.execute('UPDATE "OidcPayload" SET "consumedAt" = ? WHERE "model" = ? AND "id" = ? AND "consumedAt" IS NULL', [sql.time(at), model, id])) !== 0;
}

export async function grantIdOfOidcRow(db: Database, model: string, id: string): Promise<string | null | undefined> {
  const [row] = await db.sql.query<{ grantId: string | null }>('SELECT "grantId" FROM "OidcPayload" WHERE "model" = ? AND "id" = ?', [model, id]);
  return row?.grantId;
}

export async function deleteOidcRow(db: Database, model: string, id: string): Promise<void> {
  await db.sql.execute('DELETE FROM "OidcPayload" WHERE "model" = ? AND "id" = ?', [model, id]);
}

export async function deleteOidcRowsOfGrant(db: Database, model: string, grantId: string): Promise<void> {
  await db.sql.execute('DELETE FROM "OidcPayload" WHERE "model" = ? AND "grantId" = ?', [model, grantId]);
}

/** The grants issued in a browser session (by its uid), optionally for one client only. */
export async function grantsOfSession(db: Database, sessionUid: string, clientId?: string): Promise<string[]> {
  const rows = await db.sql.query<{ id: string }>(
    `SELECT "id" FROM "OidcPayload" WHERE "model" = 'Grant' AND "sessionUid" = ?${clientId === undefined ? '' : ' AND "clientId" = ?'}`,
    clientId === undefined ? [sessionUid] : [sessionUid, clientId],
  );
  return rows.map((r) => r.id);
}

/** Deletes rows expired before `now`; oidc-provider already ignores them on read. */
export async function pruneExpiredOidcRows(db: Database, now: Date): Promise<number> {
  const { count } = await db.prisma.oidcPayload.deleteMany({ where: { expiresAt: { lt: now } } });
  return count;
}

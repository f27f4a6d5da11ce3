// What a person can see and end on their account page, as stored: their live browser sessions
// and grants (oidc-provider's rows in OidcPayload, oidc-storage.ts) and the device facts kept
// beside the sessions (SessionDevice). The rules are in src/governance/account-activity.ts.
import type { Database } from './database.ts';
import { readTime } from './dialect.ts';

export interface LiveRow {
  readonly id: string;
  readonly payload: string;
  readonly uid: string | null;
  readonly sessionUid: string | null;
  readonly clientId: string | null;
  /** ms since the epoch, or null: never expires. */
  readonly expiresAt: number | null;
}

/** The person's live rows of one oidc-provider model (Session or Grant). */
export async function liveRowsOf(db: Database, model: 'Session' | 'Grant', accountId: string, now: Date): Promise<LiveRow[]> {
  const rows = await db.sql.query<{ id: string; payload: string; uid: string | null; sessionUid: string | null; clientId: string | null; expiresAt: unknown }>(
    `SELECT "id", "payload", "uid", "sessionUid", "clientId", "expiresAt" FROM "OidcPayload"
      WHERE "model" = ? AND "accountId" = ? AND ("expiresAt" IS NULL OR "expiresAt" > ?)`,
    [model, accountId, db.sql.time(now)],
  );
  return rows.map((r) => ({ id: r.id, payload: r.payload, uid: r.uid, sessionUid: r.sessionUid, clientId: r.clientId, expiresAt: readTime(r.expiresAt) }));
}

/** Deletes one browser session of the person (by uid); the number of rows deleted. */
export function deleteSessionOf(db: Database, accountId: string, uid: string): Promise<number> {
  return db.sql.execute(`DELETE FROM "OidcPayload" WHERE "model" = 'Session' AND "accountId" = ? AND "uid" = ?`, [accountId, uid]);
}

export interface DeviceRow {
  readonly sessionUid: string;
  readonly userAgent: string;
  readonly ip: string;
  readonly firstSeenAt: Date;
  readonly lastSeenAt: Date;
}

export const devicesOf = (db: Database, accountId: string): Promise<DeviceRow[]> => db.prisma.sessionDevice.findMany({ where: { accountId } });

/** Records that `sessionUid` was used now from this browser (first use: the row). */
export async function touchSessionDevice(db: Database, d: { sessionUid: string; accountId: string; userAgent: string; ip: string; at: Date }): Promise<void> {
  await db.prisma.sessionDevice.upsert({
    where: { sessionUid: d.sessionUid },
    create: { sessionUid: d.sessionUid, accountId: d.accountId, userAgent: d.userAgent, ip: d.ip, firstSeenAt: d.at, lastSeenAt: d.at },
    update: { accountId: d.accountId, userAgent: d.userAgent, ip: d.ip, lastSeenAt: d.at },
  });
}

export async function deleteDevices(db: Database, accountId: string, sessionUids: readonly string[]): Promise<void> {
  if (sessionUids.length) await db.prisma.sessionDevice.deleteMany({ where: { accountId, sessionUid: { in: [...sessionUids] } } });
}

// The notification outbox (the Notification table; src/notifications/ delivers it). A row is
// written in the transaction of the change it reports, or on its own; an instance claims due
// rows with a lease (a compare-and-set on one row: whichever UPDATE sees the lease free wins, on
// SQLite and PostgreSQL alike, with any number of instances), delivers, then records the
// outcome only while it still holds the lease. A crashed instance's lease runs out and another
// instance takes the row over: delivery is at least once, and once in the normal case
// (receivers deduplicate on the event id, as RFC 8935 §2 and Standard Webhooks advise).
import { prismaOf, type Reader } from './database.ts';

export type NotificationStatus = 'pending' | 'delivered' | 'failed';

export interface NotificationRow {
  readonly id: string;
  readonly type: string;
  readonly payload: string;
  readonly status: NotificationStatus;
  readonly attempts: number;
  readonly nextAttemptAt: Date;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly deliveredAt: Date | null;
}

const FIELDS = { id: true, type: true, payload: true, status: true, attempts: true, nextAttemptAt: true, lastError: true, createdAt: true, deliveredAt: true } as const;

export async function insertNotification(h: Reader, row: { id: string; type: string; payload: string; at: Date }): Promise<void> {
  await prismaOf(h).notification.create({ data: { id: row.id, type: row.type, payload: row.payload, nextAttemptAt: row.at, createdAt: row.at } });
}

/**
 * Claims up to `limit` due rows for `owner` until `leaseUntil`: pending, due, and not leased by
 * anyone else (or leased by someone whose lease ran out). Returns the rows it won.
 */
export async function claimDueNotifications(h: Reader, owner: string, now: Date, leaseUntil: Date, limit: number): Promise<NotificationRow[]> {
  const prisma = prismaOf(h);
  const free = { OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }] };
  const due = await prisma.notification.findMany({
    where: { status: 'pending', nextAttemptAt: { lte: now }, ...free },
    orderBy: { nextAttemptAt: 'asc' },
    take: limit,
    select: { id: true },
  });
  const won: NotificationRow[] = [];
  for (const { id } of due) {
    const { count } = await prisma.notification.updateMany({ where: { id, status: 'pending', ...free }, data: { leaseOwner: owner, leaseUntil } });
    if (count !== 1) continue; // another instance was first
    const row = await prisma.notification.findUnique({ where: { id }, select: FIELDS });
    if (row) won.push(row as NotificationRow);
  }
  return won;
}

/** Records an attempt's outcome while `owner` still holds the lease; false when it lost it. */
export async function settleNotification(
  h: Reader,
  id: string,
  owner: string,
  outcome: { status: NotificationStatus; attempts: number; nextAttemptAt?: Date; lastError: string | null; deliveredAt?: Date },
): Promise<boolean> {
  const { count } = await prismaOf(h).notification.updateMany({
    where: { id, leaseOwner: owner },
    data: { ...outcome, leaseOwner: null, leaseUntil: null },
  });
  return count === 1;
}

export async function listNotifications(h: Reader, filter: { status?: NotificationStatus; limit: number }): Promise<NotificationRow[]> {
  const rows = await prismaOf(h).notification.findMany({
    where: filter.status ? { status: filter.status } : {},
    orderBy: { createdAt: 'desc' },
    take: filter.limit,
    select: FIELDS,
  });
  return rows as NotificationRow[];
}

export async function findNotification(h: Reader, id: string): Promise<NotificationRow | undefined> {
  const row = await prismaOf(h).notification.findUnique({ where: { id }, select: FIELDS });
  return (row as NotificationRow | null) ?? undefined;
}

/** A failed row back to pending, due at `at`, with a fresh attempt budget; false unless it was failed. */
export async function requeueNotification(h: Reader, id: string, at: Date): Promise<boolean> {
  const { count } = await prismaOf(h).notification.updateMany({
    where: { id, status: 'failed' },
    data: { status: 'pending', attempts: 0, nextAttemptAt: at, leaseOwner: null, leaseUntil: null },
  });
  return count === 1;
}

/** Rows by status, for the metric taken at scrape time. */
export async function countNotifications(h: Reader): Promise<Record<NotificationStatus, number>> {
  const groups = await prismaOf(h).notification.groupBy({ by: ['status'], _count: { _all: true } });
  const counts: Record<NotificationStatus, number> = { pending: 0, delivered: 0, failed: 0 };
  for (const g of groups) if (g.status in counts) counts[g.status as NotificationStatus] = g._count._all;
  return counts;
}

/**
 * The outbox's retention, run by each instance's maintenance: delivered rows go after
 * `keepMs`; failed ones stay until retried (an operator must see them). Without a webhook
 * URL nothing is ever delivered, so pending rows older than `keepMs` go too: an install that
 * never configures a receiver keeps the last `keepMs` of events (sent once a URL is
 * configured), not every event since it started.
 */
export async function pruneNotificationOutbox(h: Reader, now: number, keepMs: number, webhookConfigured: boolean): Promise<number> {
  const before = new Date(now - keepMs);
  const statuses: NotificationStatus[] = webhookConfigured ? ['delivered'] : ['delivered', 'pending'];
  const { count } = await prismaOf(h).notification.deleteMany({ where: { status: { in: statuses }, createdAt: { lt: before } } });
  return count;
}

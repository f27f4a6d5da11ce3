// What operators see of the outbox and the one thing they do to it: list events (all, or only
// the failed ones) and send a failed event again. Used by `govauth notifications …` and the
// admin API, so both say the same thing; a retry is audited (admin.notification.retry).
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import type { Database } from '../db/database.ts';
import { findNotification, listNotifications, requeueNotification, type NotificationRow, type NotificationStatus } from '../db/notification-outbox.ts';
import { AppError } from '../errors/app-error.ts';

export interface NotificationView {
  readonly id: string;
  readonly type: string;
  readonly status: NotificationStatus;
  readonly attempts: number;
  /** When the next attempt is due (pending), else null. */
  readonly next_attempt_at: string | null;
  readonly last_error: string | null;
  readonly created_at: string;
  readonly delivered_at: string | null;
  readonly data: Readonly<Record<string, unknown>>;
}

const EVENT_ID = /^evt_[A-Za-z0-9_-]{1,64}$/;
export const MAX_LISTED = 500;

function view(row: NotificationRow): NotificationView {
  const event = JSON.parse(row.payload) as { data?: Record<string, unknown> };
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: row.status === 'pending' ? row.nextAttemptAt.toISOString() : null,
    last_error: row.lastError,
    created_at: row.createdAt.toISOString(),
    delivered_at: row.deliveredAt?.toISOString() ?? null,
    data: event.data ?? {},
  };
}

/** Newest first. */
export async function listNotificationViews(db: Database, filter: { failedOnly: boolean; limit?: number }): Promise<NotificationView[]> {
  const rows = await listNotifications(db, { ...(filter.failedOnly && { status: 'failed' as const }), limit: Math.min(filter.limit ?? 100, MAX_LISTED) });
  return rows.map(view);
}

/** A failed event back to pending, due now, with a fresh attempt budget. */
export async function retryNotification(db: Database, id: string, by: Actor, now: number): Promise<NotificationView> {
  if (!EVENT_ID.test(id)) throw new AppError('invalid_request', 'a notification id looks like evt_… (govauth notifications list)');
  await writeWithChanges(db, async (tx) => {
    const row = await findNotification(tx, id);
    if (!row) throw new AppError('not_found', `no notification ${id}`);
    if (!(await requeueNotification(tx, id, new Date(now)))) {
      throw new AppError('conflict', `notification ${id} is ${row.status}, not failed: only a failed notification is sent again`);
    }
    return { result: undefined, changes: [], audit: [adminEvent(by, 'admin.notification.retry', id, { status: row.status, attempts: row.attempts }, { status: 'pending', attempts: 0 }, { type: row.type })] };
  });
  const row = await findNotification(db, id);
  if (!row) throw new AppError('not_found', `no notification ${id}`);
  return view(row);
}

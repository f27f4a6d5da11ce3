// The outbox's retention, against a real database: delivered events go after 7 days, failed ones
// stay until retried, and pending ones go after 7 days only when no webhook URL is configured
// (nothing would ever send them). The clock is moved, not waited for.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { claimDueNotifications, insertNotification, listNotifications, pruneNotificationOutbox, settleNotification } from '../../src/db/notification-outbox.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const DAY = 86_400_000;
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ notificationPollMs: false });
});
afterAll(async () => t?.stop());

async function add(id: string, status: 'pending' | 'delivered' | 'failed'): Promise<void> {
  const now = new Date(t.server.db.now());
  await insertNotification(t.server.db, { id, type: 'client.disabled', payload: '{}', at: now });
  if (status === 'pending') return;
  // As a deliverer would: claim what is due, settle this one, hand the others back untouched.
  const claimed = await claimDueNotifications(t.server.db, 'test', now, new Date(now.getTime() + 60_000), 100);
  expect(claimed.map((r) => r.id)).toContain(id);
  for (const r of claimed) {
    const outcome = r.id === id ? { status, attempts: 1, lastError: status === 'failed' ? 'HTTP 500' : null, deliveredAt: status === 'delivered' ? now : undefined } : { status: r.status, attempts: r.attempts, lastError: r.lastError };
    expect(await settleNotification(t.server.db, r.id, 'test', outcome)).toBe(true);
  }
}

const ids = async (): Promise<string[]> => (await listNotifications(t.server.db, { limit: 100 })).map((r) => r.id).sort();

it('keeps failed events, prunes old delivered ones, and old pending ones only without a webhook', async () => {
  await add('evt_old_pending', 'pending');
  await add('evt_old_delivered', 'delivered');
  await add('evt_old_failed', 'failed');
  t.advance(8 * DAY);
  await add('evt_new_pending', 'pending');
  await add('evt_new_delivered', 'delivered');

  // With a webhook the old pending event is still on its way (its retries are the deliverer's business).
  expect(await pruneNotificationOutbox(t.server.db, t.server.db.now(), 7 * DAY, true)).toBe(1);
  expect(await ids()).toEqual(['evt_new_delivered', 'evt_new_pending', 'evt_old_failed', 'evt_old_pending']);

  // Without one, nothing will ever send it: after the retention it goes.
  expect(await pruneNotificationOutbox(t.server.db, t.server.db.now(), 7 * DAY, false)).toBe(1);
  expect(await ids()).toEqual(['evt_new_delivered', 'evt_new_pending', 'evt_old_failed']);
});

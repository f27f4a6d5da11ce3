// /notifications: the webhook outbox (as `govauth notifications list|retry`), through the same
// functions (src/notifications/notification-admin.ts). Reading needs the audit-read scope: the
// events name clients and people, as the audit trail does.
import { z } from 'zod';
import { listNotificationViews, MAX_LISTED, retryNotification } from '../notifications/notification-admin.ts';
import { queryBool, queryInt } from './schemas.ts';
import { route } from './route.ts';

const notificationView = z.strictObject({
  id: z.string().describe('The event id (evt_…): the SET jti, or the webhook-id header with HMAC signing'),
  type: z.string().describe('The event type (README "Notifications": the catalogue)'),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  next_attempt_at: z.string().nullable().describe('When the next attempt is due (pending only)'),
  last_error: z.string().nullable().describe('Why the last attempt failed: HTTP status and the start of the answer, a time-out or a connection error'),
  created_at: z.string(),
  delivered_at: z.string().nullable(),
  data: z.record(z.string(), z.unknown()).describe('The event data as sent'),
});

const listQuery = z.strictObject({
  failed: queryBool('Only the failed notifications (retries spent)').optional(),
  limit: queryInt(1, MAX_LISTED, 'How many of the newest (default 100)').optional(),
});

export const notificationRoutes = [
  route({
    method: 'GET', path: '/notifications', operationId: 'listNotifications', summary: 'Webhook notifications, newest first: delivered, pending or failed', tag: 'notifications', access: 'read',
    query: listQuery, response: z.strictObject({ notifications: z.array(notificationView) }),
    handle: async ({ deps, query }) => ({ notifications: await listNotificationViews(deps.db, { failedOnly: query.failed === true, ...(query.limit !== undefined && { limit: query.limit }) }) }),
  }),
  route({
    method: 'POST', path: '/notifications/{event_id}/retry', operationId: 'retryNotification', summary: 'Send a failed notification again (a fresh set of attempts, starting now); 409 unless it failed', tag: 'notifications', access: 'write', errors: [404, 409],
    response: z.strictObject({ notification: notificationView }),
    handle: async ({ deps, params, actor }) => ({ notification: await retryNotification(deps.db, params.event_id, actor, deps.now()) }),
  }),
];

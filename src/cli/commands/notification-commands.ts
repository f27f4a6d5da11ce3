// govauth notifications …: the webhook outbox (src/notifications/): what was sent, what is
// waiting for a retry, what failed, and sending a failed event again.
import type { Command } from '../command.ts';
import { table } from '../table.ts';

// Loaded when a command runs, not with the command list (src/cli/main.ts).
const notificationAdmin = () => import('../../notifications/notification-admin.ts');

export const notificationCommands: Command[] = [
  {
    name: 'notifications list',
    usage: 'govauth notifications list [--failed]',
    summary: 'webhook notifications, newest first: delivered, pending (with the next attempt) or failed (with the last error)',
    options: { failed: { type: 'boolean' } },
    positionals: [],
    async run({ values }, ctx) {
      const { listNotificationViews } = await notificationAdmin();
      const notifications = await listNotificationViews(await ctx.db(), { failedOnly: values.failed === true });
      return {
        json: { notifications },
        text: notifications.length
          ? table(
              ['ID', 'TYPE', 'STATUS', 'ATTEMPTS', 'CREATED', 'NEXT ATTEMPT', 'LAST ERROR'],
              notifications.map((n) => [n.id, n.type, n.status, String(n.attempts), n.created_at, n.next_attempt_at ?? '-', n.last_error ?? '-']),
            )
          : values.failed === true
            ? 'no failed notifications'
            : 'no notifications',
      };
    },
  },
  {
    name: 'notifications retry',
    usage: 'govauth notifications retry <id>',
    summary: 'send a failed notification again (a fresh set of attempts, starting now)',
    options: {},
    positionals: ['id'],
    async run({ positionals }, ctx) {
      const { retryNotification } = await notificationAdmin();
      const n = await retryNotification(await ctx.db(), positionals[0] ?? '', ctx.actor, ctx.now());
      return { json: { notification: n }, text: `notification ${n.id} (${n.type}) is pending again: a running server sends it within seconds` };
    },
  },
];

// The notification outbox in metrics: each delivery attempt by outcome (counted where it is
// settled, notification-deliverer.ts), and the outbox's rows by status, read at scrape time
// (the same figure from every instance: the database's, hence `max` across workers). Alert on
// govauth_notifications{status="failed"} > 0: an event that never reached the receiver.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { NotificationStatus } from '../db/notification-outbox.ts';
import type { NotificationMetrics } from '../notifications/notification-deliverer.ts';


export function createNotificationMetrics(registry: Registry, counts: () => Promise<Record<NotificationStatus, number>>): NotificationMetrics {
  const registers = [registry];
  const attempts = new Counter({
    name: 'govauth_notification_attempts_total',
    help: 'Webhook delivery attempts, by outcome: delivered, retry (failed, will be retried), failed (failed, retries spent)',
    labelNames: ['outcome'] as const,
    registers,
  });
  new Gauge({
    name: 'govauth_notifications',
    help: 'Notifications in the outbox, by status (pending, delivered, failed)',
    labelNames: ['status'] as const,
    aggregator: 'max',
    registers,
    async collect() {
      try {
        for (const [status, n] of Object.entries(await counts())) this.set({ status }, n);
      } catch {
        this.reset(); // the database is unreachable: no figure rather than a stale one
      }
    },
  });
  return { attempt: (outcome) => attempts.inc({ outcome }) };
}

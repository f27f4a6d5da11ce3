// Delivers the outbox to the webhook, in every server instance: each tick claims due events
// with a lease (notification-outbox.ts: one instance per event at a time), signs each with the
// key or secret of the moment, POSTs it, and records the outcome. A failure is retried with
// exponential backoff and jitter (so many instances' retries after an outage spread out) until
// GOVAUTH_WEBHOOK_MAX_ATTEMPTS, then the event is marked failed: a log line at error level, the
// govauth_notifications{status="failed"} gauge, `govauth notifications list --failed` and the
// admin API show it, and `govauth notifications retry <id>` sends it again.
// Time comes from the injected clock, so tests move it instead of sleeping through backoffs.
import { randomBytes } from 'node:crypto';
import type { WebhookConfig } from '../config/webhook-config.ts';
import type { Database } from '../db/database.ts';
import { claimDueNotifications, settleNotification, type NotificationRow } from '../db/notification-outbox.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../time/clock.ts';
import type { StoredEvent } from './notification-event.ts';
import { postWebhook } from './webhook-post.ts';
import type { RequestSigner } from './webhook-signing.ts';

const POLL_MS = 1000;
const BATCH = 10;
/** Covers a batch of attempts at the POST's time limit each, so a lease never ends mid-batch. */
const LEASE_MS = 120_000;
const FIRST_RETRY_MS = 10_000;
const LONGEST_RETRY_MS = 3_600_000;

/**
 * Milliseconds before attempt `attempts + 1`: 10 s doubling per attempt up to an hour, times a
 * random factor in [0.5, 1) ("equal jitter"), so retries from many instances do not align.
 */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.5 + random() / 2));
}

type AttemptOutcome = 'delivered' | 'retry' | 'failed';

/** Counts each attempt's outcome (src/metrics/notification-metrics.ts). */
export interface NotificationMetrics {
  attempt(outcome: AttemptOutcome): void;
}

export interface DelivererDeps {
  readonly db: Database;
  readonly config: WebhookConfig;
  readonly sign: RequestSigner;
  readonly issuer: string;
  readonly log: Logger;
  readonly now: Clock;
  readonly metrics: NotificationMetrics;
  /** GOVAUTH_OUTBOUND_FETCH_CA_FILE's authority (development). */
  readonly ca?: string;
  /** Tests: no timer; they call deliverDue() after moving the clock. */
  readonly pollMs?: number | false;
}

export interface NotificationDeliverer {
  /** Claims and delivers what is due now; resolves with the number of events attempted. */
  deliverDue(): Promise<number>;
  close(): Promise<void>;
}

export function startNotificationDeliverer(deps: DelivererDeps): NotificationDeliverer {
  const owner = `dlv_${randomBytes(9).toString('base64url')}`;
  const { db, config, log, now, metrics } = deps;
  let running: Promise<number> = Promise.resolve(0);
  let closed = false;
  let busy = false;

  async function attempt(row: NotificationRow): Promise<void> {
    const event = JSON.parse(row.payload) as StoredEvent;
    const attempts = row.attempts + 1;
    const outcome = await deps
      .sign(event, deps.issuer, now())
      .then((signed) => postWebhook(config.url, signed, { ca: deps.ca }))
      .catch((err: unknown) => ({ ok: false as const, error: `not signed: ${(err as Error).message}` }));
    const at = now();
    if (outcome.ok) {
      await settleNotification(db, row.id, owner, { status: 'delivered', attempts, lastError: null, deliveredAt: new Date(at) });
      metrics.attempt('delivered');
      log.info('notification delivered', { id: row.id, type: row.type, attempts });
      return;
    }
    if (attempts >= config.maxAttempts) {
      await settleNotification(db, row.id, owner, { status: 'failed', attempts, lastError: outcome.error });
      metrics.attempt('failed');
      log.error('notification failed: retries spent; `govauth notifications retry <id>` sends it again', { id: row.id, type: row.type, attempts, err: outcome.error });
      return;
    }
    const next = at + retryDelayMs(attempts);
    await settleNotification(db, row.id, owner, { status: 'pending', attempts, nextAttemptAt: new Date(next), lastError: outcome.error });
    metrics.attempt('retry');
    log.warn('notification not delivered; will retry', { id: row.id, type: row.type, attempts, next_attempt_at: new Date(next).toISOString(), err: outcome.error });
  }

  async function tick(): Promise<number> {
    const at = now();
    const rows = await claimDueNotifications(db, owner, new Date(at), new Date(at + LEASE_MS), BATCH);
    for (const [i, row] of rows.entries()) {
      if (closed) {
        // Shutting down: hand the rest back now rather than when their lease ends.
        for (const left of rows.slice(i)) await settleNotification(db, left.id, owner, { status: 'pending', attempts: left.attempts, nextAttemptAt: left.nextAttemptAt, lastError: left.lastError });
        return i;
      }
      await attempt(row);
    }
    return rows.length;
  }

  /** One tick at a time in this process; a call during a tick runs after it. */
  const deliverDue = (): Promise<number> => {
    running = running.catch(() => 0).then(tick);
    return running;
  };

  const pollMs = deps.pollMs ?? POLL_MS;
  const timer =
    pollMs === false
      ? undefined
      : setInterval(() => {
          if (closed || busy) return; // a slow receiver: the next tick starts when this one ends
          busy = true;
          deliverDue()
            .catch((err: unknown) => log.warn('notification delivery failed; will retry', { err: (err as Error).message }))
            .finally(() => {
              busy = false;
            });
        }, pollMs);
  timer?.unref();

  return {
    deliverDue,
    /** Waits for the attempt under way (at most the POST's time limit); the rest stay in the outbox. */
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      await running.catch(() => 0);
    },
  };
}

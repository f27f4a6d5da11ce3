// The one call every part of govauth uses to emit a notification (README, "Notifications"):
// an event goes into the outbox (src/db/notification-outbox.ts) and the webhook deliverer
// (notification-deliverer.ts) sends it, signed, retried, at least once. Two forms:
// - enqueueNotification(tx, event): inside the caller's transaction (writeWithChanges' `tx`),
//   so the event exists if and only if the change it reports committed (the outbox pattern);
// - emitNotification(db, event, log): on its own, for callers without a transaction. It never
//   throws and never delays the caller: a lost insert is logged, the caller's work stands.
// Events carry identifiers and facts, never secrets or tokens (SECURITY.md).
import { randomBytes } from 'node:crypto';
import type { Database, Tx } from '../db/database.ts';
import { insertNotification } from '../db/notification-outbox.ts';
import type { Logger } from '../log/logger.ts';

/** `area.what_happened`, lower case (e.g. client.disabled, access_request.approved). */
const EVENT_TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
/** Bytes the event's JSON may have: events are facts and identifiers, not documents. */
const MAX_EVENT_BYTES = 16 * 1024;

export interface NotificationEvent {
  /** From the catalogue in README "Notifications" (e.g. `client.disabled`). */
  readonly type: string;
  /** JSON-serializable facts about the event (identifiers, reasons, times); no secrets. */
  readonly data: Readonly<Record<string, unknown>>;
  /** When it happened (epoch ms, the injected clock); default: the database's clock at enqueue. */
  readonly occurredAt?: number;
}

/** The event as stored and sent; `issuer` is added at delivery by the server that sends it. */
export interface StoredEvent {
  readonly id: string;
  readonly type: string;
  readonly occurred_at: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** Who did it, as events name them: `{type: 'admin' | 'cli' | 'user' | 'client' | 'system', id}`. */
export function notifiedActor(by: { readonly actorType: string; readonly actor?: string | undefined }): { type: string; id: string | null } {
  return { type: by.actorType, id: by.actor ?? null };
}

const newEventId = (): string => `evt_${randomBytes(16).toString('base64url')}`;

/** The stored form, or a TypeError for a programmer's mistake (a bad type name, oversize data). */
function stored(event: NotificationEvent, now: number): StoredEvent {
  if (!EVENT_TYPE.test(event.type)) throw new TypeError(`notification type ${JSON.stringify(event.type)} must look like area.what_happened (lower case)`);
  const occurred = event.occurredAt ?? now;
  return { id: newEventId(), type: event.type, occurred_at: new Date(occurred).toISOString(), data: event.data };
}

function serialized(event: StoredEvent): string {
  const json = JSON.stringify(event);
  if (Buffer.byteLength(json) > MAX_EVENT_BYTES) throw new TypeError(`notification ${event.type} is larger than ${MAX_EVENT_BYTES} bytes`);
  return json;
}

/**
 * Adds `event` to the outbox inside the caller's transaction; commits or rolls back with it.
 * `now`: the caller's clock (db.now), used when the event has no occurredAt. Returns the event id.
 */
export async function enqueueNotification(tx: Tx, event: NotificationEvent, now: number): Promise<string> {
  const e = stored(event, now);
  await insertNotification(tx, { id: e.id, type: e.type, payload: serialized(e), at: new Date(now) });
  return e.id;
}

/**
 * Adds `event` to the outbox on its own, without waiting and without ever failing the caller:
 * a failed insert (database down, a programmer's mistake) is logged as an error.
 */
export function emitNotification(db: Database, event: NotificationEvent, log: Logger): void {
  const now = db.now();
  let e: StoredEvent;
  let payload: string;
  try {
    e = stored(event, now);
    payload = serialized(e);
  } catch (err) {
    log.error('notification not emitted', { type: event.type, err: (err as Error).message });
    return;
  }
  insertNotification(db, { id: e.id, type: e.type, payload, at: new Date(now) }).catch((err: unknown) =>
    log.error('notification lost: the outbox insert failed', { id: e.id, type: e.type, err: (err as Error).message }),
  );
}

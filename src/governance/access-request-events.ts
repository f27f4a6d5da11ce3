// The lifecycle of an access request as events, emitted after the write that made each one has
// committed: requested, approved (one approval; `completes` when it made the grant), denied,
// lapsed, cancelled, granted. One bus per process; a notifier (an outgoing webhook, CIBA's
// approvals page) subscribes here instead of reaching into the write path. A subscriber that
// throws is logged and never undoes or delays the decision.
// The bus is per process: steps taken by the CLI (another process) do not reach the server's
// bus. The webhook does not depend on it: each step's events also go into the notification
// outbox in the step's own transaction (access-requests.ts notifyAll), whichever process took it.

export type AccessRequestEventType = 'requested' | 'approved' | 'denied' | 'lapsed' | 'cancelled' | 'granted';

export interface AccessRequestEvent {
  readonly type: AccessRequestEventType;
  readonly requestId: string;
  /** The role asked for; null when the request is for one scope on one resource (`scope`). */
  readonly role: string | null;
  readonly scope?: { readonly name: string; readonly resource: string };
  readonly holder: { readonly type: 'user' | 'client'; readonly id: string; readonly label: string };
  /** Who acted: the requester, an approver (email), or "system" (a lapse). */
  readonly by: string;
  /** ISO 8601. */
  readonly at: string;
  /** granted: when the grant ends (ISO 8601). */
  readonly grantExpiresAt?: string;
}

export interface AccessRequestEvents {
  emit(events: readonly AccessRequestEvent[]): void;
  /** Returns the unsubscribe function. */
  subscribe(listener: (event: AccessRequestEvent) => void | Promise<void>): () => void;
}

export function createAccessRequestEvents(onError: (err: unknown, event: AccessRequestEvent) => void = () => undefined): AccessRequestEvents {
  const listeners = new Set<(event: AccessRequestEvent) => void | Promise<void>>();
  return {
    emit(events) {
      for (const event of events) {
        for (const listener of listeners) {
          try {
            Promise.resolve(listener(event)).catch((err: unknown) => onError(err, event));
          } catch (err) {
            onError(err, event);
          }
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** For callers with no subscriber (a CLI run): events go nowhere. */
export const NO_ACCESS_REQUEST_EVENTS: AccessRequestEvents = { emit: () => undefined, subscribe: () => () => undefined };

// PostgreSQL LISTEN for the change feed: writers NOTIFY at commit (change-feed.ts), so other
// instances refresh at once rather than at their next poll. Polling stays as the safety net
// (and is all SQLite has). The connection reconnects by itself with backoff.
import pg from 'pg';
import type { Logger } from '../log/logger.ts';
import { CHANGE_CHANNEL } from './change-feed.ts';

export interface ChangeListenerHandle {
  close(): Promise<void>;
}

export function listenForChanges(url: string, onNotify: () => void, log: Logger): ChangeListenerHandle {
  let client: pg.Client | undefined;
  let closed = false;
  let retryMs = 200;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    if (closed) return;
    const c = new pg.Client({ connectionString: url });
    c.on('notification', () => onNotify());
    c.on('error', (err) => {
      log.warn('change listener connection failed; reconnecting', { err: err.message });
      schedule();
    });
    c.on('end', () => {
      if (!closed) schedule();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANGE_CHANNEL}`);
      client = c;
      retryMs = 200;
      onNotify(); // catch up on anything committed while disconnected
    } catch (err) {
      log.warn('change listener could not connect; retrying', { err: (err as Error).message, retryMs });
      await c.end().catch(() => undefined);
      schedule();
    }
  };
  const schedule = (): void => {
    if (closed || timer) return;
    client = undefined;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, retryMs);
    timer.unref();
    retryMs = Math.min(retryMs * 2, 10_000);
  };

  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await client?.end().catch(() => undefined);
    },
  };
}

// Wake-ups for the change feed, so instances refresh at once rather than at their next poll.
// PostgreSQL: LISTEN, writers NOTIFY at commit (change-feed.ts); the connection reconnects by
// itself with backoff. SQLite: writers rewrite a small file next to the database after commit
// and instances watch it (inotify on Linux: every instance of one SQLite file is on this host).
// Polling stays the safety net for both.
import { closeSync, openSync, watch, type FSWatcher } from 'node:fs';
import pg from 'pg';
import type { Logger } from '../log/logger.ts';
import { CHANGE_CHANNEL } from './change-feed.ts';
import type { Database } from './database.ts';
import { dialectOf, sqliteNotifyPath } from './dialect.ts';

export interface ChangeListenerHandle {
  close(): Promise<void>;
}

function listenForChanges(url: string, onNotify: () => void, log: Logger): ChangeListenerHandle {
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

function watchSqliteChanges(url: string, onNotify: () => void, log: Logger): ChangeListenerHandle {
  const path = sqliteNotifyPath(url);
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const start = (): void => {
    if (closed) return;
    try {
      closeSync(openSync(path, 'a')); // watch needs the file; writers rewrite it in place
      watcher = watch(path, { persistent: false }, () => onNotify());
      watcher.on('error', (err) => retry(err));
      onNotify();
    } catch (err) {
      retry(err as Error);
    }
  };
  const retry = (err: Error): void => {
    watcher?.close();
    watcher = undefined;
    if (closed || timer) return;
    log.warn('cannot watch the change notification file; polling only until it can', { path, err: err.message });
    timer = setTimeout(() => {
      timer = undefined;
      start();
    }, 5000);
    timer.unref();
  };
  start();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher?.close();
      return Promise.resolve();
    },
  };
}

/** Wake-ups for the change feed of `db`, by whichever means its database has. */
export function watchChangeFeed(db: Pick<Database, 'kind' | 'url'>, onNotify: () => void, log: Logger): ChangeListenerHandle {
  // The LISTEN connection is not the pool's: it stays checked out for the life of the process
  // and is re-opened with backoff after a loss, which a pooled connection would not be.
  return dialectOf(db.kind).notifyStatement !== undefined ? listenForChanges(db.url, onNotify, log) : watchSqliteChanges(db.url, onNotify, log);
}

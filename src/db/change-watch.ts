// One way to hear that the change feed moved, whatever the database: PostgreSQL LISTEN, or the
// SQLite notification file (change-listener.ts). Callers never choose by database kind.
import type { Logger } from '../log/logger.ts';
import { listenForChanges, watchSqliteChanges, type ChangeListenerHandle } from './change-listener.ts';
import type { Database } from './database.ts';

export type { ChangeListenerHandle };

/** Calls `onChange` soon after any process commits a change (best effort: polling stays the safety net). */
export function watchChanges(db: Database, onChange: () => void, log: Logger): ChangeListenerHandle {
  return db.kind === 'postgresql' ? listenForChanges(db.url, onChange, log) : watchSqliteChanges(db.url, onChange, log);
}

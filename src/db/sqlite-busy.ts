// SQLITE_BUSY handling shared by both SQLite clients (sqlite-client.ts for Prisma, sqlite-raw.ts
// for the request path): recognising the error, and retrying asynchronously with jittered
// backoff until a deadline, so waiting for another process's write lock never blocks the event
// loop for longer than the connection's short busy_timeout.

/** SQLITE_BUSY (or one of its extended codes), as @libsql/client or libsql reports it. */
export function isBusy(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) || /SQLITE_BUSY|database is locked/i.test(String(message ?? err));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `op`, again after each BUSY (2 ms doubling to 50 ms, jittered) until `deadlineMs` has passed. */
export async function retryBusy<T>(op: () => T | Promise<T>, deadlineMs: number): Promise<T> {
  const started = performance.now();
  let delay = 2;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (!isBusy(err) || performance.now() - started >= deadlineMs) throw err;
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 50);
    }
  }
}

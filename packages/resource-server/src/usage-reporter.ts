// Usage reports to govauth (POST <issuer>/resource-usage, HTTP Basic with the resource server's
// own client credentials): each accepted or refused request, in batches, so the access review's
// "last used" reflects real use. Recording is O(1) and never waits; at most one report is in
// flight and at most one starts per interval (1 s); the queue is bounded and drops its oldest
// events, counting them, when govauth is away. The timer is unref'd: it never keeps a process up.
import { basicAuth, request, type Fetch } from './http.ts';

export interface UsageEvent {
  readonly jti: string | null;
  readonly route: string;
  readonly decision: 'allowed' | 'refused';
  readonly status: number;
  /** Epoch milliseconds. */
  readonly at: number;
  readonly scope?: readonly string[];
  readonly reason?: string;
}

export interface UsageReporterOptions {
  readonly endpoint: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly fetch: Fetch;
  readonly maxQueue: number;
  readonly intervalMs: number;
  readonly onError: (error: unknown) => void;
}

export interface UsageStats {
  readonly queued: number;
  readonly sent: number;
  readonly dropped: number;
  readonly failedReports: number;
}

export interface UsageReporter {
  record(event: UsageEvent): void;
  stats(): UsageStats;
  /** Stops the timer and sends what is queued (within `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>;
}

export const MAX_BATCH = 500;

export function createUsageReporter(options: UsageReporterOptions): UsageReporter {
  let queue: UsageEvent[] = [];
  let sent = 0;
  let dropped = 0;
  let failedReports = 0;
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function trim(): void {
    // shift() is O(1) for V8 arrays (left-trimming), so a full queue costs a record nothing more.
    while (queue.length > options.maxQueue) {
      queue.shift();
      dropped++;
    }
  }

  async function send(batch: UsageEvent[], timeoutMs: number): Promise<boolean> {
    try {
      const res = await request(options.fetch, options.endpoint, {
        method: 'POST',
        headers: { authorization: basicAuth(options.clientId, options.clientSecret), 'content-type': 'application/json' },
        body: JSON.stringify({ events: batch }),
        timeoutMs,
        maxBytes: 64_000,
      });
      if (res.status < 200 || res.status > 299) throw new Error(`usage report answered ${res.status}`);
      sent += batch.length;
      return true;
    } catch (err) {
      failedReports++;
      options.onError(err);
      return false;
    }
  }

  function tick(): void {
    if (inFlight || queue.length === 0) return;
    const batch = queue.splice(0, MAX_BATCH);
    inFlight = send(batch, 10_000).then((ok) => {
      // Not delivered: back to the front, oldest first, within the bound.
      if (!ok) {
        queue = batch.concat(queue);
        trim();
      }
      inFlight = undefined;
    });
  }

  return {
    record(event) {
      if (closed) return;
      queue.push(event);
      trim();
      if (!timer) {
        timer = setInterval(tick, options.intervalMs);
        timer.unref();
      }
    },
    stats: () => ({ queued: queue.length, sent, dropped, failedReports }),
    async close(timeoutMs = 5000) {
      closed = true;
      clearInterval(timer);
      const deadline = Date.now() + timeoutMs;
      await inFlight;
      while (queue.length && Date.now() < deadline) {
        const batch = queue.splice(0, MAX_BATCH);
        if (!(await send(batch, Math.max(1, deadline - Date.now())))) {
          queue = batch.concat(queue);
          break;
        }
      }
      dropped += queue.length;
      queue = [];
    },
  };
}

// An open-loop load: requests are due on a fixed schedule (a constant arrival rate), whatever
// the answers to earlier ones are doing, and each latency runs from the moment its request was
// due, not from when it was written. A server that stalls therefore shows the whole queueing
// delay its clients would see (no coordinated omission). autocannon's `overallRate` is not
// this: each of its connections sends back-to-back, closed-loop, until it has used that
// second's budget, then waits for the next second (bench/README.md, "Latency at a set rate").
import http from 'node:http';
import type { Socket } from 'node:net';
import type { LoadOptions } from './load.ts';

export interface OpenLoopOptions extends LoadOptions {
  /** Requests per second, spaced evenly (one every 1000/rate ms). */
  readonly rate: number;
  /** Seconds recorded, after `settleSec` at the same rate that open connections and are not. */
  readonly durationSec: number;
  readonly settleSec?: number;
  /** The most sockets the agent may open (default 256); requests beyond wait for one, counted. */
  readonly maxSockets?: number;
}

export interface OpenLoopResult {
  readonly name: string;
  readonly targetRate: number;
  /** Recorded responses per second, from the first recorded request's due time to the last answer. */
  readonly achievedRate: number;
  readonly requests: number;
  /** ms from due time to the end of the answer. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  /** ms the generator itself wrote requests behind schedule (99th percentile): its own timer lag. */
  readonly sendLagP99: number;
  /** Sockets opened, and the most requests outstanding at once. */
  readonly sockets: number;
  readonly maxInFlight: number;
  readonly non2xx: number;
  readonly errors: number;
}

/** The value at quantile q (nearest rank) of an ascending array. */
const quantile = (sorted: Float64Array, q: number): number => (sorted.length ? (sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? 0) : 0);
/** A request unanswered this long is an error (and ends the run instead of hanging it). */
const REQUEST_TIMEOUT_MS = 10_000;
const ms = (x: number): number => Math.round(x * 100) / 100;

export async function openLoop(name: string, options: OpenLoopOptions): Promise<OpenLoopResult> {
  const url = new URL(options.url);
  const body = Buffer.from(options.body ?? '');
  const headers = { ...options.headers, 'content-length': String(body.length) };
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 256, scheduling: 'lifo' });
  const interval = 1000 / options.rate;
  const skip = Math.round(options.rate * (options.settleSec ?? 1));
  const total = skip + Math.round(options.rate * options.durationSec);
  const latency = new Float64Array(total - skip);
  const lag = new Float64Array(total - skip);
  const sockets = new Set<Socket>();
  let recorded = 0;
  let settled = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let non2xx = 0;
  let errors = 0;
  let lastAnswer = 0;

  const start = performance.now() + 5;
  const firstRecordedDue = start + skip * interval;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      if (++settled === total) resolve();
    };
    const finish = (i: number, due: number, ok: boolean): void => {
      inFlight--;
      const now = performance.now();
      if (i >= skip) {
        if (ok) latency[recorded++] = now - due;
        lastAnswer = Math.max(lastAnswer, now);
      }
      done();
    };
    const send = (i: number, due: number): void => {
      if (i >= skip) lag[i - skip] = performance.now() - due;
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      let over = false;
      // Once per request, whatever fires: an error after the answer ended, or both req and res failing.
      const end = (outcome: 'ok' | 'non2xx' | 'error'): void => {
        if (over) return;
        over = true;
        if (i >= skip && outcome === 'non2xx') non2xx++;
        if (i >= skip && outcome === 'error') errors++;
        finish(i, due, outcome === 'ok');
      };
      const req = http.request({ agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method: options.method ?? 'POST', headers }, (res) => {
        const status = res.statusCode ?? 0;
        res.on('data', () => undefined);
        res.on('end', () => end(status >= 200 && status <= 299 ? 'ok' : 'non2xx'));
        res.on('error', () => end('error'));
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('timed out')));
      req.on('socket', (s) => sockets.add(s));
      req.on('error', () => end('error'));
      req.end(body);
    };
    // One timer for the next due request; every request already due goes out on each tick, so
    // a late tick (timers are 1 ms grained) costs the requests it delayed, in their latency.
    let next = 0;
    const tick = (): void => {
      const now = performance.now();
      while (next < total && start + next * interval <= now) {
        send(next, start + next * interval);
        next++;
      }
      if (next < total) setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
  agent.destroy();

  const sorted = latency.subarray(0, recorded).sort();
  const lags = lag.sort();
  return {
    name,
    targetRate: options.rate,
    achievedRate: Math.round((recorded * 1000) / Math.max(1, lastAnswer - firstRecordedDue)),
    requests: total - skip,
    p50: ms(quantile(sorted, 0.5)),
    p90: ms(quantile(sorted, 0.9)),
    p99: ms(quantile(sorted, 0.99)),
    max: ms(sorted.length ? (sorted[sorted.length - 1] ?? 0) : 0),
    sendLagP99: ms(quantile(lags, 0.99)),
    sockets: sockets.size,
    maxInFlight,
    non2xx,
    errors,
  };
}

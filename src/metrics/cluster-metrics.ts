// One scrape for the whole process group (GOVAUTH_WORKERS > 1). Each worker keeps its own
// registry; the primary asks every connected worker for it over the cluster IPC channel and
// merges them with prom-client's AggregatorRegistry.aggregate (counters and histograms summed,
// per-instance gauges kept apart by their label, the signing key age by max). The primary
// serves the metrics listener; a scrape on a worker's main port (GOVAUTH_METRICS_TOKEN) is
// forwarded to the primary, so either way the answer covers every worker.
//
// prom-client's own cluster mode is not used: it answers from a module-level registry list and
// fails the whole scrape when one worker is slow; a worker that does not answer in time (it
// may be crashing) is left out of this one scrape instead, and logged.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { Logger } from '../log/logger.ts';
import type { MetricsSource } from './http-metrics.ts';
import type { Metrics } from './metrics.ts';

const REQUEST = 'govauth:metrics-request'; // primary → worker: send your registry
const REPLY = 'govauth:metrics-reply'; // worker → primary
const SCRAPE = 'govauth:metrics-scrape'; // worker → primary: a scrape on the main port
const SCRAPED = 'govauth:metrics-scraped'; // primary → worker: the group's text
const WORKER_TIMEOUT_MS = 3000;

type Json = MetricObjectWithValues<MetricValue<string>>[];
interface Message {
  readonly type?: unknown;
  readonly id?: unknown;
  readonly metrics?: Json;
  readonly text?: string;
  readonly error?: string;
}
const asMessage = (m: unknown): Message => (m && typeof m === 'object' ? m : {});

/** In a worker: answers the primary with this registry; returns the source for main-port scrapes. */
export function workerMetrics(metrics: Metrics): MetricsSource {
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  let nextId = 0;
  process.on('message', (raw: unknown) => {
    const m = asMessage(raw);
    if (m.type === REQUEST) {
      metrics.registry.getMetricsAsJSON().then(
        (json) => process.send?.({ type: REPLY, id: m.id, metrics: json }),
        (err: unknown) => process.send?.({ type: REPLY, id: m.id, error: (err as Error).message }),
      );
    } else if (m.type === SCRAPED && typeof m.id === 'number') {
      const w = waiting.get(m.id);
      if (!w) return;
      waiting.delete(m.id);
      clearTimeout(w.timer);
      if (typeof m.text === 'string') w.resolve(m.text);
      else w.reject(new Error(m.error ?? 'no metrics from the primary'));
    }
  });
  return {
    contentType: Registry.PROMETHEUS_CONTENT_TYPE,
    text: () =>
      new Promise<string>((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error('the cluster primary did not answer with metrics'));
        }, 2 * WORKER_TIMEOUT_MS);
        waiting.set(id, { resolve, reject, timer });
        process.send?.({ type: SCRAPE, id });
      }),
  };
}

/** In the primary: the merged metrics of every worker. */
export function groupMetrics(log: Logger): MetricsSource {
  const collections = new Map<number, { readonly replies: Json[]; pending: Set<number>; done: () => void }>();
  let nextId = 0;

  const collect = async (): Promise<string> => {
    const id = nextId++;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => Boolean(w?.isConnected()));
    const replies: Json[] = [];
    const pending = new Set(workers.map((w) => w.id));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, WORKER_TIMEOUT_MS);
      function done(): void {
        clearTimeout(timer);
        collections.delete(id);
        resolve();
      }
      collections.set(id, { replies, pending, done });
      for (const w of workers) w.send({ type: REQUEST, id }, (err: Error | null) => err && pending.delete(w.id));
      if (!pending.size) done();
    });
    if (pending.size) log.warn('metrics: workers did not answer in time; left out of this scrape', { workers: [...pending] });
    if (!replies.length) throw new Error('no worker answered with metrics');
    return AggregatorRegistry.aggregate(replies).metrics();
  };

  cluster.on('message', (worker: Worker, raw: unknown) => {
    const m = asMessage(raw);
    if (m.type === REPLY && typeof m.id === 'number') {
      const c = collections.get(m.id);
      if (!c || !c.pending.delete(worker.id)) return;
      if (m.metrics) c.replies.push(m.metrics);
      else log.warn('metrics: a worker could not read its registry', { worker: worker.id, err: m.error });
      if (!c.pending.size) c.done();
    } else if (m.type === SCRAPE) {
      collect().then(
        (text) => worker.send({ type: SCRAPED, id: m.id, text }),
        (err: unknown) => worker.send({ type: SCRAPED, id: m.id, error: (err as Error).message }),
      );
    }
  });
  return { contentType: Registry.PROMETHEUS_CONTENT_TYPE, text: collect };
}

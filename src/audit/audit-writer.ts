// Durable audit records on the request path, with group commit: `record()` resolves only once
// the record is committed, and records of concurrent requests share one transaction. While a
// batch is being written, new records queue and go in the next batch, so throughput follows
// the database's commit rate rather than one commit per request. Before each batch the writer
// yields one event-loop turn, so requests already in flight can join it (SQLite's driver is
// synchronous: without the yield nothing else runs between commits and batches hold one
// record). A failed batch rejects every waiting request (they answer 503): nothing is
// acknowledged that is not on disk.
import type { AuditLogTarget } from '../db/audit-log.ts';
import type { Logger } from '../log/logger.ts';
import { trace, type Context, type Link } from '@opentelemetry/api';
import type { Clock } from '../time/clock.ts';
import { NO_TRACING, type Tracing } from '../tracing/tracing.ts';
import { appendAuditBatch, type Alongside, type AuditInput } from './audit-chain.ts';

export interface AuditWriter {
  record(event: AuditInput): Promise<void>;
  /** Resolves when everything queued so far is committed. */
  flush(): Promise<void>;
  readonly stats: { batches: number; records: number; largestBatch: number };
  close(): Promise<void>;
}

interface Pending {
  readonly event: AuditInput;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  /** The trace of the request that recorded it (undefined without tracing). */
  readonly context: Context | undefined;
}

export interface AuditWriterOptions {
  readonly maxBatch?: number;
  /** Rows derived from each batch, written in its transaction (audit-chain.ts Alongside). */
  readonly alongside?: readonly Alongside[];
  readonly tracing?: Tracing;
  /** The time of records that carry none: when their batch is appended. The composition root passes its clock. */
  readonly now: Clock;
  /** Told of every batch: commit time, records, committed or not (metrics). */
  readonly onBatch?: (seconds: number, records: number, committed: boolean) => void;
}

export function createAuditWriter(target: AuditLogTarget, log: Logger, options: AuditWriterOptions): AuditWriter {
  const { now } = options;
  const maxBatch = options.maxBatch ?? 1000;
  const tracing = options.tracing ?? NO_TRACING;
  let queue: Pending[] = [];
  let running: Promise<void> | undefined;
  let closed = false;
  const stats = { batches: 0, records: 0, largestBatch: 0 };

  const writeBatch = async (batch: Pending[]): Promise<void> => {
    const inputs = batch.map((p) => p.event);
    const started = performance.now();
    try {
      await commitSpan(tracing, batch, () => appendAuditBatch(target, inputs, new Date(now()), options.alongside));
      options.onBatch?.((performance.now() - started) / 1000, batch.length, true);
      stats.batches++;
      stats.records += batch.length;
      stats.largestBatch = Math.max(stats.largestBatch, batch.length);
      for (const p of batch) p.resolve();
    } catch (err) {
      options.onBatch?.((performance.now() - started) / 1000, batch.length, false);
      log.error('audit write failed; the requests waiting on it are refused', { err: (err as Error).message, records: batch.length });
      for (const p of batch) p.reject(err);
    }
  };

  const drain = (): Promise<void> => {
    running ??= (async () => {
      while (queue.length) {
        await new Promise((resolve) => setImmediate(resolve));
        const batch = queue.slice(0, maxBatch);
        queue = queue.slice(batch.length);
        await writeBatch(batch);
      }
    })().finally(() => {
      running = undefined;
      // A record queued after the loop's last look at the queue, while this promise settled,
      // found `running` still set and started nothing: without this it waited for the next
      // record to arrive, however long that took (a quiet server: a token response held).
      if (queue.length) void drain();
    });
    return running;
  };

  return {
    stats,
    record(event) {
      if (closed) return Promise.reject(new Error('audit writer is closed'));
      return new Promise<void>((resolve, reject) => {
        queue.push({ event, resolve, reject, context: tracing.active() });
        void drain();
      });
    },
    async flush() {
      while (running || queue.length) await drain();
    },
    async close() {
      closed = true;
      while (running || queue.length) await drain();
    },
  };
}

/**
 * One span per group commit, with the batch size. A batch serves many requests: it is a child
 * of the first traced request in it and links to the others (OTel's model for batch work), so
 * each request's trace reaches the commit it waited for. Batches of background records only
 * (no traced request) get no span.
 */
function commitSpan<T>(tracing: Tracing, batch: readonly Pending[], work: () => Promise<T>): Promise<T> {
  if (!tracing.enabled) return work();
  const traced = batch.flatMap((p) => {
    const span = p.context && trace.getSpanContext(p.context);
    return p.context && span ? [{ context: p.context, span }] : [];
  });
  const [first, ...rest] = traced;
  if (!first) return work();
  const links: Link[] = rest.map((p) => ({ context: p.span }));
  return tracing.inSpan('govauth.audit.commit', { parent: first.context, links, attributes: { 'govauth.audit.batch_size': batch.length } }, work);
}

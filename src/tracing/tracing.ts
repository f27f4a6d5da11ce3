// OpenTelemetry tracing, off unless an OTLP endpoint is configured (config.tracing). When off,
// every call lands on NO_TRACING: no provider, no exporter, no context bookkeeping, and the
// callers below skip their wrappers entirely (app.ts, raw-sql.ts), so the request path is what
// it was without tracing.
//
// Context: parent/child links across awaits need an async context. Instead of registering a
// global context manager and tracer provider with @opentelemetry/api (process-wide state,
// which would make two servers in one process, as in the tests, share one exporter), each
// Tracing keeps its own AsyncLocalStorage of the active OTel Context and starts spans with an
// explicit parent. Only govauth's own seams create spans, so nothing needs the global API.
// The SDK and the OTLP exporter are in create-tracing.ts, loaded only when tracing is on.
import {
  INVALID_SPAN_CONTEXT,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanKind,
} from '@opentelemetry/api';

interface SpanOptions {
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
  /** The parent; the active span when omitted. */
  readonly parent?: Context;
  readonly links?: readonly Link[];
  /**
   * Create the span only inside a traced operation (a request, an audit batch): database work
   * of background timers (the policy poll runs every 250 ms) would otherwise be a stream of
   * one-span traces.
   */
  readonly onlyWithParent?: boolean;
}

export interface Tracing {
  readonly enabled: boolean;
  /** Runs `work` inside a new span, ended when `work` settles; a throw marks it ERROR. */
  inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T>;
  /** The active context, to carry into work that runs later (the audit group commit). */
  active(): Context | undefined;
  /** Flushes finished spans and stops the exporter. */
  shutdown(): Promise<void>;
}

/** A span that records nothing: what work runs with when no span is created. */
export const NON_RECORDING = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

export const NO_TRACING: Tracing = Object.freeze({
  enabled: false,
  inSpan: <T>(_name: string, _options: SpanOptions, work: (span: Span) => Promise<T>) => work(NON_RECORDING),
  active: () => undefined,
  shutdown: () => Promise.resolve(),
});

/**
 * What a failure says on a span: its type and a short message. No stack (noise in a trace
 * backend) and no request data: messages of govauth's errors and of the database drivers name
 * the problem, not the values (tokens and secrets never reach a span).
 */
export function markFailed(span: Span, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  span.setAttribute('error.type', typeof code === 'string' ? code : e.name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message.slice(0, 200) });
}

/**
 * Flushes and stops tracing at shutdown, waiting at most `ms`: an unreachable collector must
 * not hold up the exit (the exporter's own timeout is 10 s per request). Never rejects.
 */
export async function shutdownTracing(tracing: Tracing, ms: number): Promise<'flushed' | 'timed out' | 'failed'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      tracing.shutdown().then(() => 'flushed' as const),
      new Promise<'timed out'>((resolve) => {
        timer = setTimeout(() => resolve('timed out'), ms);
      }),
    ]);
  } catch {
    return 'failed';
  } finally {
    clearTimeout(timer);
  }
}

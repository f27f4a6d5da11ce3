// A Tracing backed by OpenTelemetry's SDK and OTLP exporter (tracing.ts says how spans nest).
// Apart from tracing.ts so that a process with tracing off (the default) never loads them:
// the SDK, the exporter and what they import (otlp-transformer, sdk-metrics) took ~40 ms of a
// server's start and of every process that imports tracing.ts (bench/cli-bench.ts).
import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, trace, type Context, type Link } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { TracingConfig, TracesSampler } from '../config/tracing-config.ts';
import { markFailed, NO_TRACING, NON_RECORDING, type Tracing } from './tracing.ts';

function sampler(config: TracesSampler): Sampler {
  const root = (name: string): Sampler =>
    name.endsWith('always_off') ? new AlwaysOffSampler() : name.endsWith('traceidratio') ? new TraceIdRatioBasedSampler(config.ratio) : new AlwaysOnSampler();
  // parentbased_*: a caller's sampled flag (W3C traceparent) decides for its requests.
  return config.name.startsWith('parentbased_') ? new ParentBasedSampler({ root: root(config.name) }) : root(config.name);
}

export interface TracingOverrides {
  /** Test-only: export here (e.g. InMemorySpanExporter), synchronously, instead of OTLP. */
  readonly exporter?: SpanExporter;
}

/**
 * Builds a Tracing from the configuration: NO_TRACING unless tracing is enabled (or a test
 * passes an exporter). Spans go through a BatchSpanProcessor (the SDK reads OTEL_BSP_* itself)
 * to OTLP over HTTP; the exporter also reads OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT and
 * _COMPRESSION itself.
 */
export function createTracing(config: TracingConfig, overrides: TracingOverrides = {}, version?: string): Tracing {
  if (!config.enabled && !overrides.exporter) return NO_TRACING;
  const processor = overrides.exporter
    ? new SimpleSpanProcessor(overrides.exporter)
    : new BatchSpanProcessor(new OTLPTraceExporter({ url: config.endpoint }));
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName, ...(version ? { [ATTR_SERVICE_VERSION]: version } : {}) }),
    sampler: sampler(config.sampler),
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer('govauth', version);
  const store = new AsyncLocalStorage<Context>();

  return {
    enabled: true,
    active: () => store.getStore(),
    async inSpan(name, options, work) {
      const parent = options.parent ?? store.getStore();
      if (options.onlyWithParent && !(parent && trace.getSpan(parent))) return work(NON_RECORDING);
      const base = parent ?? ROOT_CONTEXT;
      const span = tracer.startSpan(name, { kind: options.kind, attributes: options.attributes, links: options.links as Link[] | undefined }, base);
      return store.run(trace.setSpan(base, span), async () => {
        try {
          return await work(span);
        } catch (err) {
          markFailed(span, err);
          throw err;
        } finally {
          span.end();
        }
      });
    },
    shutdown: () => provider.shutdown(),
  };
}


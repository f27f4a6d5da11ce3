// OpenTelemetry tracing settings (src/tracing), read from the standard OTEL_* variables.
import { EnvValueError, parseEnum, parseHttpUrl } from './env-parsers.ts';
import type { Env, Read } from './env-reader.ts';

const TRACES_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export interface TracesSampler {
  readonly name: (typeof TRACES_SAMPLERS)[number];
  /** OTEL_TRACES_SAMPLER_ARG: the sampled fraction for the *traceidratio samplers. */
  readonly ratio: number;
}

export interface TracingConfig {
  /** An OTLP endpoint is set and OTEL_SDK_DISABLED is not true. */
  readonly enabled: boolean;
  /** Where spans are POSTed (OTLP/HTTP, JSON): the traces endpoint, or <endpoint>/v1/traces. */
  readonly endpoint: string | undefined;
  readonly serviceName: string;
  readonly sampler: TracesSampler;
}

/**
 * The standard OpenTelemetry SDK variables that govauth honours
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/): tracing
 * is on when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is set, unless
 * OTEL_SDK_DISABLED=true. The signal-specific endpoint is used as given; the generic one gets
 * /v1/traces appended (OTLP exporter spec, "Endpoint URLs for OTLP/HTTP").
 */
export function readTracing(env: Env, read: Read, problems: string[]): TracingConfig {
  const tracesEndpoint = read<string | undefined>('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', undefined, parseHttpUrl);
  const baseEndpoint = read<string | undefined>('OTEL_EXPORTER_OTLP_ENDPOINT', undefined, parseHttpUrl);
  const endpoint = tracesEndpoint ?? (baseEndpoint ? `${baseEndpoint}/v1/traces` : undefined);
  // The spec: only "true" (case-insensitive) disables; anything else leaves the SDK on.
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  const serviceName = read('OTEL_SERVICE_NAME', 'govauth', (v) => v.trim());
  const name = read<TracesSampler['name']>('OTEL_TRACES_SAMPLER', 'parentbased_always_on', (v) => parseEnum(v.trim().toLowerCase(), TRACES_SAMPLERS));
  const ratio = read('OTEL_TRACES_SAMPLER_ARG', 1, (v) => {
    const n = Number(v.trim());
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new EnvValueError('must be a fraction between 0 and 1 (e.g. 0.1 samples one trace in ten)');
    return n;
  });
  // govauth ships the OTLP/HTTP JSON exporter only; say so rather than send what the collector
  // does not expect on that port.
  for (const variable of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const protocol = env[variable]?.trim();
    if (protocol && protocol !== 'http/json' && endpoint && !disabled) {
      problems.push(`${variable}=${JSON.stringify(protocol)}: govauth exports traces as OTLP over HTTP with JSON; set it to http/json or leave it unset (an OpenTelemetry Collector accepts both on its HTTP port, 4318)`);
    }
  }
  return { enabled: Boolean(endpoint) && !disabled, endpoint, serviceName: serviceName || 'govauth', sampler: { name, ratio } };
}

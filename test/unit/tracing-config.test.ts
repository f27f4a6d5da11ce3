// The standard OpenTelemetry variables govauth reads (tracing-config.ts readTracing).
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';

describe('tracing configuration', () => {
  it('is off by default, with the govauth service name and parent-based always-on sampling', () => {
    expect(loadConfig({}).tracing).toEqual({ enabled: false, endpoint: undefined, serviceName: 'govauth', sampler: { name: 'parentbased_always_on', ratio: 1 } });
  });

  it('turns on with OTEL_EXPORTER_OTLP_ENDPOINT, posting to <endpoint>/v1/traces', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing).toMatchObject({ enabled: true, endpoint: 'http://collector:4318/v1/traces' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example/base/' }).tracing.endpoint).toBe('https://otel.example/base/v1/traces');
  });

  it('uses OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, before the generic endpoint', () => {
    const c = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/custom/traces' });
    expect(c.tracing).toMatchObject({ enabled: true, endpoint: 'http://b:4318/custom/traces' });
  });

  it('stays off with OTEL_SDK_DISABLED=true (only "true" disables, as the specification says)', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'TRUE' }).tracing.enabled).toBe(false);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'false' }).tracing.enabled).toBe(true);
  });

  it('reads OTEL_SERVICE_NAME and the sampler', () => {
    const c = loadConfig({ OTEL_SERVICE_NAME: 'auth-eu', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' });
    expect(c.tracing).toMatchObject({ serviceName: 'auth-eu', sampler: { name: 'parentbased_traceidratio', ratio: 0.25 } });
  });

  it('refuses a bad sampler, ratio, endpoint or protocol at start with a clear message', () => {
    expect(() => loadConfig({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER="sometimes": must be one of: always_on, always_off, traceidratio/);
    expect(() => loadConfig({ OTEL_TRACES_SAMPLER_ARG: '1.5' })).toThrow(/OTEL_TRACES_SAMPLER_ARG="1.5": must be a fraction between 0 and 1/);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT=.*must use https/);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL="grpc": govauth exports traces as OTLP over HTTP with JSON/);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).tracing.enabled).toBe(true);
  });

  it('never prints credentials put in an endpoint URL', () => {
    let message = '';
    try {
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://user:s3cr3t-token@otel.example' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/OTEL_EXPORTER_OTLP_ENDPOINT=.*must not contain credentials/);
    expect(message).not.toContain('s3cr3t-token');
  });
});

// Where Prometheus metrics (src/metrics/) are served: their own listener
// (GOVAUTH_METRICS_LISTEN) and/or the main port behind a bearer token (GOVAUTH_METRICS_TOKEN).
import { EnvValueError } from './env-parsers.ts';
import type { Read } from './env-reader.ts';

export interface MetricsConfig {
  /** Its own listener (GOVAUTH_METRICS_LISTEN); undefined when off. */
  readonly listen: { readonly host: string; readonly port: number } | undefined;
  /** GOVAUTH_METRICS_TOKEN: also serve /metrics on the main port to this bearer token. */
  readonly token: string | undefined;
}

/** `mainPort`: GOVAUTH_PORT, which the metrics listener must not take. */
export function readMetrics(read: Read, problems: string[], testMode: boolean, mainPort: number): MetricsConfig {
  // Off by default only for NODE_ENV=test, where many servers run at once on one host.
  const listen = read<MetricsConfig['listen']>('GOVAUTH_METRICS_LISTEN', testMode ? undefined : { host: '127.0.0.1', port: 9464 }, parseListenAddress);
  const token = read<string | undefined>('GOVAUTH_METRICS_TOKEN', undefined, parseMetricsToken);
  if (listen && listen.port !== 0 && listen.port === mainPort) {
    problems.push(`GOVAUTH_METRICS_LISTEN uses GOVAUTH_PORT (${mainPort}): metrics get their own port; to serve /metrics on the main port set GOVAUTH_METRICS_TOKEN (and GOVAUTH_METRICS_LISTEN=off if you want only that)`);
  }
  return { listen, token };
}

/** `off`, `host:port`, `[ipv6]:port` or a bare port (on 127.0.0.1). */
function parseListenAddress(raw: string): { host: string; port: number } | undefined {
  const v = raw.trim();
  if (/^(off|false|no|none)$/i.test(v)) return undefined;
  const hint = 'must be off, a port, or host:port (e.g. 127.0.0.1:9464, 0.0.0.0:9464, [::1]:9464)';
  const m = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):)?(\d+)$/.exec(v);
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new EnvValueError(`${hint}; ports go up to 65535`);
  return { host: m[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port };
}

/**
 * A bearer token for /metrics on the main port. Long and random, since it guards the main,
 * public port: at least 32 characters of the token68 alphabet (RFC 6750 §2.1), no spaces.
 */
function parseMetricsToken(raw: string): string {
  const v = raw.trim();
  if (!/^[A-Za-z0-9._~+/-]+=*$/.test(v)) throw new EnvValueError('must be a bearer token: letters, digits and -._~+/ only (generate one with: openssl rand -hex 32)');
  if (v.length < 32) throw new EnvValueError('must be at least 32 characters (generate one with: openssl rand -hex 32)');
  return v;
}

// One autocannon run, summarised: throughput, latency percentiles and every non-2xx.
import autocannon from 'autocannon';

/** HTTP Basic client authentication (RFC 6749 §2.3.1; the bench credentials need no form-encoding). */
export const basicAuth = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
export const FORM = { 'content-type': 'application/x-www-form-urlencoded' } as const;

export interface LoadResult {
  readonly name: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
}

export interface LoadOptions {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly connections?: number;
  readonly durationSec?: number;
  /** Rewrites each request before it is sent (a per-request DPoP proof: dpop-load.ts). */
  readonly setupRequest?: (req: { headers?: Record<string, string> }) => { headers?: Record<string, string> };
}

export async function load(name: string, options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    method: options.method ?? 'POST',
    headers: options.headers,
    body: options.body,
    ...(options.setupRequest && { requests: [{ setupRequest: options.setupRequest as never }] }),
    connections: options.connections ?? 32,
    duration: options.durationSec ?? 10,
  });
  return {
    name,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

export function formatTable(rows: readonly (LoadResult & { rssMb?: number; ratio?: string })[]): string {
  const head = ['benchmark', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'peak RSS MB', 'ratio'];
  const lines = rows.map((r) => [r.name, String(r.rps), String(r.p50), String(r.p99), String(r.non2xx), String(r.errors), r.rssMb ? String(r.rssMb) : '-', r.ratio ?? '']);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  return [head, ...lines].map((l) => l.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')).join('\n');
}

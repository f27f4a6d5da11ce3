// The HTTP side of metrics: timing every request by route template, and /metrics itself, on
// its own listener (metrics-server.ts) or, only when GOVAUTH_METRICS_TOKEN is set, on the main
// port behind that bearer token. Without the token the main port has no /metrics at all (404):
// counts by client and error are operational data an authorization server does not publish.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Metrics } from './metrics.ts';
import { routeLabel } from './route-label.ts';
import { sendError } from '../http/error-responses.ts';

/** What a scrape returns: this process's registry, or the whole process group (cluster-metrics.ts). */
export interface MetricsSource {
  readonly contentType: string;
  text(): Promise<string>;
}

export const registrySource = (metrics: Metrics): MetricsSource => ({
  contentType: metrics.registry.contentType,
  text: () => metrics.registry.metrics(),
});

export function requestMetrics(metrics: Metrics): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      metrics.request(routeLabel(ctx), ctx.method, ctx.status, (performance.now() - started) / 1000);
    }
  };
}

// Compared as digests, so the comparison takes the same time whatever the length and content
// of what was sent (timingSafeEqual needs equal lengths).
const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

function bearerMatches(header: string, token: string): boolean {
  const match = /^Bearer +(\S+)\s*$/i.exec(header);
  return timingSafeEqual(digest(match?.[1] ?? ''), digest(token)) && Boolean(match);
}

/** GET /metrics on the main port, behind `Authorization: Bearer <GOVAUTH_METRICS_TOKEN>`. */
export function protectedMetricsRoute(token: string, source: MetricsSource): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/metrics') {
      await next();
      return;
    }
    ctx.set('Cache-Control', 'no-store');
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD');
      sendError(ctx, 405, 'invalid_request', '/metrics only answers GET');
      return;
    }
    const header = ctx.get('authorization');
    if (!bearerMatches(header, token)) {
      // RFC 6750 §3: a challenge; invalid_token only when a token was sent (§3.1).
      ctx.set('WWW-Authenticate', header ? 'Bearer realm="govauth-metrics", error="invalid_token"' : 'Bearer realm="govauth-metrics"');
      sendError(ctx, 401, 'invalid_token', 'GET /metrics needs Authorization: Bearer <GOVAUTH_METRICS_TOKEN>');
      return;
    }
    ctx.type = source.contentType;
    ctx.body = await source.text();
  };
}

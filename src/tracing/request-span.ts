// One SERVER span per HTTP request (OTel HTTP semantic conventions: name "{method} {route}",
// http.request.method, http.route, http.response.status_code; never the raw path or query,
// which can carry codes and ids), with govauth's request id so a trace is found from a log line
// or an audit record and back. A caller's W3C traceparent is continued, as any traced service does. Registered by app.ts right after
// requestContext (which assigns the request id) and only when tracing is on.
import type { Context as KoaContext, Middleware } from 'koa';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ADMIN_PREFIX } from '../admin/route.ts';
import { ADMIN_ROUTES } from '../admin/routes.ts';
import { createRouter } from '../admin/router.ts';
import { INTROSPECTION_PATH, REVOCATION_PATH } from '../introspection/token-endpoints.ts';
import { extractTraceContext } from './trace-context.ts';
import type { Tracing } from './tracing.ts';

// Probes every few seconds from every load balancer would bury the traces worth reading (the
// access log leaves them out for the same reason).
const HEALTH_CHECKS = new Set(['/healthz', '/readyz']);
const STATIC_ROUTES = new Set(['/assets/govauth.css', INTROSPECTION_PATH, REVOCATION_PATH]);
const adminRoute = createRouter(ADMIN_ROUTES);

/**
 * The route template, never the raw path: ids in paths (interaction uids, client ids) would
 * make every span name unique. oidc-provider's router and @koa/router (interactions) leave the
 * matched template in ctx._matchedRoute; the admin API's table is matched again here.
 */
export function routeTemplate(ctx: KoaContext): string | undefined {
  const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  if (STATIC_ROUTES.has(ctx.path)) return ctx.path;
  if (ctx.path.startsWith(ADMIN_PREFIX)) {
    try {
      const found = adminRoute(ctx.method, ctx.path);
      if (found.kind === 'route') return `${ADMIN_PREFIX}${found.route.path}`;
    } catch {
      // malformed percent-encoding: the response already says so; no route
    }
  }
  return undefined;
}

/** The OAuth client the request acted for, when oidc-provider or govauth's endpoints know it. */
function clientIdOf(ctx: KoaContext): string | undefined {
  const oidc = (ctx as { oidc?: { client?: { clientId?: unknown } } }).oidc;
  const id = oidc?.client?.clientId ?? (ctx.state as { clientId?: unknown }).clientId;
  return typeof id === 'string' ? id : undefined;
}

export function requestSpan(tracing: Tracing): Middleware {
  return async (ctx, next) => {
    if (HEALTH_CHECKS.has(ctx.path)) {
      await next();
      return;
    }
    const parent = extractTraceContext(ctx.get('traceparent'), ctx.get('tracestate'));
    await tracing.inSpan(
      ctx.method,
      {
        kind: SpanKind.SERVER,
        parent,
        attributes: { 'http.request.method': ctx.method, 'govauth.request_id': String(ctx.state.requestId) },
      },
      async (span) => {
        try {
          await next();
        } finally {
          const route = routeTemplate(ctx);
          if (route) {
            span.updateName(`${ctx.method} ${route}`);
            span.setAttribute('http.route', route);
          }
          span.setAttribute('http.response.status_code', ctx.status);
          const clientId = clientIdOf(ctx);
          if (clientId) span.setAttribute('govauth.client_id', clientId);
          // Server spans are errors for 5xx only; a 4xx is the caller's (semconv HTTP spans).
          if (ctx.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        }
      },
    );
  };
}

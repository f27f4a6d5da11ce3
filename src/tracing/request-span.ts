// One SERVER span per HTTP request (OTel HTTP semantic conventions: name "{method} {route}",
// http.request.method, http.route, http.response.status_code; never the raw path or query,
// which can carry codes and ids), with govauth's request id so a trace is found from a log line
// or an audit record and back. A caller's W3C traceparent is continued, as any traced service does. Registered by app.ts right after
// requestContext (which assigns the request id) and only when tracing is on.
import type { Middleware } from 'koa';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { requestClientId, routeTemplate } from '../http/request-route.ts';
import { extractTraceContext } from './trace-context.ts';
import type { Tracing } from './tracing.ts';

// Probes every few seconds from every load balancer would bury the traces worth reading (the
// access log leaves them out for the same reason).
const HEALTH_CHECKS = new Set(['/healthz', '/readyz']);

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
        attributes: { 'http.request.method': ctx.method, 'govauth.request_id': ctx.state.requestId },
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
          const clientId = requestClientId(ctx);
          if (clientId) span.setAttribute('govauth.client_id', clientId);
          // Server spans are errors for 5xx only; a 4xx is the caller's (semconv HTTP spans).
          if (ctx.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        }
      },
    );
  };
}

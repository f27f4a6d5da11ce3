// One access-log line per request, written when the response is over (sent, or the connection
// closed before it was): method, route template, status, duration, client, request id, address.
// Never the query string or the body, which carry codes and tokens (RFC 6749 §4.1.2, §4.2.2),
// nor a raw path where a template is known: `/interaction/:uid`, `/admin/users/{id}`.
import type { Context } from 'koa';
import type { Logger } from '../log/logger.ts';
import { requestClientId, routeTemplate } from './request-route.ts';

/** Probes: polled every few seconds by load balancers and scrapers, and answered from memory. */
const UNLOGGED_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

const MAX_PATH = 256;

/** The route template, else the path without its query string, shortened (a 404 is still worth seeing). */
const routeOf = (ctx: Context): string => routeTemplate(ctx) ?? (ctx.path.length > MAX_PATH ? `${ctx.path.slice(0, MAX_PATH)}…` : ctx.path);

/** Call at the start of a request (after the request id is set); logs when the response ends. */
export function logWhenDone(ctx: Context, log: Logger, started: number): void {
  if (UNLOGGED_PATHS.has(ctx.path)) return;
  const res = ctx.res;
  // 'close' follows 'finish' and also comes alone when the client goes away mid-response.
  res.once('close', () => {
    const length = res.getHeader('content-length'); // set by koa for every buffered body; absent when streamed
    log.info('request', {
      requestId: ctx.state.requestId,
      method: ctx.method,
      route: routeOf(ctx),
      status: res.statusCode,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      clientId: requestClientId(ctx),
      ip: ctx.ip,
      bytes: length === undefined ? undefined : Number(length),
      ...(!res.writableFinished && { aborted: true }),
    });
  });
}

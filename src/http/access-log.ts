// One access-log line per request, written when the response is over (sent, or the connection
// closed before it was): method, route template, status, duration, client, request id, address.
// Never the query string or the body, which carry codes and tokens (RFC 6749 §4.1.2, §4.2.2),
// nor a raw path where a template is known: `/interaction/:uid`, `/admin/users/{id}`.
import type { Context } from 'koa';
import type { Logger } from '../log/logger.ts';

/** Probes: polled every few seconds by load balancers and scrapers, and answered from memory. */
export const UNLOGGED_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

const MAX_PATH = 256;

/**
 * The route template that served the request: oidc-provider's router and @koa/router set
 * `ctx._matchedRoute`; govauth's own routers set `ctx.state.route`. Otherwise the path without
 * its query string, shortened (a 404 for an arbitrary path is still worth seeing).
 */
export function routeOf(ctx: Context): string {
  const matched: unknown = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  const route: unknown = ctx.state.route;
  if (typeof route === 'string') return route;
  return ctx.path.length > MAX_PATH ? `${ctx.path.slice(0, MAX_PATH)}…` : ctx.path;
}

/**
 * The client the request authenticated or named, once govauth knows it exists: oidc-provider's
 * (token, authorization, userinfo…), or `ctx.state.clientId` from govauth's own client
 * authentication (introspection, revocation, admin API). Never a client_id nobody registered.
 */
function clientOf(ctx: Context): string | undefined {
  const oidcClient: unknown = (ctx as { oidc?: { client?: { clientId?: unknown } } }).oidc?.client?.clientId;
  if (typeof oidcClient === 'string') return oidcClient;
  const own: unknown = ctx.state.clientId;
  return typeof own === 'string' ? own : undefined;
}

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
      clientId: clientOf(ctx),
      ip: ctx.ip,
      bytes: length === undefined ? undefined : Number(length),
      ...(!res.writableFinished && { aborted: true }),
    });
  });
}

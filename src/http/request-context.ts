// Gives every request an id (echoed as X-Request-Id, carried into logs and audit records) and,
// unless GOVAUTH_ACCESS_LOG=false, one access-log line when its response is over (access-log.ts).
// An inbound X-Request-Id is kept only from a trusted proxy and only if it looks like an id, so
// clients cannot inject log content.
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import type { Middleware } from 'koa';
import type { Logger } from '../log/logger.ts';
import { logWhenDone } from './access-log.ts';

const SAFE_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export function requestContext(options: { log: Logger; trustProxy: boolean; accessLog: boolean }): Middleware {
  // Access lines are info lines: with GOVAUTH_LOG_LEVEL above info they cost nothing.
  const accessLog = options.accessLog && options.log.enabled('info');
  return async (ctx, next) => {
    const inbound = ctx.get('x-request-id');
    const requestId = options.trustProxy && SAFE_ID.test(inbound) ? inbound : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    if (accessLog) logWhenDone(ctx, options.log, performance.now());
    await next();
  };
}

/**
 * Decides every request's client address (`ctx.ip`), the one value that rate limits, the
 * sign-in lockout, the client-authentication failure budget and audit records use. Applied to
 * govauth's Koa app and to oidc-provider (a Koa app too) so neither reads it differently.
 *
 * Without a trusted proxy, the address is the TCP peer and X-Forwarded-For is ignored. Behind
 * proxies that *append* to X-Forwarded-For (nginx $proxy_add_x_forwarded_for, HAProxy,
 * cloud load balancers), everything left of what they appended is whatever the client sent,
 * so the leftmost entry is the client's choice: the address is the rightmost entry not added
 * by a trusted proxy, i.e. the `hops`-th from the right (RFC 7239 §5.2 on the same trust
 * question; Koa's maxIpsCount keeps the last `hops` entries and ctx.ip is the first of them).
 * With fewer entries than hops, the leftmost one was still written by a trusted proxy.
 */
export function trustProxyHeaders(app: Koa, proxy: { readonly trustProxy: boolean; readonly trustedProxyHops: number }): void {
  app.proxy = proxy.trustProxy;
  app.proxyIpHeader = 'X-Forwarded-For';
  app.maxIpsCount = proxy.trustProxy ? proxy.trustedProxyHops : 0;
}

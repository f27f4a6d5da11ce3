// Gives every request an id (echoed as X-Request-Id, carried into logs and, later, audit
// records) and logs one line per request. An inbound X-Request-Id is kept only from a trusted
// proxy and only if it looks like an id, so clients cannot inject log content.
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../log/logger.ts';

const SAFE_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export function requestContext(options: { log: Logger; trustProxy: boolean }): Middleware {
  return async (ctx, next) => {
    const inbound = ctx.get('x-request-id');
    const requestId = options.trustProxy && SAFE_ID.test(inbound) ? inbound : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      options.log.debug('request', {
        requestId,
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      });
    }
  };
}

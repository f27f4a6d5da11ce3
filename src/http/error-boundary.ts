// The one error boundary for govauth's own routes (oidc-provider renders its own protocol
// errors). Known errors answer with their stable code; anything else is logged with the
// request id and answered with an opaque 500: no stack trace or internal detail leaves.
import type { Middleware } from 'koa';
import { isAppError } from '../errors/app-error.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';

export function errorBoundary(log: Logger, metrics: Pick<Metrics, 'databaseError'>): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (isAppError(err)) {
        ctx.status = err.status;
        // OAuth defines no error code for an oversized body: invalid_request with status 413, the
        // same answer body-limit.ts gives when Content-Length announces it.
        ctx.body = { error: err.code === 'payload_too_large' ? 'invalid_request' : err.code, error_description: err.message };
        if (err.status >= 500) log.error('request failed', { requestId: ctx.state.requestId, err, detail: err.detail });
        return;
      }
      const status: unknown = (err as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        // koa/http-errors raised for malformed input (e.g. bad JSON): a client error.
        ctx.status = status;
        ctx.body = { error: 'invalid_request', error_description: (err as Error).message };
        return;
      }
      const requestId = String(ctx.state.requestId);
      if (isDatabaseUnavailable(err)) {
        metrics.databaseError('request');
        log.warn('database unavailable: answered 503', { requestId, err: (err as Error).message });
        ctx.status = 503;
        ctx.set('Retry-After', '2');
        ctx.body = { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable; retry shortly', request_id: requestId };
        return;
      }
      log.error('unhandled error', { requestId, err });
      ctx.status = 500;
      ctx.body = { error: 'server_error', error_description: 'internal error', request_id: requestId };
    }
  };
}

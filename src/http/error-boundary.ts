// The one error boundary for govauth's own routes (oidc-provider renders its own protocol
// errors). Known errors answer with their stable code; anything else is logged with the
// request id and answered with an opaque 500: no stack trace or internal detail leaves.
import type { Middleware } from 'koa';
import { isAppError } from '../errors/app-error.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { RETRY_SHORTLY, sendError, sendUnavailable } from './error-responses.ts';

export function errorBoundary(log: Logger, metrics: Pick<Metrics, 'databaseError'>): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (isAppError(err)) {
        // OAuth defines no error code for an oversized body: invalid_request with status 413, the
        // same answer body-limit.ts gives when Content-Length announces it.
        sendError(ctx, err.status, err.code === 'payload_too_large' ? 'invalid_request' : err.code, err.message);
        if (err.status >= 500) log.error('request failed', { requestId: ctx.state.requestId, err, detail: err.detail });
        return;
      }
      const status: unknown = (err as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        // koa/http-errors raised for malformed input (e.g. bad JSON): a client error.
        sendError(ctx, status, 'invalid_request', (err as Error).message);
        return;
      }
      const requestId = ctx.state.requestId;
      if (isDatabaseUnavailable(err)) {
        metrics.databaseError('request');
        log.warn('database unavailable: answered 503', { requestId, err: (err as Error).message });
        sendUnavailable(ctx, { retryAfterSeconds: 2, description: RETRY_SHORTLY, requestId });
        return;
      }
      log.error('unhandled error', { requestId, err });
      sendError(ctx, 500, 'server_error', 'internal error', requestId);
    }
  };
}

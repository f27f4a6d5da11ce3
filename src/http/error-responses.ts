// The JSON error bodies govauth writes itself: RFC 6749 §5.2's `{error, error_description}`,
// which the admin API shares (its refusals are RFC 6750 §3.1 bearer-token errors), plus the
// request id where an operator needs it to find the log line. Each body is written here once;
// the HTML surface is pages/error-page.ts.
import type { Context } from 'koa';

interface ErrorBody {
  readonly error: string;
  readonly error_description?: string;
  /** Only on answers that logged something worth finding: a 500, a database outage. */
  readonly request_id?: string;
}

/** The body, fields always in this order (clients and tests compare it byte for byte). */
function errorBody(error: string, description?: string, requestId?: string): ErrorBody {
  return { error, ...(description !== undefined && { error_description: description }), ...(requestId !== undefined && { request_id: requestId }) };
}

export function sendError(ctx: Context, status: number, error: string, description?: string, requestId?: string): void {
  ctx.status = status;
  ctx.body = errorBody(error, description, requestId);
}

/** What a client reads when a dependency is down for a moment (RFC 6749 §4.1.2.1's code). */
export const RETRY_SHORTLY = 'the service is temporarily unavailable; retry shortly';
/** The token was ready but its durable audit record could not be written (token-audit.ts). */
export const CANNOT_RECORD = 'the service cannot record this request right now; try again shortly';

/**
 * The one temporarily_unavailable body. Without a description it is the bare
 * `{"error":"temporarily_unavailable"}` the server answers before it is ready (server.ts).
 */
export function unavailableBody(description?: string, requestId?: string): ErrorBody {
  return errorBody('temporarily_unavailable', description, requestId);
}

/**
 * 503 with Retry-After (RFC 9110 §10.2.3). `body: false` keeps the body already there (a
 * provider's HTML page keeps its page; only its status says retry).
 */
export function sendUnavailable(ctx: Context, options: { retryAfterSeconds: number; description?: string; requestId?: string; body?: boolean }): void {
  ctx.status = 503;
  ctx.set('Retry-After', String(options.retryAfterSeconds));
  if (options.body !== false) ctx.body = unavailableBody(options.description, options.requestId);
}

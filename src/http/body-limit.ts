// Refuses oversized request bodies (413, RFC 9110 §15.5.14): before anything reads them, by
// their declared Content-Length (here, app-wide, and again in the readers), and while reading
// bodies sent without one (chunked), in json-body.ts and form-body.ts. One limit per path or
// admin route, one refusal. oidc-provider's own parser stops at 56 KiB with a generic
// invalid_request; our default is lower and the answer says what is wrong.
import type { Context, Middleware } from 'koa';
import { AppError } from '../errors/app-error.ts';

export const MAX_BODY_BYTES = 16 * 1024;

/** The refusal of a body over `limit`, wherever it is found (the error boundary answers 413 invalid_request). */
export function bodyTooLarge(limit: number): AppError {
  return new AppError('payload_too_large', `request body exceeds ${limit} bytes`);
}

/**
 * Throws bodyTooLarge when the declared Content-Length exceeds `limit`, before a byte is read;
 * the connection is closed after the answer rather than drained of a body nobody will read.
 */
export function refuseDeclaredOver(ctx: Context, limit: number): void {
  const declared = ctx.get('content-length');
  if (declared && Number(declared) > limit) {
    ctx.set('Connection', 'close');
    ctx.set('Cache-Control', 'no-store');
    throw bodyTooLarge(limit);
  }
}

/**
 * The app-wide check, before routing. `limitOf`: the limit of a path or route allowed a different
 * one (its handler reads with the same limit, so a chunked body is capped there too); undefined
 * for everything else, which gets `maxBytes`. `ownPages`: a path prefix whose handler refuses
 * oversized bodies itself, before reading, with a page a person can read (the console, whose
 * forms have limits of their own).
 */
export function bodyLimit(maxBytes: number, limitOf: (ctx: Context) => number | undefined, ownPages?: string): Middleware {
  return async (ctx, next) => {
    if (!(ownPages && ctx.path.startsWith(ownPages))) refuseDeclaredOver(ctx, limitOf(ctx) ?? maxBytes);
    await next();
  };
}

// Refuses oversized request bodies before anything reads them (413, RFC 9110 §15.5.14).
// oidc-provider's own parser stops at 56 KiB with a generic invalid_request; our limit is
// lower and the answer says what is wrong. Bodies sent without Content-Length (chunked) are
// still capped by whichever parser reads them.
import type { Middleware } from 'koa';
import { sendError } from './error-responses.ts';

export const MAX_BODY_BYTES = 16 * 1024;

/**
 * `larger`: paths allowed more (their handler caps what it reads itself, json-body.ts).
 * `ownPages`: a path prefix whose handler refuses oversized bodies itself, before reading, with
 * a page a person can read (the console, whose forms have limits of their own).
 */
export function bodyLimit(maxBytes = MAX_BODY_BYTES, larger: Readonly<Record<string, number>> = {}, ownPages?: string): Middleware {
  return async (ctx, next) => {
    if (ownPages && ctx.path.startsWith(ownPages)) {
      await next();
      return;
    }
    const declared = ctx.get('content-length');
    const limit = Object.hasOwn(larger, ctx.path) ? (larger[ctx.path] ?? maxBytes) : maxBytes;
    if (declared && Number(declared) > limit) {
      ctx.set('Connection', 'close');
      ctx.set('Cache-Control', 'no-store');
      sendError(ctx, 413, 'invalid_request', `request body exceeds ${limit} bytes`);
      return;
    }
    await next();
  };
}

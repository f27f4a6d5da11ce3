// Refuses oversized request bodies before anything reads them (413, RFC 9110 §15.5.14).
// oidc-provider's own parser stops at 56 KiB with a generic invalid_request; our limit is
// lower and the answer says what is wrong. Bodies sent without Content-Length (chunked) are
// still capped by whichever parser reads them.
import type { Middleware } from 'koa';
import { sendError } from './error-responses.ts';

export const MAX_BODY_BYTES = 16 * 1024;

/** `larger`: paths allowed more (their handler caps what it reads itself, json-body.ts). */
export function bodyLimit(maxBytes = MAX_BODY_BYTES, larger: Readonly<Record<string, number>> = {}): Middleware {
  return async (ctx, next) => {
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

// Refuses oversized request bodies before anything reads them (413, RFC 9110 §15.5.14).
// oidc-provider's own parser stops at 56 KiB with a generic invalid_request; our limit is
// lower and the answer says what is wrong. Bodies sent without Content-Length (chunked) are
// still capped by whichever parser reads them.
import type { Middleware } from 'koa';
import { sendError } from './error-responses.ts';

export const MAX_BODY_BYTES = 16 * 1024;

export function bodyLimit(maxBytes = MAX_BODY_BYTES): Middleware {
  return async (ctx, next) => {
    const declared = ctx.get('content-length');
    if (declared && Number(declared) > maxBytes) {
      ctx.set('Connection', 'close');
      ctx.set('Cache-Control', 'no-store');
      sendError(ctx, 413, 'invalid_request', `request body exceeds ${maxBytes} bytes`);
      return;
    }
    await next();
  };
}

// Refuses oversized request bodies before anything reads them (413, RFC 9110 §15.5.14).
// oidc-provider's own parser stops at 56 KiB with a generic invalid_request; our limit is
// lower and the answer says what is wrong. Bodies sent without Content-Length (chunked) are
// still capped by whichever parser reads them.
import type { Middleware } from 'koa';

export const MAX_BODY_BYTES = 16 * 1024;

export function bodyLimit(maxBytes = MAX_BODY_BYTES): Middleware {
  return async (ctx, next) => {
    const declared = ctx.get('content-length');
    if (declared && Number(declared) > maxBytes) {
      ctx.status = 413;
      ctx.set('Connection', 'close');
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: 'invalid_request', error_description: `request body exceeds ${maxBytes} bytes` };
      return;
    }
    await next();
  };
}

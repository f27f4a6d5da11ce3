// Response headers every govauth response carries (HTML pages add their own policy). Kept to
// what matters for an API: each header is written on every token response.
import type { Middleware } from 'koa';

export function securityHeaders(options: { https: boolean }): Middleware {
  return async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    // No page of an authorization server may be framed (clickjacking, RFC 6819 §4.4.1.9);
    // frame-ancestors supersedes X-Frame-Options in every current browser.
    ctx.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    if (options.https) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}

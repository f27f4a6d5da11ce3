// Response headers every govauth response carries (HTML pages add their own policy). Kept to
// what matters for an API: each header is written on every token response.
import type { Middleware } from 'koa';

export function securityHeaders(options: { https: boolean }): Middleware {
  return async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    // No page of an authorization server may be framed (clickjacking, RFC 6819 §4.4.1.9);
    // frame-ancestors supersedes X-Frame-Options in every current browser.
    // No form-action here: oidc-provider's form_post response page posts to the app; its
    // auto-submit script is allowed by the hash it appends to script-src. Our own pages set a
    // stricter policy (src/pages/views.ts).
    ctx.set('Content-Security-Policy', "default-src 'none'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'");
    if (options.https) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}

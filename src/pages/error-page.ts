// The HTML error page, the one body for every error a person sees: the sign-in pages'
// (interaction-routes.ts) and oidc-provider's renderError (oidc/render-error.ts). A sentence for
// the person (error-messages.ts), the OAuth code and the request id for support, and at most one
// way back, never to an address nobody registered.
import type { Context } from 'koa';
import { htmlHeaders, type Views } from './views.ts';

/** A link off an error page: a same-origin path or an http(s) address the app registered. */
export interface BackLink {
  readonly href: string;
  readonly label: string;
}

export interface ErrorPage {
  /** The OAuth error code (RFC 6749 §4.1.2.1, §5.2; OpenID Connect Core §3.1.2.6). */
  readonly code: string;
  readonly title: string;
  readonly message: string;
  readonly back?: BackLink | undefined;
  /** Leaves the status as it is when absent (oidc-provider has set it). */
  readonly status?: number;
}

/** Only these ever become an href: a path on this server, or an http(s) URL (never javascript: or data:). */
const safeHref = (href: string): boolean => (href.startsWith('/') && !href.startsWith('//')) || /^https?:$/.test(URL.parse(href)?.protocol ?? '');

/** Renders views/error.eta; a back link that is not a safe address is dropped, not shown. */
export function renderErrorPage(ctx: Context, views: Views, page: ErrorPage): void {
  const back = page.back && safeHref(page.back.href) ? page.back : undefined;
  htmlHeaders(ctx);
  if (page.status !== undefined) ctx.status = page.status;
  ctx.type = 'html';
  ctx.body = views.html('error', { title: page.title, message: page.message, code: page.code, requestId: ctx.state.requestId, back });
}

// oidc-provider answers with its own auto-submitting page ("Submitting Callback", an inline
// script allowed by a CSP hash) in two places: RP-initiated logout when nobody is signed in
// (lib/actions/end_session.js skips logoutSource then) and `response_mode=form_post`
// (lib/response_modes/form_post.js). Our pages carry no script at all and share one look, so
// that page is replaced by ours: the same hidden fields, posted by a button the person presses
// (the provider's own page falls back to exactly that button without JavaScript).
import type { Context, Next } from 'koa';
import { originsOf, type Views } from '../pages/views.ts';
import { FORM_POST_FORM, FORM_POST_PAGE_TITLE } from './upstream-strings.ts';

const unescapeAttribute = (s: string): string =>
  s.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[e] ?? '');

export function formPostPage(views: Views, issuer: string) {
  const own = new URL(issuer).origin;
  return async function replaceFormPostPage(ctx: Context, next: Next): Promise<void> {
    await next();
    if (typeof ctx.body !== 'string' || !ctx.body.includes(FORM_POST_PAGE_TITLE)) return;
    const match = FORM_POST_FORM.exec(ctx.body);
    if (!match) return; // unknown shape: keep the provider's page rather than break the flow
    const action = unescapeAttribute(match[1] ?? '');
    // The inputs were built by oidc-provider with its html_safe escaping; they are kept as they are.
    const inputs = match[2] ?? '';
    const logout = /name="logout"/.test(inputs);
    const status = ctx.status;
    const target = URL.parse(action, issuer);
    const external = target && target.origin !== own ? originsOf([target.href]) : [];
    ctx.remove('Content-Security-Policy');
    views.render(
      ctx,
      'form-post',
      { action, inputs, logout, title: logout ? 'Sign out' : 'Return to the app', host: external.length ? target?.host : undefined },
      { status, formTargets: external },
    );
  };
}

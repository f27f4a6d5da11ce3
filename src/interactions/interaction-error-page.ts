// The page shown when a sign-in step fails: the person's own message for our errors, a retry
// for an unavailable database, and a generic page (with the details only in the log) otherwise.
import type { Context } from 'koa';
import { isAppError } from '../errors/app-error.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import type { Logger } from '../log/logger.ts';
import { errorText, SIGN_IN_EXPIRED } from '../pages/error-messages.ts';
import { renderErrorPage, type BackLink } from '../pages/error-page.ts';
import type { Views } from '../pages/views.ts';

/**
 * A form posted to a step of a sign-in that is still in progress (a stale form, a step already
 * done) can continue from that sign-in's current step; an expired one can only restart at the app.
 */
function continueLink(ctx: Context, expired: boolean): BackLink | undefined {
  const uid = /^\/interaction\/([A-Za-z0-9_-]{1,64})\/[a-z]+$/.exec(ctx.path)?.[1];
  return uid && !expired ? { href: `/interaction/${uid}`, label: 'Continue signing in' } : undefined;
}

export function renderInteractionError(ctx: Context, views: Views, log: Logger, err: unknown): void {
  const show = (code: string, status: number, message?: string, back?: BackLink): void => {
    const text = message === SIGN_IN_EXPIRED.message ? SIGN_IN_EXPIRED : errorText(code);
    renderErrorPage(ctx, views, { code, status, title: text.title, message: message ?? text.message, back });
  };
  if (isAppError(err) && err.status < 500) {
    // Our own messages are written for the person (never a library's text).
    show(err.code, err.status, err.message, continueLink(ctx, err.message === SIGN_IN_EXPIRED.message));
    return;
  }
  if (isDatabaseUnavailable(err)) {
    ctx.set('Retry-After', '2');
    show('temporarily_unavailable', 503);
    return;
  }
  log.error('interaction failed', { requestId: ctx.state.requestId, err });
  show('server_error', 500);
}

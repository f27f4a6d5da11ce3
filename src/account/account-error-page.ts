// The page shown when an account page cannot do what was asked: govauth's error page with our own
// sentence for our errors (never a library's text), a retry for an unavailable database, and a
// generic page, with the details only in the log, otherwise. Never a stack trace.
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { AppError, isAppError } from '../errors/app-error.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { renderErrorPage, type BackLink } from '../pages/error-page.ts';
import type { Views } from '../pages/views.ts';
import { ACCOUNT_HOME, SignInCancelled } from './sign-in-return.ts';

const TITLE: Readonly<Record<string, string>> = {
  invalid_request: 'Request not valid',
  unsupported_media_type: 'Request not valid',
  payload_too_large: 'Request not valid',
  unauthorized: 'Sign-in needed',
  forbidden: 'Not allowed',
  not_found: 'Not found',
};

/** The signed-in person's account is disabled: the account pages do nothing for them. */
export class AccountDisabled extends AppError {
  constructor() {
    super('forbidden', 'Your account is disabled. Ask an administrator if you think this is a mistake.');
  }
}

const HOME: BackLink = { href: ACCOUNT_HOME, label: 'Your delegations' };

function renderAccountError(ctx: Context, views: Views, log: Logger, err: unknown): void {
  if (err instanceof SignInCancelled) {
    renderErrorPage(ctx, views, { code: 'access_denied', status: 403, title: 'Sign-in cancelled', message: 'You did not sign in, so nothing was changed.', back: { href: err.retry, label: 'Sign in' } });
    return;
  }
  if (isAppError(err) && err.status < 500) {
    // A disabled account has nowhere to go; every other refusal can start again from the list.
    const back = err instanceof AccountDisabled ? undefined : err.code === 'unauthorized' ? { href: ACCOUNT_HOME, label: 'Sign in again' } : HOME;
    const code = err.code === 'payload_too_large' ? 'invalid_request' : err.code;
    renderErrorPage(ctx, views, { code, status: err.status, title: TITLE[err.code] ?? 'Request not completed', message: err.message, back });
    return;
  }
  if (isDatabaseUnavailable(err)) {
    ctx.set('Retry-After', '2');
    renderErrorPage(ctx, views, { code: 'temporarily_unavailable', status: 503, title: 'Temporarily unavailable', message: 'This page is temporarily unavailable. Try again in a moment.' });
    return;
  }
  log.error('account page failed', { requestId: ctx.state.requestId, err });
  renderErrorPage(ctx, views, { code: 'server_error', status: 500, title: 'Something went wrong', message: 'The page could not be shown. Try again in a moment.' });
}

/**
 * `router`'s pages mounted under `prefix` (the prefix itself and every path below it; anything
 * else passes on): an unknown path there is not_found, and every failure is the account error
 * page above, an unavailable database also counted in the metrics.
 */
export function accountPagesUnder(prefix: string, router: Router, deps: { log: Logger; metrics: Pick<Metrics, 'databaseError'> }, views: Views): Middleware {
  const routes = router.routes();
  return async (ctx, next) => {
    if (ctx.path !== prefix && !ctx.path.startsWith(`${prefix}/`)) {
      await next();
      return;
    }
    try {
      await routes(ctx as never, () => Promise.reject(new AppError('not_found', 'There is no such page.')));
    } catch (err) {
      if (isDatabaseUnavailable(err)) deps.metrics.databaseError('interaction');
      renderAccountError(ctx, views, deps.log, err);
    }
  };
}

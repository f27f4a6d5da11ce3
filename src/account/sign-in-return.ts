// Sending a person who is not signed in (or whose second factor is not recent) through govauth's
// sign-in and back to the account page they asked for. The authorization request is the account
// client's (oidc/account-session.ts); its `state` (RFC 6749 §10.12) and the page to return to
// wait in a signed, HttpOnly cookie scoped to /account, and the callback accepts only the
// browser that holds it, only from this issuer (RFC 9207 `iss`), and returns only to an account
// page: never an open redirect.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { AppError } from '../errors/app-error.ts';
import type { AccountSessions } from '../oidc/account-session.ts';

const COOKIE = 'govauth.account_return';
/** As long as a sign-in may take (oidc-provider's interaction lives 1 hour; people are quicker). */
const PENDING_MS = 30 * 60 * 1000;
export const ACCOUNT_HOME = '/account/delegations';
const MAX_RETURN_LENGTH = 2048;

/** `path` if it is an account page of this server (path and query only), else undefined. */
export function accountPath(path: string): string | undefined {
  if (path.length > MAX_RETURN_LENGTH || !path.startsWith('/account/') || /[\\\s\p{Cc}]/u.test(path)) return undefined;
  const url = URL.parse(path, 'http://govauth.invalid');
  return url?.origin === 'http://govauth.invalid' && url.pathname.startsWith('/account/') ? `${url.pathname}${url.search}` : undefined;
}

/** Answers with a redirect into the sign-in that ends back at `returnTo` (an account page). */
export function startSignIn(ctx: Context, sessions: AccountSessions, returnTo: string, options: { stepUp: boolean; reauth?: boolean }): void {
  const state = randomBytes(16).toString('base64url');
  const back = accountPath(returnTo) ?? ACCOUNT_HOME;
  ctx.cookies.set(COOKIE, `${state}.${Buffer.from(back).toString('base64url')}`, {
    signed: true,
    httpOnly: true,
    sameSite: 'lax', // sent on the top-level redirect back from /auth
    secure: ctx.secure,
    path: '/account',
    maxAge: PENDING_MS,
  });
  ctx.status = 303;
  ctx.redirect(sessions.signInUrl(state, options));
}

const single = (v: string | string[] | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * The account client's redirect URI: checks that this browser started this sign-in and returns
 * the account page to go back to. A refused or cancelled sign-in throws with the page to retry.
 */
export function finishSignIn(ctx: Context, issuer: string): string {
  const pending = ctx.cookies.get(COOKIE, { signed: true });
  ctx.cookies.set(COOKIE, null, { path: '/account' }); // one use
  const [state, encoded] = (pending ?? '').split('.');
  const returnTo = accountPath(Buffer.from(encoded ?? '', 'base64url').toString('utf8')) ?? ACCOUNT_HOME;
  const got = single(ctx.query.state);
  if (!state || !got || !sameText(state, got)) {
    throw new AppError('invalid_request', 'This sign-in was not started in this browser, or it took too long. Open the page again to sign in.', { detail: pending ? 'state mismatch' : 'no pending sign-in' });
  }
  // The answer must come from this server's authorization endpoint (RFC 9207 §2.4).
  if (single(ctx.query.iss) !== issuer) throw new AppError('invalid_request', 'This sign-in answer did not come from this server. Open the page again to sign in.');
  const error = single(ctx.query.error);
  if (error === 'access_denied') throw new SignInCancelled(returnTo);
  if (error !== undefined) throw new AppError('invalid_request', 'The sign-in could not be completed. Open the page again to sign in.', { detail: error });
  return returnTo;
}

/** The person cancelled signing in: nothing was changed, and they may try again. */
export class SignInCancelled extends Error {
  readonly retry: string;
  constructor(retry: string) {
    super('sign-in cancelled');
    this.retry = retry;
  }
}

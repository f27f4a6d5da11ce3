// Signing in to the console: govauth's own sign-in, always with a second factor, as for the
// account pages (src/account/sign-in-return.ts, the same pattern): the console is a first-party
// client known in code (oidc/account-session.ts) whose authorization request asks for the MFA
// acr (OpenID Connect Core §3.1.2.1 acr_values); `state` (RFC 6749 §10.12) and the console page
// to return to wait in a signed, HttpOnly cookie scoped to /console; the answer must carry this
// issuer (RFC 9207) and the same state, and returns only to a console page.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { AppError } from '../errors/app-error.ts';
import type { AccountSessions } from '../oidc/account-session.ts';
import { CONSOLE_PATH } from './console-session.ts';

const COOKIE = 'govauth.console_return';
const PENDING_MS = 30 * 60_000;
const MAX_RETURN_LENGTH = 2048;

/** `path` if it is a console page of this server (path and query only), else undefined. */
export function consolePath(path: string): string | undefined {
  if (path.length > MAX_RETURN_LENGTH || !(path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`) || path.startsWith(`${CONSOLE_PATH}?`)) || /[\\\s\p{Cc}]/u.test(path)) return undefined;
  const url = URL.parse(path, 'http://govauth.invalid');
  if (url?.origin !== 'http://govauth.invalid') return undefined;
  return url.pathname === CONSOLE_PATH || url.pathname.startsWith(`${CONSOLE_PATH}/`) ? `${url.pathname}${url.search}` : undefined;
}

export function startConsoleSignIn(ctx: Context, sessions: AccountSessions, returnTo: string): void {
  const state = randomBytes(16).toString('base64url');
  const back = consolePath(returnTo) ?? CONSOLE_PATH;
  ctx.cookies.set(COOKIE, `${state}.${Buffer.from(back).toString('base64url')}`, {
    signed: true,
    httpOnly: true,
    sameSite: 'lax', // sent on the top-level redirect back from /auth
    secure: ctx.secure,
    path: CONSOLE_PATH,
    maxAge: PENDING_MS,
  });
  ctx.status = 303;
  ctx.redirect(sessions.signInUrl(state, { stepUp: true }));
}

const single = (v: string | string[] | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The console's redirect URI: this browser started this sign-in; returns the console page to go back to. */
export function finishConsoleSignIn(ctx: Context, issuer: string): string {
  const pending = ctx.cookies.get(COOKIE, { signed: true });
  ctx.cookies.set(COOKIE, null, { path: CONSOLE_PATH }); // one use
  const [state, encoded] = (pending ?? '').split('.');
  const returnTo = consolePath(Buffer.from(encoded ?? '', 'base64url').toString('utf8')) ?? CONSOLE_PATH;
  const got = single(ctx.query.state);
  if (!state || !got || !sameText(state, got)) throw new AppError('invalid_request', 'This sign-in was not started in this browser, or it took too long. Open the console again to sign in.');
  if (single(ctx.query.iss) !== issuer) throw new AppError('invalid_request', 'This sign-in answer did not come from this server. Open the console again to sign in.');
  const error = single(ctx.query.error);
  if (error !== undefined) throw new AppError(error === 'access_denied' ? 'forbidden' : 'invalid_request', error === 'access_denied' ? 'You did not sign in, so the console stays closed.' : 'The sign-in could not be completed. Open the console again to sign in.');
  return returnTo;
}

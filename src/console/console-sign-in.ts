// Signing in to the console: the console is a client of govauth itself (issue 26). Its own
// first-party client (governance/console-client.ts) sends the browser through an ordinary
// authorization request for the authorization code (RFC 6749 §4.1) with PKCE S256 (RFC 7636,
// RFC 9700 §2.1.1), `state` (RFC 6749 §10.12), a `nonce` (OpenID Connect Core §3.1.2.1), the
// admin resource (RFC 8707) and the MFA acr (acr_values); govauth's login, two-step and error
// pages do the rest. State, nonce, verifier and the console page to return to wait in a signed,
// HttpOnly cookie scoped to /console, used once. The answer must carry this issuer (RFC 9207)
// and the same state; the code is then exchanged with the verifier at this server's own token
// endpoint over HTTP (openid-client, which checks the ID token's issuer, audience and nonce),
// and the access token is verified locally against our own keys (introspection/access-token-
// check.ts): its scopes decide read-write (govauth.admin) or read-only (govauth.audit.read).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import * as oidc from 'openid-client';
import { AppError } from '../errors/app-error.ts';
import { CONSOLE_CLIENT_ID } from '../governance/console-client.ts';
import type { AccountSessions } from '../oidc/account-session.ts';
import { CONSOLE_PATH } from './console-session.ts';

const COOKIE = 'govauth.console_return';
const PENDING_MS = 30 * 60_000;
const MAX_RETURN_LENGTH = 2048;
const CALLBACK = `${CONSOLE_PATH}/signed-in`;

/** `path` if it is a console page of this server (path and query only), else undefined. */
export function consolePath(path: string): string | undefined {
  if (path.length > MAX_RETURN_LENGTH || !(path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`) || path.startsWith(`${CONSOLE_PATH}?`)) || /[\\\s\p{Cc}]/u.test(path)) return undefined;
  const url = URL.parse(path, 'http://govauth.invalid');
  if (url?.origin !== 'http://govauth.invalid') return undefined;
  return url.pathname === CONSOLE_PATH || url.pathname.startsWith(`${CONSOLE_PATH}/`) ? `${url.pathname}${url.search}` : undefined;
}

const random = (): string => randomBytes(32).toString('base64url');

export async function startConsoleSignIn(ctx: Context, sessions: AccountSessions, returnTo: string): Promise<void> {
  const state = random();
  const nonce = random();
  const verifier = oidc.randomPKCECodeVerifier();
  const back = consolePath(returnTo) ?? CONSOLE_PATH;
  ctx.cookies.set(COOKIE, [state, nonce, verifier, Buffer.from(back).toString('base64url')].join('.'), {
    signed: true,
    httpOnly: true,
    sameSite: 'lax', // sent on the top-level redirect back from /auth
    secure: ctx.secure,
    path: CONSOLE_PATH,
    maxAge: PENDING_MS,
  });
  ctx.status = 303;
  ctx.redirect(sessions.signInUrl(state, { stepUp: true, code: { challenge: await oidc.calculatePKCECodeChallenge(verifier), nonce } }));
}

const single = (v: string | string[] | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export interface ConsoleTokens {
  readonly accessToken: string;
  /** The ID token's claims (issuer, audience, nonce checked): who signed in, and how. */
  readonly idClaims: oidc.IDToken;
}

export interface ConsoleSignInAnswer {
  readonly returnTo: string;
  /** The answer as this server's redirect URI received it (openid-client sends redirect_uri from it). */
  readonly current: URL;
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
}

/** openid-client over this server's own token endpoint; http only where the issuer itself is (development, tests). */
export function consoleClientConfig(issuer: string, tokenEndpoint: string): oidc.Configuration {
  const config = new oidc.Configuration({ issuer, token_endpoint: tokenEndpoint, authorization_response_iss_parameter_supported: true }, CONSOLE_CLIENT_ID, undefined, oidc.None());
  if (new URL(issuer).protocol === 'http:') oidc.allowInsecureRequests(config);
  return config;
}

/** The console's redirect URI: this browser started this sign-in, and the answer is a code from this server. */
export function readConsoleAnswer(ctx: Context, issuer: string): ConsoleSignInAnswer {
  const pending = ctx.cookies.get(COOKIE, { signed: true });
  ctx.cookies.set(COOKIE, null, { path: CONSOLE_PATH }); // one use
  const [state, nonce, verifier, encoded] = (pending ?? '').split('.');
  const returnTo = consolePath(Buffer.from(encoded ?? '', 'base64url').toString('utf8')) ?? CONSOLE_PATH;
  const got = single(ctx.query.state);
  if (!state || !nonce || !verifier || !got || !sameText(state, got)) throw new AppError('invalid_request', 'This sign-in was not started in this browser, or it took too long. Open the console again to sign in.');
  if (single(ctx.query.iss) !== issuer) throw new AppError('invalid_request', 'This sign-in answer did not come from this server. Open the console again to sign in.');
  const error = single(ctx.query.error);
  if (error !== undefined) throw new AppError(error === 'access_denied' ? 'forbidden' : 'invalid_request', error === 'access_denied' ? 'You did not sign in, so the console stays closed.' : 'The sign-in could not be completed. Open the console again to sign in.');
  if (!single(ctx.query.code)) throw new AppError('invalid_request', 'The sign-in answer carries no code. Open the console again to sign in.');
  const current = new URL(`${issuer}${CALLBACK}`);
  current.search = ctx.querystring;
  return { returnTo, current, state, nonce, verifier };
}

/**
 * The code exchanged with its verifier; `refused` with the token endpoint's OAuth error (RFC 6749
 * §5.2: a replayed or expired code, another verifier's, no console scope held any more).
 */
export async function exchangeConsoleCode(config: oidc.Configuration, answer: ConsoleSignInAnswer): Promise<ConsoleTokens | { readonly refused: string }> {
  try {
    const tokens = await oidc.authorizationCodeGrant(config, answer.current, { pkceCodeVerifier: answer.verifier, expectedState: answer.state, expectedNonce: answer.nonce, idTokenExpected: true });
    const idClaims = tokens.claims();
    if (!idClaims) throw new AppError('invalid_request', 'The sign-in answer carries no ID token.');
    return { accessToken: tokens.access_token, idClaims };
  } catch (err) {
    if (err instanceof oidc.ResponseBodyError) return { refused: err.error };
    if (err instanceof AppError) throw err;
    // The ID token's checks (issuer, audience, nonce) or an unreadable response.
    throw new AppError('invalid_request', 'The sign-in answer could not be verified. Open the console again to sign in.');
  }
}

// A browser signed in to the admin console over plain HTTP, through govauth's own sign-in with a
// second factor (code + PKCE), for the console's real-server tests.
import { expect } from 'vitest';
import { totpCode } from '../../src/governance/totp.ts';
import { AccountBrowser } from './account-pages.ts';
import { field } from './cookie-jar.ts';
import { PASSWORD } from './people.ts';
import { SignInSteps } from './sign-in-steps.ts';
import type { TestServer } from './test-server.ts';

/** Walks govauth's sign-in for the console up to (not into) its redirect URI: the answer and the browser's cookies. */
export async function consoleAnswer(t: TestServer, email: string): Promise<{ callback: URL; steps: SignInSteps }> {
  const secret = (await t.cliJson<{ secret: string }>('user', 'mfa', 'enroll', email)).secret;
  const steps = new SignInSteps({ forwardedFor: null });
  const callback = await steps.walk(`${t.url}/console`, `${t.issuer}/console/signed-in`, (page) => {
    if (page.kind === 'login') return { email, password: PASSWORD };
    if (page.kind === 'mfa') return { code: totpCode(secret, Date.now()) };
    throw new Error(`unexpected ${page.kind} page: ${page.html.slice(0, 300)}`);
  });
  return { callback, steps };
}

export const callbackPath = (callback: URL): string => `${callback.pathname}${callback.search}`;

/** A console session for `email` (who must hold a console role). */
export async function consoleSignIn(t: TestServer, email: string): Promise<AccountBrowser> {
  const { callback, steps } = await consoleAnswer(t, email);
  const browser = new AccountBrowser(t.url, steps.jar);
  const back = await browser.get(callbackPath(callback));
  expect(back.status).toBe(303);
  expect(back.headers.get('location')).toBe('/console');
  return browser;
}

/** The form token of a console page (every form on it carries the same one). */
export async function consoleCsrf(b: AccountBrowser, path = '/console/clients'): Promise<string> {
  const token = field(await (await b.get(path)).text(), 'csrf');
  if (!token) throw new Error('no form token');
  return token;
}

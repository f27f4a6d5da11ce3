// A browser signed in to the admin console over plain HTTP, through govauth's own sign-in with a
// second factor (code + PKCE): the person's cookies (the console session among them) and the
// form token every console form carries. One sign-in for the console's real-server tests and
// bench/console-bench.ts, so it throws rather than asserting through vitest.
import { totpCode } from '../../src/governance/totp.ts';
import { AccountBrowser } from './account-pages.ts';
import { createUser, PASSWORD } from './people.ts';
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

/** A browser with a console session: requests that never follow redirects, the form token, and bodies as written. */
export class ConsoleBrowser extends AccountBrowser {
  readonly #base: string;
  constructor(base: string, jar: AccountBrowser['jar']) {
    super(base, jar);
    this.#base = base;
  }
  /** The form token of a console page (every form on it carries the same one). */
  override csrf(path = '/console/clients'): Promise<string> {
    return super.csrf(path);
  }
  /** A form post with the body exactly as given: repeated fields, sizes and bytes a form would not send. */
  async postRaw(path: string, body: string | Buffer): Promise<Response> {
    const res = await fetch(`${this.#base}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie: this.jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body });
    this.jar.store(res);
    return res;
  }
}

/** A console session for `email`, who exists and holds a console role: a second factor is enrolled, then the sign-in walked. */
export async function consoleSignIn(t: TestServer, email: string): Promise<ConsoleBrowser> {
  const { callback, steps } = await consoleAnswer(t, email);
  const browser = new ConsoleBrowser(t.url, steps.jar);
  const back = await browser.get(callbackPath(callback));
  if (back.status !== 303 || back.headers.get('location') !== '/console') throw new Error(`the console sign-in did not come back to /console (${back.status} ${back.headers.get('location') ?? ''}): ${(await back.text()).slice(0, 300)}`);
  return browser;
}

/** A new person `email` holding `role` (govauth-admin or govauth-auditor), signed in to the console. */
export async function consoleSession(t: TestServer, email: string, role: string): Promise<ConsoleBrowser> {
  await createUser(t, email, [role]);
  return consoleSignIn(t, email);
}

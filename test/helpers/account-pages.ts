// Fixtures for the account pages' tests: agent clients registered for token exchange, and a
// browser signed in to the account pages over plain HTTP, through the same sign-in pages a person uses.
import { totpCode } from '../../src/governance/totp.ts';
import { CookieJar, field } from './cookie-jar.ts';
import { PASSWORD } from './people.ts';
import { SignInSteps } from './sign-in-steps.ts';
import type { TestServer } from './test-server.ts';

/** Registers an agent through the CLI: a confidential client with the token-exchange grant, optionally with a scope ceiling. */
export async function createAgent(t: TestServer, name: string, options: { scopeCeiling?: string[] } = {}): Promise<string> {
  const created = await t.cliJson<{ client_id: string }>('client', 'create', '--name', name, '--grant', 'token-exchange', ...(options.scopeCeiling ? ['--scopes', options.scopeCeiling.join(',')] : []));
  return created.client_id;
}

/** A browser's view of the account pages: its cookies, and requests that never follow redirects. */
export class AccountBrowser {
  readonly jar: CookieJar;
  readonly #base: string;
  constructor(base: string, jar = new CookieJar()) {
    this.#base = base;
    this.jar = jar;
  }
  async get(path: string): Promise<Response> {
    const res = await fetch(`${this.#base}${path}`, { redirect: 'manual', headers: { cookie: this.jar.header() } });
    this.jar.store(res);
    return res;
  }
  async post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    const res = await fetch(`${this.#base}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: this.jar.header(), 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields),
    });
    this.jar.store(res);
    return res;
  }
  /** The page's form token (every form on an account page carries the same one). */
  async csrf(path: string): Promise<string> {
    const html = await (await this.get(path)).text();
    const token = field(html, 'csrf');
    if (!token) throw new Error(`no form on ${path}: ${html.slice(0, 300)}`);
    return token;
  }
}

/**
 * Walks from `start` (an account page, or a sign-in link on one) through the sign-in pages as
 * `email` (password, and the TOTP code when the two-step page shows) and back to the account
 * page it returns to. Returns the browser (new, or `browser` reused) and that page's path.
 */
export async function walkSignIn(
  t: TestServer,
  start: string,
  email: string,
  options: { browser?: AccountBrowser; totpSecret?: string; password?: string } = {},
): Promise<{ browser: AccountBrowser; returnedTo: string }> {
  const steps = new SignInSteps({ forwardedFor: null, jar: options.browser?.jar });
  const callback = await steps.walk(`${t.url}${start}`, `${t.issuer}/account/signed-in`, (page) => {
    if (page.seen > 0) throw new Error(`${page.kind} page shown again (${page.status}): ${page.html.slice(0, 300)}`);
    if (page.kind === 'login') return { email, password: options.password ?? PASSWORD };
    if (page.kind === 'mfa') return { code: totpCode(options.totpSecret ?? '', Date.now()) };
    throw new Error(`unexpected ${page.kind} page while signing in: ${page.html.slice(0, 300)}`);
  });
  const browser = options.browser ?? new AccountBrowser(t.url, steps.jar);
  const back = await browser.get(`${callback.pathname}${callback.search}`);
  if (back.status !== 303) throw new Error(`the sign-in did not come back (${back.status}): ${(await back.text()).slice(0, 300)}`);
  return { browser, returnedTo: back.headers.get('location') ?? '' };
}

/** A browser signed in to the account pages as `email`. */
export async function signInToAccount(t: TestServer, email: string, options: { totpSecret?: string } = {}): Promise<AccountBrowser> {
  return (await walkSignIn(t, '/account/delegations', email, options)).browser;
}

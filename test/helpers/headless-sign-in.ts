// The sign-in flow over plain HTTP (no browser): the same login and consent forms a person
// submits, driven with fetch and a cookie jar. For tests and benchmarks that need user tokens
// in bulk; the browser tests cover what a person sees.
import * as oidc from 'openid-client';
import { totpCode } from '../../src/governance/totp.ts';
import { PASSWORD, REDIRECT, authorizationRequest } from './people.ts';

export class CookieJar {
  readonly #cookies = new Map<string, string>();
  store(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair && eq > 0) this.#cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export const field = (html: string, name: string): string | undefined => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];

export interface HeadlessOptions {
  readonly password?: string;
  readonly totpSecret?: string;
  readonly extra?: Record<string, string>;
}

/** Runs login (+ TOTP) and consent; returns the tokens the app gets. */
export async function headlessSignIn(config: oidc.Configuration, email: string, scope: string, options: HeadlessOptions = {}): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers> {
  const req = await authorizationRequest(config, scope, options.extra);
  const jar = new CookieJar();
  const origin = req.url.origin;
  let url = req.url.href;
  let body: URLSearchParams | undefined;
  for (let hop = 0; hop < 20; hop++) {
    const res = await fetch(url, {
      method: body ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie: jar.header(), ...(body && { 'content-type': 'application/x-www-form-urlencoded' }) },
      body,
    });
    jar.store(res);
    body = undefined;
    const location = res.headers.get('location');
    if (location) {
      const next = new URL(location, origin);
      if (next.href.startsWith(REDIRECT)) {
        return oidc.authorizationCodeGrant(config, next, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
      }
      url = next.href;
      continue;
    }
    const html = await res.text();
    // A throttled sign-in shows the login form again: posting it again would only loop.
    if (res.status === 429) throw new Error(`sign-in throttled (429): ${html.slice(0, 300)}`);
    const csrf = field(html, 'csrf');
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (!csrf || !action) throw new Error(`unexpected page (${res.status}): ${html.slice(0, 300)}`);
    url = new URL(action, origin).href;
    if (html.includes('name="password"')) body = new URLSearchParams({ csrf, email, password: options.password ?? PASSWORD });
    else if (html.includes('name="code"')) body = new URLSearchParams({ csrf, code: totpCode(options.totpSecret ?? '', Date.now()) });
    else if (html.includes('value="allow"')) body = new URLSearchParams({ csrf, decision: 'allow' });
    else throw new Error(`page without an expected form (${res.status}): ${html.slice(0, 300)}`);
  }
  throw new Error('too many redirects');
}

// The sign-in pages driven over plain HTTP one step at a time: each page is answered by the
// caller (headless-sign-in.ts answers like a person who gets everything right; other tests send
// a wrong password or TOTP code once, "Deny" on the consent page, the sign-out form). Each form post is kept with the status and
// X-Request-Id of its response, so tests can match audit records to the request that made them.
import * as oidc from 'openid-client';
import { CookieJar, field } from './cookie-jar.ts';
import { REDIRECT, authorizationRequest, type AuthRequest } from './people.ts';

export type PageKind = 'login' | 'mfa' | 'consent' | 'logout';

interface Page {
  readonly kind: PageKind;
  readonly status: number;
  readonly html: string;
  /** How many times a page of this kind was shown before in this walk. */
  readonly seen: number;
}

export interface Post {
  readonly kind: PageKind;
  readonly path: string;
  readonly status: number;
  readonly requestId: string | null;
}

/** Form fields to submit; undefined ones are left out. */
type Fields = Readonly<Record<string, string | undefined>>;

/** What to submit on a page (besides its form token); the walk fails on anything unexpected. */
export type Answer = (page: Page) => Fields | Promise<Fields>;

const formBody = (fields: Fields): URLSearchParams => {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) body.set(k, v);
  return body;
};

/** Any address a client may claim; without GOVAUTH_TRUST_PROXY it must never reach a record. */
export const CLAIMED_ADDRESS = '203.0.113.77';

function kindOf(html: string): PageKind | undefined {
  if (html.includes('id="op.logoutForm"')) return 'logout';
  if (html.includes('name="password"')) return 'login';
  if (html.includes('name="code"')) return 'mfa';
  if (html.includes('name="decision"')) return 'consent';
  return undefined;
}

export class SignInSteps {
  readonly jar: CookieJar;
  readonly posts: Post[] = [];
  readonly #forwardedFor: string | null;

  /** `forwardedFor`: the X-Forwarded-For every request claims (null: none); `jar`: a browser's cookies so far. */
  constructor(options: { forwardedFor?: string | null; jar?: CookieJar } = {}) {
    this.#forwardedFor = options.forwardedFor === undefined ? CLAIMED_ADDRESS : options.forwardedFor;
    this.jar = options.jar ?? new CookieJar();
  }

  /** Follows redirects and answers pages until a redirect to `endsAt`, which it returns. */
  async walk(start: string, endsAt: string, answer: Answer): Promise<URL> {
    const origin = new URL(start).origin;
    const seen = new Map<PageKind, number>();
    let url = start;
    let post: { kind: PageKind; body: URLSearchParams } | undefined;
    for (let hop = 0; hop < 20; hop++) {
      const res = await fetch(url, {
        method: post ? 'POST' : 'GET',
        redirect: 'manual',
        headers: { cookie: this.jar.header(), ...(this.#forwardedFor !== null && { 'x-forwarded-for': this.#forwardedFor }), ...(post && { 'content-type': 'application/x-www-form-urlencoded' }) },
        body: post?.body,
      });
      this.jar.store(res);
      if (post) this.posts.push({ kind: post.kind, path: new URL(url).pathname, status: res.status, requestId: res.headers.get('x-request-id') });
      post = undefined;
      const location = res.headers.get('location');
      if (location) {
        const next = new URL(location, origin);
        if (next.href.startsWith(endsAt)) return next;
        url = next.href;
        continue;
      }
      const html = await res.text();
      const kind = kindOf(html);
      const action = /<form[^>]*method="post"[^>]*action="([^"]+)"/.exec(html)?.[1];
      // oidc-provider's sign-out form carries `xsrf`; govauth's own pages carry `csrf`.
      const tokenName = kind === 'logout' ? 'xsrf' : 'csrf';
      const token = field(html, tokenName);
      if (!kind || !action || !token) throw new Error(`unexpected page (${res.status}): ${html.slice(0, 300)}`);
      const count = seen.get(kind) ?? 0;
      seen.set(kind, count + 1);
      url = new URL(action, origin).href;
      post = { kind, body: formBody({ [tokenName]: token, ...(await answer({ kind, status: res.status, html, seen: count })) }) };
    }
    throw new Error('too many redirects');
  }

  /** The last form post of this kind (the one that moved the sign-in on, or failed last). */
  last(kind: PageKind): Post {
    const hit = this.posts.filter((p) => p.kind === kind).at(-1);
    if (!hit) throw new Error(`no ${kind} form was posted`);
    return hit;
  }
}

/** Starts an authorization request and walks it to the app's redirect URI. */
export async function authorize(config: oidc.Configuration, scope: string, answer: Answer, options: { steps?: SignInSteps; extra?: Record<string, string> } = {}): Promise<{ req: AuthRequest; callback: URL; steps: SignInSteps }> {
  const steps = options.steps ?? new SignInSteps();
  const req = await authorizationRequest(config, scope, options.extra);
  const callback = await steps.walk(req.url.href, REDIRECT, answer);
  return { req, callback, steps };
}

export const exchange = (config: oidc.Configuration, callback: URL, req: AuthRequest) =>
  oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });

// Step-by-step headless sign-in for the adversarial suite: unlike test/helpers/sign-in-steps.ts
// (which walks a whole sign-in, answering each page), each step is exposed so a test can stop
// at the consent page, tamper with a form, or take the code from the callback and redeem it.
import type * as oidc from 'openid-client';
import { CookieJar, field } from '../../helpers/cookie-jar.ts';
import { basic, type ClientCreds } from '../../helpers/oauth.ts';
import { PASSWORD, REDIRECT, authorizationRequest, createUser, createWebApp, discover, type AuthRequest } from '../../helpers/people.ts';
import { authorize, exchange, type Answer } from '../../helpers/sign-in-steps.ts';
import type { TestServer } from '../../helpers/test-server.ts';

export interface Page {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly html: string;
  /** The first form's action (absolute) and its csrf field, when the page has a form. */
  readonly action: string | undefined;
  readonly csrf: string | undefined;
}

export type Step = { readonly callback: URL } | { readonly page: Page };

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
/** What a browser asks for when it navigates: oidc-provider answers errors in HTML only then. */
export const NAVIGATE = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

/** A cookie-keeping HTTP agent that behaves like a browser without JavaScript. */
export class Agent {
  readonly jar = new CookieJar();
  readonly #headers: Record<string, string>;
  constructor(headers: Record<string, string> = {}) {
    this.#headers = { ...NAVIGATE, ...headers };
  }

  /** One request, no redirect followed; cookies stored. */
  async send(url: string, form?: Record<string, string>, options: { cookies?: boolean } = {}): Promise<Response> {
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { ...this.#headers, ...(options.cookies !== false && { cookie: this.jar.header() }), ...(form && FORM) },
      body: form && new URLSearchParams(form),
    });
    this.jar.store(res);
    return res;
  }

  /** Follows redirects until a page is rendered or the app's redirect_uri is reached. */
  async follow(url: string, form?: Record<string, string>): Promise<Step> {
    let next = url;
    let body = form;
    for (let hop = 0; hop < 10; hop++) {
      const res = await this.send(next, body);
      body = undefined;
      const location = res.headers.get('location');
      if (!location) return { page: await toPage(next, res) };
      const target = new URL(location, next);
      if (target.href.startsWith(REDIRECT)) return { callback: target };
      next = target.href;
    }
    throw new Error('too many redirects');
  }
}

async function toPage(url: string, res: Response): Promise<Page> {
  const html = await res.text();
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  return { url, status: res.status, headers: res.headers, html, action: action && new URL(action, url).href, csrf: field(html, 'csrf') };
}

export function pageOf(step: Step): Page {
  if ('page' in step) return step.page;
  throw new Error(`expected a page, got a redirect to ${step.callback.href}`);
}
export function callbackOf(step: Step): URL {
  if ('callback' in step) return step.callback;
  throw new Error(`expected the callback, got a page (${step.page.status}): ${step.page.html.slice(0, 300)}`);
}

/** Opens the authorization URL and returns the login page. */
export async function openLogin(agent: Agent, url: URL): Promise<Page> {
  const page = pageOf(await agent.follow(url.href));
  if (!page.html.includes('name="password"')) throw new Error(`not the login page (${page.status}): ${page.html.slice(0, 300)}`);
  return page;
}

export const submitLogin = (agent: Agent, login: Page, email: string, password = PASSWORD): Promise<Step> =>
  agent.follow(login.action ?? '', { csrf: login.csrf ?? '', email, password });

/** Signs in and returns the consent page (not yet answered). */
export async function openConsent(agent: Agent, url: URL, email: string): Promise<Page> {
  const page = pageOf(await submitLogin(agent, await openLogin(agent, url), email));
  if (!page.html.includes('value="allow"')) throw new Error(`not the consent page (${page.status}): ${page.html.slice(0, 300)}`);
  return page;
}

export const allow = (agent: Agent, consent: Page): Promise<Step> => agent.follow(consent.action ?? '', { csrf: consent.csrf ?? '', decision: 'allow' });

export interface SignedIn {
  readonly req: AuthRequest;
  readonly callback: URL;
  readonly code: string;
}

/** Login + consent; stops at the callback: the code is not redeemed. */
export async function signInForCode(config: oidc.Configuration, email: string, scope: string, extra: Record<string, string> = {}): Promise<SignedIn> {
  const req = await authorizationRequest(config, scope, extra);
  const agent = new Agent();
  const callback = callbackOf(await allow(agent, await openConsent(agent, req.url, email)));
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code in ${callback.href}`);
  return { req, callback, code };
}

export const redeem = (config: oidc.Configuration, s: SignedIn) => exchange(config, s.callback, s.req);

/** The OAuth error code of a rejected openid-client call, or 'success'. */
export const oauthError = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'success',
    (err: Error & { error?: string }) => err.error ?? err.message,
  );

/** A raw token request (client_secret_basic, or client_id in the body for a public client). */
export async function postToken(issuer: string, params: Record<string, string>, client: { client_id: string; client_secret: string | null }) {
  const auth = client.client_secret ? { authorization: basic(client as ClientCreds) } : undefined;
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { ...FORM, ...auth },
    body: new URLSearchParams({ ...params, ...(!auth && { client_id: client.client_id }) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** RFC 7662 introspection with resource-server credentials: is the token active right now? */
export async function isActive(issuer: string, rs: ClientCreds, token: string): Promise<boolean> {
  const res = await fetch(`${issuer}/token/introspection`, { method: 'POST', headers: { ...FORM, authorization: basic(rs) }, body: new URLSearchParams({ token }) });
  if (res.status !== 200) throw new Error(`introspection answered ${res.status}`);
  return ((await res.json()) as { active: boolean }).active;
}

/**
 * A person holding a role of their own (ai.training.read), signed in to a web app of their own
 * with offline_access: a case can revoke that role, person or app without touching another's.
 */
export async function signedInAlone(t: TestServer, name: string, role: string, description: string) {
  await t.cliJson('role', 'create', role, '--scopes', 'ai.training.read', '--description', description);
  const email = `${name}@example.com`;
  await createUser(t, email, [role]);
  const app = await createWebApp(t);
  await t.server.policy.sync();
  const config = await discover(t, app);
  const answer: Answer = (page) => (page.kind === 'login' ? { email, password: PASSWORD } : { decision: 'allow' });
  const { req, callback } = await authorize(config, 'openid offline_access ai.training.read', answer, { extra: { prompt: 'consent' } });
  const tokens = await exchange(config, callback, req);
  return { email, role, app, config, tokens };
}

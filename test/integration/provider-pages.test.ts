// Pages oidc-provider would otherwise render itself with an inline script: sign-out when nobody
// is signed in, and response_mode=form_post. Both must be govauth's own script-free page whose
// form, posted by a button, completes the protocol step.
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, field } from '../helpers/cookie-jar.ts';
import { PASSWORD, REDIRECT, authorizationRequest, createUser, createWebApp, discover } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let app: { client_id: string; client_secret: string | null };
let config: oidc.Configuration;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await createUser(t, 'page@example.com', ['data-scientist']);
  app = await createWebApp(t);
  await t.server.policy.sync();
  config = await discover(t, app);
});
afterAll(() => t?.stop());

function expectOwnPage(res: Response, html: string): void {
  expect(html).not.toMatch(/<script/i);
  expect(html).not.toContain('Submitting Callback');
  expect(html).toContain('/assets/govauth.css');
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp).toMatch(/default-src 'none'/);
  expect(csp).not.toMatch(/script-src/);
  expect(csp).toMatch(/frame-ancestors 'none'/);
}

const backLink = (html: string): { href: string; label: string } | undefined => {
  const m = /<a class="button-link" href="([^"]*)">([^<]*)<\/a>/.exec(html);
  return m ? { href: (m[1] ?? '').replaceAll('&amp;', '&'), label: m[2] ?? '' } : undefined;
};

const formOf = (html: string): { action: string; fields: URLSearchParams } => {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? '';
  const fields = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"\/>/g)) fields.append(m[1] ?? '', m[2] ?? '');
  return { action: action.replaceAll('&amp;', '&'), fields };
};

describe('sign-out without a session', () => {
  it('shows govauth\'s page, and its Continue button ends at the registered post-logout URI', async () => {
    const jar = new CookieJar();
    const url = oidc.buildEndSessionUrl(config, { client_id: app.client_id, post_logout_redirect_uri: 'https://app.example/bye', state: 'st-1' });
    const res = await fetch(url, { redirect: 'manual' });
    jar.store(res);
    const html = await res.text();
    expect(res.status).toBe(200);
    expectOwnPage(res, html);
    expect(html).toContain('Continue');
    const form = formOf(html);
    expect(form.action).toBe(`${t.issuer}/session/end/confirm`);
    expect(form.fields.get('logout')).toBe('yes');
    const done = await fetch(form.action, { method: 'POST', redirect: 'manual', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: form.fields });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('https://app.example/bye?state=st-1');
  });

  it('refuses an unregistered post-logout URI with govauth\'s error page (no open redirect)', async () => {
    const url = oidc.buildEndSessionUrl(config, { client_id: app.client_id, post_logout_redirect_uri: 'https://evil.example/' });
    const res = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html' } });
    const html = await res.text();
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expectOwnPage(res, html);
    // A sentence for a person, not the library's text; the way back is the app's registered one.
    expect(html).not.toContain('post_logout_redirect_uri not registered');
    expect(html).toContain('has not registered after signing out');
    expect(backLink(html)).toEqual({ href: 'https://app.example/bye', label: 'Back to Model Studio' });
  });
});

describe('response_mode=form_post', () => {
  it('returns the code through govauth\'s page, posting to the app\'s redirect URI', async () => {
    const req = await authorizationRequest(config, 'openid ai.training.read', { response_mode: 'form_post' });
    const jar = new CookieJar();
    let url = req.url.href;
    let body: URLSearchParams | undefined;
    let final: { res: Response; html: string } | undefined;
    for (let hop = 0; hop < 10 && !final; hop++) {
      const res = await fetch(url, { method: body ? 'POST' : 'GET', redirect: 'manual', headers: { cookie: jar.header(), ...(body && { 'content-type': 'application/x-www-form-urlencoded' }) }, body });
      jar.store(res);
      body = undefined;
      const location = res.headers.get('location');
      if (location) {
        url = new URL(location, req.url.origin).href;
        continue;
      }
      const html = await res.text();
      const csrf = field(html, 'csrf');
      if (!csrf) {
        final = { res, html };
        break;
      }
      url = new URL(/<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? '', req.url.origin).href;
      body = html.includes('name="password"') ? new URLSearchParams({ csrf, email: 'page@example.com', password: PASSWORD }) : new URLSearchParams({ csrf, decision: 'allow' });
    }
    if (!final) throw new Error('no form_post page');
    expect(final.res.status).toBe(200);
    expectOwnPage(final.res, final.html);
    expect(final.res.headers.get('content-security-policy')).toMatch(/form-action 'self' https:\/\/app\.example[;\s]/);
    expect(final.html).toContain('app.example');
    const form = formOf(final.html);
    expect(form.action).toBe(REDIRECT);
    expect(form.fields.get('state')).toBe(req.state);
    expect(form.fields.get('iss')).toBe(t.issuer);
    // The code it carries is real: the app exchanges it.
    const callback = new URL(REDIRECT);
    const tokens = await oidc.authorizationCodeGrant(config, new Request(callback, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.fields }), {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.claims()?.email).toBeUndefined();
  });
});

describe('error pages', () => {
  const authUrl = (params: Record<string, string | null>): string => {
    const all: Record<string, string | null> = {
      client_id: app.client_id, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid ai.training.read',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 'st-1', ...params,
    };
    return `${t.issuer}/auth?${String(new URLSearchParams(Object.entries(all).filter((e): e is [string, string] => e[1] !== null)))}`;
  };
  const page = async (url: string, init: RequestInit = {}) => {
    const res = await fetch(url, { redirect: 'manual', ...init, headers: { accept: 'text/html', ...init.headers } });
    const html = await res.text();
    expectOwnPage(res, html);
    expect(html).toContain(`request <code>${res.headers.get('x-request-id') ?? ''}</code>`);
    return { res, html };
  };

  it('an unknown client: a clear sentence, never the library text, and no link anywhere', async () => {
    const { res, html } = await page(authUrl({ client_id: 'cl_nobody' }));
    expect(res.status).toBe(400);
    expect(html).toContain('<h1 id="page-title">Unknown application</h1>');
    expect(html).toContain('not registered with govauth');
    expect(html).toContain('Error code: <code>invalid_client</code>');
    expect(html).not.toMatch(/client is invalid|client not found/i);
    expect(backLink(html)).toBeUndefined();
  });

  it('a request without client_id says so', async () => {
    const { res, html } = await page(authUrl({ client_id: null }));
    expect(res.status).toBe(400);
    expect(html).toContain('does not say which application it comes from');
    expect(html).not.toContain('missing required parameter');
  });

  it('an unregistered redirect_uri: explains why it stopped, and links back to the app at its registered origin', async () => {
    const { res, html } = await page(authUrl({ redirect_uri: 'https://evil.example/callback' }));
    expect(res.status).toBe(400);
    expect(html).toContain('<h1 id="page-title">Unsafe return address</h1>');
    expect(html).not.toContain("redirect_uri did not match any of the client's registered redirect_uris");
    expect(html).not.toContain('evil.example');
    expect(backLink(html)).toEqual({ href: 'https://app.example/', label: 'Back to Model Studio' });
  });

  it('escapes what it shows: an application named with markup', async () => {
    const hostile = await t.cliJson<{ client_id: string }>('client', 'create', '--name', '<img src=x onerror=alert(1)>"', '--grant', 'authorization_code', '--redirect-uri', REDIRECT);
    await t.server.policy.sync();
    const { html } = await page(authUrl({ client_id: hostile.client_id, redirect_uri: 'https://evil.example/cb' }));
    expect(html).not.toContain('<img');
    expect(html).toContain('Back to &lt;img src=x onerror=alert(1)&gt;&quot;');
  });

  it('an expired or unknown sign-in: says so and sends the person back to the app, no dead link', async () => {
    const { res, html } = await page(`${t.issuer}/interaction/not-a-sign-in`);
    expect(res.status).toBe(400);
    expect(html).toContain('<h1 id="page-title">Sign-in expired</h1>');
    expect(html).toContain('Go back to the application and start again.');
    expect(backLink(html)).toBeUndefined();
  });

  it('a stale or forged form: a sentence and a link that continues the same sign-in', async () => {
    const jar = new CookieJar();
    const req = await authorizationRequest(config, 'openid ai.training.read');
    const started = await fetch(req.url, { redirect: 'manual' });
    jar.store(started);
    const loginUrl = new URL(started.headers.get('location') ?? '', t.issuer).href;
    const uid = new URL(loginUrl).pathname.split('/')[2] ?? '';
    const { res, html } = await page(`${loginUrl}/login`, {
      method: 'POST',
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: 'forged', email: 'page@example.com', password: PASSWORD }),
    });
    expect(res.status).toBe(403);
    expect(html).toContain('<h1 id="page-title">Form no longer valid</h1>');
    expect(backLink(html)).toEqual({ href: `/interaction/${uid}`, label: 'Continue signing in' });
    // The link really continues: the login form of that sign-in, with a valid form token.
    const again = await fetch(`${t.issuer}/interaction/${uid}`, { headers: { cookie: jar.header() } });
    expect(again.status).toBe(200);
    expect(field(await again.text(), 'csrf')).toBeTruthy();
  });
});

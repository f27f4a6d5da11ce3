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
    expect(html).toContain('post_logout_redirect_uri not registered');
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

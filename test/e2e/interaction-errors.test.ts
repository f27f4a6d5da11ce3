// Bad input around sign-in gets a clear page or a standard OAuth error redirect, never a 500:
// PKCE violations, redirect_uri mismatch, unknown clients, tampered interaction ids, replayed
// and cross-site form posts. Also: public clients with PKCE, CORS, and the page on a phone.
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { captureRedirects, launchBrowser, screenshot } from '../helpers/browser.ts';
import { decodeJwt } from '../helpers/oauth.ts';
import { API, PASSWORD, REDIRECT, authorizationRequest, createUser, createWebApp, discover } from '../helpers/people.ts';
import { signInAndAllow } from '../helpers/sign-in-flow.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let browser: Browser;
let app: { client_id: string; client_secret: string | null };
let config: oidc.Configuration;
let context: BrowserContext;
let page: Page;
let nextCallback: () => Promise<URL>;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await createUser(t, 'judy@example.com', ['data-scientist']);
  app = await createWebApp(t);
  config = await discover(t, app);
  await t.server.policy.sync();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.stop();
});
beforeEach(async () => {
  context = await browser.newContext();
  page = await context.newPage();
  nextCallback = await captureRedirects(page, REDIRECT);
});
afterEach(() => context?.close());

const authUrl = (params: Record<string, string>): string =>
  `${t.issuer}/auth?${String(new URLSearchParams({ client_id: app.client_id, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid ai.training.read', resource: API, ...params }))}`;

async function getNoRedirect(url: string): Promise<Response> {
  return fetch(url, { redirect: 'manual' });
}

describe('authorization request errors', () => {
  it('refuses a missing code_challenge and the plain method with an OAuth error redirect', async () => {
    for (const extra of [{}, { code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' }] as Record<string, string>[]) {
      const res = await getNoRedirect(authUrl({ state: 's1', ...extra }));
      expect(res.status, JSON.stringify(extra)).toBe(303);
      const location = new URL(res.headers.get('location') ?? '');
      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('state')).toBe('s1');
    }
  });

  it('shows its own error page, never redirecting, for a wrong redirect_uri or an unknown client', async () => {
    for (const params of [
      { redirect_uri: 'https://app.example/callback/../evil', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' },
      { redirect_uri: 'https://evil.example/callback', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' },
      { client_id: 'cl_nobody', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' },
    ] as Record<string, string>[]) {
      const res = await getNoRedirect(authUrl(params));
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      const html = await res.text();
      expect(html).toContain('/assets/govauth.css');
      expect(html).not.toMatch(/fonts\.googleapis|<script/);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    }
  });

  it('does not crash without state (PKCE protects the flow, RFC 9700 §2.1)', async () => {
    const res = await getNoRedirect(authUrl({ code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/\/interaction\//);
  });
});

describe('interaction errors', () => {
  it('answers a tampered or unknown interaction id with a clear page', async () => {
    const req = await authorizationRequest(config, 'openid ai.training.read');
    await page.goto(req.url.href);
    const real = new URL(page.url()).pathname;
    await page.goto(`${t.issuer}${real}x`);
    expect(await page.getByRole('alert').innerText()).toMatch(/expired or was already completed|does not belong to this browser/);
    await screenshot(page, 'error');
    const bare = await fetch(`${t.issuer}/interaction/made-up-id`);
    expect(bare.status).toBe(400);
  });

  it('refuses a form posted cross-site (no interaction cookie) and a form with a forged token', async () => {
    const req = await authorizationRequest(config, 'openid ai.training.read');
    await page.goto(req.url.href);
    const uid = new URL(page.url()).pathname.split('/').pop() ?? '';
    const cross = await fetch(`${t.issuer}/interaction/${uid}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: 'judy@example.com', password: PASSWORD, csrf: 'x' }),
    });
    expect(cross.status).toBe(400);
    await page
      .locator('input[name=csrf]')
      .first()
      .evaluate((el: { setAttribute(name: string, value: string): void }) => el.setAttribute('value', 'forged'));
    await page.getByLabel('Email').fill('judy@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await page.getByRole('alert').innerText()).toMatch(/form is not valid for this sign-in/);
  });

  it('refuses a replayed consent form once the consent is done', async () => {
    const req = await authorizationRequest(config, 'openid ai.training.read');
    await page.goto(req.url.href);
    await page.getByLabel('Email').fill('judy@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    const action = await page.locator('form.actions').getAttribute('action');
    const csrf = await page.locator('form.actions input[name=csrf]').getAttribute('value');
    await page.getByRole('button', { name: 'Allow' }).click();
    await nextCallback();
    const replay = await page.request.post(`${t.issuer}${action}`, { form: { csrf: csrf ?? '', decision: 'allow' }, maxRedirects: 0 });
    expect(replay.status()).toBe(400);
    expect(await replay.text()).toMatch(/expired or was already completed/);
  });

  it('does not let an authorization code be used twice', async () => {
    const req = await authorizationRequest(config, 'openid ai.training.read');
    await signInAndAllow(page, req.url, 'judy@example.com');
    const callback = await nextCallback();
    await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    const second = await oidc
      .authorizationCodeGrant(config, callback, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce })
      .catch((err: { error?: string }) => err.error);
    expect(second).toBe('invalid_grant');
  });

  it('refuses a wrong PKCE verifier at the token endpoint', async () => {
    const req = await authorizationRequest(config, 'openid ai.training.read');
    await signInAndAllow(page, req.url, 'judy@example.com');
    const err = await oidc
      .authorizationCodeGrant(config, await nextCallback(), { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: req.state, expectedNonce: req.nonce })
      .catch((e: { error?: string }) => e.error);
    expect(err).toBe('invalid_grant');
  });
});

describe('public clients', () => {
  it('completes the flow with PKCE and no secret, and allows CORS only from its redirect origin', async () => {
    const spa = await t.cliJson<{ client_id: string; client_secret: null }>(
      'client', 'create', '--name', 'Notebook SPA', '--grant', 'authorization_code', '--redirect-uri', REDIRECT, '--public', '--scopes', 'ai.training.read',
    );
    expect(spa.client_secret).toBeNull();
    await t.server.policy.sync();
    const spaConfig = await discover(t, spa);
    const req = await authorizationRequest(spaConfig, 'openid ai.training.read ai.training.analyze');
    await signInAndAllow(page, req.url, 'judy@example.com');
    const tokens = await oidc.authorizationCodeGrant(spaConfig, await nextCallback(), { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    // The app's ceiling (--scopes) caps what the person could give it.
    expect(decodeJwt(tokens.access_token).payload.scope).toBe('ai.training.read');

    const preflight = (origin: string) => fetch(`${t.url}/token`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    const ok = await fetch(`${t.url}/token`, { method: 'POST', headers: { origin: 'https://app.example', 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=refresh_token&client_id=${spa.client_id}&refresh_token=nope` });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const evil = await fetch(`${t.url}/token`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=refresh_token&client_id=${spa.client_id}&refresh_token=nope` });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight('https://app.example')).status).toBeLessThan(300);
  });
});

describe('layout', () => {
  it('fits a phone screen', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    const p = await phone.newPage();
    const req = await authorizationRequest(config, 'openid ai.training.read');
    await p.goto(req.url.href);
    const width = await p.evaluate('document.documentElement.scrollWidth');
    expect(width).toBeLessThanOrEqual(390);
    await screenshot(p, 'login-phone');
    await phone.close();
  });
});

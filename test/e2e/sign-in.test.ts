// A person signs in through a real browser (Debian Chromium via playwright-core) to an app
// played by openid-client v6: login, consent, code + PKCE exchange, tokens verified with jose.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/governance/totp.ts';
import { captureRedirects, launchBrowser, screenshot } from '../helpers/browser.ts';
import { decodeJwt } from '../helpers/oauth.ts';
import { API, PASSWORD, REDIRECT, authorizationRequest, createUser, createWebApp, discover } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let browser: Browser;
let app: { client_id: string; client_secret: string | null };
let config: oidc.Configuration;
let context: BrowserContext;
let page: Page;
let nextCallback: () => Promise<URL>;
let bobSecret: string;

beforeAll(async () => {
  t = await startTestServer({ env: { GOVAUTH_LOGIN_MAX_FAILURES: '3' } });
  await t.cliJson('init', '--demo');
  await createUser(t, 'alice@example.com', ['data-scientist']);
  await createUser(t, 'bob@example.com', ['admin']);
  await createUser(t, 'carol@example.com', ['admin']); // admin without MFA
  await createUser(t, 'dave@example.com', ['end-user']);
  bobSecret = (await t.cliJson<{ secret: string }>('user', 'mfa', 'enroll', 'bob@example.com')).secret;
  app = await createWebApp(t);
  await t.server.policy.sync();
  config = await discover(t, app);
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
afterEach(async () => {
  await context?.close();
});

async function signIn(email: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function exchange(callback: URL, req: { verifier: string; state: string; nonce: string }) {
  return oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
}

describe('sign in with the authorization code flow and PKCE', () => {
  it('signs in, shows consent, and issues verified ID and access tokens limited by the person\'s roles', async () => {
    const req = await authorizationRequest(config, 'openid email offline_access ai.training.read ai.deploy.manage', { prompt: 'consent' });
    await page.goto(req.url.href);
    await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'login');
    await signIn('alice@example.com');

    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    await screenshot(page, 'consent');
    const text = await page.locator('main').innerText();
    expect(text).toContain('Model Studio');
    expect(text).toContain('Example model API');
    expect(text).toContain('ai.training.read');
    expect(text).toContain('Read training datasets and training-run metadata');
    expect(text).toMatch(/medium sensitivity/i);
    // Not hers: left out of the list, and the page says so briefly.
    expect(await page.locator('.scopes').first().innerText()).not.toContain('ai.deploy.manage');
    expect(text).toMatch(/Not included because your roles do not grant it: ai\.deploy\.manage/);
    await page.getByRole('button', { name: 'Allow' }).click();

    const callback = await nextCallback();
    expect(callback.searchParams.get('iss')).toBe(t.issuer); // RFC 9207
    const tokens = await exchange(callback, req);
    const jwks = createRemoteJWKSet(new URL(`${t.url}/jwks`));
    const { payload: at } = await jwtVerify(tokens.access_token, jwks, { issuer: t.issuer, audience: API, typ: 'at+jwt', algorithms: ['RS256'] });
    expect(at).toMatchObject({ scope: 'ai.training.read', client_id: app.client_id, roles: ['data-scientist'], acr: 'urn:govauth:acr:pwd', amr: ['pwd'] });
    expect(String(at.sub)).toMatch(/^usr_/);
    expect(typeof at.auth_time).toBe('number');

    const { payload: id, protectedHeader } = await jwtVerify(tokens.id_token!, jwks, { issuer: t.issuer, audience: app.client_id, algorithms: ['RS256'] });
    expect(protectedHeader.alg).toBe('RS256');
    expect(id).toMatchObject({ sub: at.sub, email: 'alice@example.com', acr: 'urn:govauth:acr:pwd', amr: ['pwd'], nonce: req.nonce });
    expect(typeof id.auth_time).toBe('number');
    expect(tokens.refresh_token).toBeTruthy();
  });

  it('returns access_denied to the app when the person denies', async () => {
    const req = await authorizationRequest(config, 'openid ai.training.read');
    await page.goto(req.url.href);
    await signIn('alice@example.com');
    await page.getByRole('button', { name: 'Deny' }).click();
    const callback = await nextCallback();
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe(req.state);
  });

  it('refuses a wrong password without saying whether the account exists, then throttles', async () => {
    const req = await authorizationRequest(config, 'openid ai.training.read');
    await page.goto(req.url.href);
    await signIn('alice@example.com', 'wrong password entirely');
    const wrong = await page.getByRole('alert').innerText();
    expect(wrong).toBe('Incorrect email or password.');
    await screenshot(page, 'login-error');
    await signIn('nobody@example.com', 'wrong password entirely');
    expect(await page.getByRole('alert').innerText()).toBe(wrong);
    // GOVAUTH_LOGIN_MAX_FAILURES=3 for this server: the third failure locks this account+address.
    await signIn('alice@example.com', 'wrong password entirely');
    await signIn('alice@example.com', 'wrong password entirely');
    expect(await page.getByRole('alert').innerText()).toMatch(/Too many failed sign-in attempts.*paused for \d+ minutes?/);
    await signIn('alice@example.com'); // even the right password waits
    expect(await page.getByRole('alert').innerText()).toMatch(/Too many failed sign-in attempts/);
  });
});

describe('step-up for high-sensitivity scopes', () => {
  it('asks for a TOTP code before granting ai.deploy.manage, and the tokens say so', async () => {
    const req = await authorizationRequest(config, 'openid ai.deploy.manage ai.usage.log.read');
    await page.goto(req.url.href);
    await signIn('bob@example.com');
    await page.getByLabel('Authentication code').waitFor();
    await screenshot(page, 'mfa');
    await page.getByLabel('Authentication code').fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    expect(await page.getByRole('alert').innerText()).toMatch(/That code is not valid/);
    await page.getByLabel('Authentication code').fill(totpCode(bobSecret, Date.now()));
    await page.getByRole('button', { name: 'Verify' }).click();

    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    const listed = await page.locator('.scopes').first().innerText();
    expect(listed).toContain('ai.deploy.manage');
    expect(listed).toMatch(/high sensitivity/i);
    await screenshot(page, 'consent-high');
    await page.getByRole('button', { name: 'Allow' }).click();
    const tokens = await exchange(await nextCallback(), req);
    const at = decodeJwt(tokens.access_token).payload;
    expect(at).toMatchObject({ scope: 'ai.deploy.manage ai.usage.log.read', acr: 'urn:govauth:acr:mfa', amr: ['pwd', 'otp'] });
    expect(Number(at.exp) - Number(at.iat)).toBe(300); // ai.deploy.manage caps the lifetime
    expect(decodeJwt(tokens.id_token!).payload).toMatchObject({ acr: 'urn:govauth:acr:mfa', amr: ['pwd', 'otp'] });
  });

  it('leaves high-sensitivity scopes out for a person without MFA, and says why', async () => {
    const req = await authorizationRequest(config, 'openid ai.deploy.manage ai.usage.log.read');
    await page.goto(req.url.href);
    await signIn('carol@example.com');
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    expect(await page.locator('.scopes').first().innerText()).not.toContain('ai.deploy.manage');
    expect(await page.locator('main').innerText()).toMatch(/two-step verification, which is not set up for your account.*ai\.deploy\.manage/s);
    await page.getByRole('button', { name: 'Allow' }).click();
    const tokens = await exchange(await nextCallback(), req);
    expect(decodeJwt(tokens.access_token).payload.scope).toBe('ai.usage.log.read');
  });
});

describe('logout', () => {
  it('ends the session through the end_session_endpoint', async () => {
    const req = await authorizationRequest(config, 'openid ai.prediction.run');
    await page.goto(req.url.href);
    await signIn('dave@example.com');
    await page.getByRole('button', { name: 'Allow' }).click();
    const tokens = await exchange(await nextCallback(), req);

    const logout = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://app.example/bye' });
    const bye = await captureRedirects(page, 'https://app.example/bye');
    await page.goto(logout.href);
    await screenshot(page, 'logout');
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect((await bye()).pathname).toBe('/bye');

    // The browser session is gone: a new authorization asks for the password again.
    const again = await authorizationRequest(config, 'openid ai.prediction.run');
    await page.goto(again.url.href);
    await page.getByLabel('Password').waitFor();
  });
});

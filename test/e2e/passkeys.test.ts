// Passkeys as a person uses them, in Chromium with a virtual authenticator (Chrome DevTools
// Protocol WebAuthn domain, through playwright-core's CDP session): register one on the
// account page, sign out, sign in without a password, pass a step-up for a high-sensitivity
// scope with it (the tokens say how: amr RFC 8176, acr urn:govauth:acr:phr), remove it.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureRedirects, launchBrowser, screenshot } from '../helpers/browser.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { decodeJwt } from '../helpers/oauth.ts';
import { API, PASSWORD, REDIRECT, authorizationRequest, createUser, createWebApp, discover } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let browser: Browser;
let config: oidc.Configuration;
let context: BrowserContext;
let page: Page;
let cdp: CDPSession;
let authenticatorId: string;
let nextCallback: () => Promise<URL>;
let carolSecret: string;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await createUser(t, 'bob@example.com', ['admin']); // holds the high-sensitivity ai.deploy.manage
  await createUser(t, 'carol@example.com', ['admin']);
  carolSecret = (await t.cliJson<{ secret: string }>('user', 'mfa', 'enroll', 'carol@example.com')).secret;
  // Deploying models only after a phishing-resistant sign-in: a TOTP code is not enough.
  await t.cliJson('scope', 'require-acr', 'ai.deploy.manage', 'phr');
  const app = await createWebApp(t);
  await t.server.policy.sync();
  config = await discover(t, app);
  browser = await launchBrowser();
  context = await browser.newContext();
  page = await context.newPage();
  nextCallback = await captureRedirects(page, REDIRECT);
  cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  }));
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await t?.stop();
});

async function signInWithPassword(email: string): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function signOut(): Promise<void> {
  await page.goto(`${t.issuer}/session/end`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Signed out' }).waitFor();
}

async function tokensFor(callback: URL, req: { verifier: string; state: string; nonce: string }) {
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
  const jwks = createRemoteJWKSet(new URL(`${t.url}/jwks`));
  const { payload: at } = await jwtVerify(tokens.access_token, jwks, { issuer: t.issuer, audience: API, typ: 'at+jwt' });
  const { payload: id } = await jwtVerify(tokens.id_token!, jwks, { issuer: t.issuer, audience: config.clientMetadata().client_id });
  return { at, id };
}

describe('a scope that requires a phishing-resistant sign-in', () => {
  it('is left out of the tokens of a person who used a password and a TOTP code', async () => {
    const tokens = await headlessSignIn(config, 'carol@example.com', 'openid ai.deploy.manage ai.usage.log.read', { totpSecret: carolSecret });
    const at = decodeJwt(tokens.access_token).payload;
    expect(at).toMatchObject({ scope: 'ai.usage.log.read', acr: 'urn:govauth:acr:mfa', amr: ['pwd', 'otp'] });
  });
});

describe('passkeys in a browser', () => {
  it('registers a passkey, signs in with it without a password, steps up with it, and removes it', async () => {
    // 1. The account page, through the ordinary sign-in.
    await page.goto(`${t.issuer}/account/passkeys`);
    await signInWithPassword('bob@example.com');
    await page.getByRole('heading', { name: 'Your passkeys' }).waitFor();
    expect(await page.locator('main').innerText()).toContain('You have no passkeys yet.');
    await screenshot(page, 'passkeys-empty');

    await page.getByLabel('Name', { exact: true }).fill('Test laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByText('Passkey added.').waitFor();
    const listed = await page.locator('section.passkey').innerText();
    expect(listed).toContain('Test laptop');
    expect(listed).toMatch(/Last used\s+never/);
    expect(listed).toMatch(/Synced passkey\s+no, bound to one device/);
    await screenshot(page, 'passkeys-one');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]?.isResidentCredential).toBe(true);

    // 2. Signed out, then back without a password: the passkey alone (possession + user verification).
    await signOut();
    const req = await authorizationRequest(config, 'openid ai.deploy.manage');
    await page.goto(req.url.href);
    const passkeyButton = page.getByRole('button', { name: 'Continue with a passkey' });
    await passkeyButton.waitFor();
    await screenshot(page, 'login-with-passkey');
    await passkeyButton.click();
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    expect(await page.locator('.scopes').first().innerText()).toContain('ai.deploy.manage');
    await page.getByRole('button', { name: 'Allow' }).click();
    const first = await tokensFor(await nextCallback(), req);
    expect(first.at).toMatchObject({ scope: 'ai.deploy.manage', acr: 'urn:govauth:acr:phr', amr: ['hwk', 'user'] });
    expect(first.id).toMatchObject({ acr: 'urn:govauth:acr:phr', amr: ['hwk', 'user'] });

    // 3. Password first, then the passkey as the step-up for the high-sensitivity scope.
    await signOut();
    const again = await authorizationRequest(config, 'openid ai.deploy.manage', { prompt: 'consent' });
    await page.goto(again.url.href);
    await signInWithPassword('bob@example.com');
    const usePasskey = page.getByRole('button', { name: 'Use a passkey' });
    await usePasskey.waitFor();
    expect(await page.locator('main').innerText()).toMatch(/Confirm it is you with your passkey/);
    await screenshot(page, 'mfa-passkey');
    await usePasskey.click();
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    await page.getByRole('button', { name: 'Allow' }).click();
    const second = await tokensFor(await nextCallback(), again);
    expect(second.at).toMatchObject({ scope: 'ai.deploy.manage', acr: 'urn:govauth:acr:phr', amr: ['pwd', 'hwk', 'user'] });

    // 4. The page shows the uses. The passkey is Bob's only factor and his role admin carries a
    // high-sensitivity scope, so it stays (the one removal rule, factor-rules.ts, as for TOTP);
    // once admin is gone it is removed (the step-up above is recent).
    await page.goto(`${t.issuer}/account/passkeys`);
    const used = await page.locator('section.passkey').innerText();
    expect(used).not.toMatch(/Last used\s+never/);
    await page.getByRole('button', { name: 'Remove Test laptop' }).click();
    await page.getByText(/This is your last second factor, and your role admin requires one/).waitFor();
    await t.cliJson('user', 'update', 'bob@example.com', '--roles', '');
    await t.server.policy.sync();
    await page.goto(`${t.issuer}/account/passkeys`);
    await page.getByRole('button', { name: 'Remove Test laptop' }).click();
    await page.getByText('Passkey removed.').waitFor();
    expect(await page.locator('section.passkey').count()).toBe(0);
    await screenshot(page, 'passkeys-removed');

    // A removed passkey signs no one in.
    await signOut();
    const third = await authorizationRequest(config, 'openid ai.deploy.manage');
    await page.goto(third.url.href);
    await page.getByRole('button', { name: 'Continue with a passkey' }).click();
    expect(await page.getByRole('alert').innerText()).toMatch(/not registered with govauth/);
  });
});

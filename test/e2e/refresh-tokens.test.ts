// Refresh tokens rotate on every use; reuse of a used one revokes the whole grant
// (RFC 9700 §4.14.2); two concurrent refreshes with one token: exactly one wins; every refresh
// re-applies governance (roles, disabled accounts, step-up freshness).
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { captureRedirects, launchBrowser } from '../helpers/browser.ts';
import { decodeJwt } from '../helpers/oauth.ts';
import { REDIRECT, authorizationRequest, createUser, createWebApp, discover } from '../helpers/people.ts';
import { signInAndAllow } from '../helpers/sign-in-flow.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let browser: Browser;
let config: oidc.Configuration;
let context: BrowserContext;
let page: Page;
let nextCallback: () => Promise<URL>;
let adminSecret: string;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  for (const name of ['erin', 'frank', 'grace', 'heidi']) await createUser(t, `${name}@example.com`, ['data-scientist']);
  await createUser(t, 'ivan@example.com', ['admin']);
  adminSecret = (await t.cliJson<{ secret: string }>('user', 'mfa', 'enroll', 'ivan@example.com')).secret;
  config = await discover(t, await createWebApp(t));
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

async function tokensFor(email: string, scope = 'openid offline_access ai.training.read ai.training.analyze', totpSecret?: string) {
  const req = await authorizationRequest(config, scope, { prompt: 'consent' });
  await signInAndAllow(page, req.url, email, { totpSecret });
  return oidc.authorizationCodeGrant(config, await nextCallback(), { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
}

const refresh = (rt: string) => oidc.refreshTokenGrant(config, rt);
const oauthError = (p: Promise<unknown>) =>
  p.then(
    () => 'success',
    (err: Error & { error?: string }) => err.error ?? err.message,
  );

describe('refresh token rotation', () => {
  it('rotates on every use and keeps the scopes', async () => {
    const first = await tokensFor('erin@example.com');
    const second = await refresh(first.refresh_token!);
    expect(second.refresh_token).toBeTruthy();
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(second.access_token).payload.scope).toBe('ai.training.analyze ai.training.read');
    const third = await refresh(second.refresh_token!);
    expect(third.refresh_token).not.toBe(second.refresh_token);
  });

  it('treats reuse of a used refresh token as theft: invalid_grant, and the newest one dies too', async () => {
    const first = await tokensFor('frank@example.com');
    const second = await refresh(first.refresh_token!);
    expect(await oauthError(refresh(first.refresh_token!))).toBe('invalid_grant');
    expect(await oauthError(refresh(second.refresh_token!))).toBe('invalid_grant');
  });

  it('lets exactly one of two concurrent refreshes with the same token succeed', async () => {
    const first = await tokensFor('grace@example.com');
    const outcomes = await Promise.all([oauthError(refresh(first.refresh_token!)), oauthError(refresh(first.refresh_token!))]);
    expect(outcomes.sort()).toEqual(['invalid_grant', 'success']);
  });
});

describe('governance at every refresh', () => {
  it('gives fewer scopes when a role stops granting one, and invalid_grant when none is left', async () => {
    const first = await tokensFor('heidi@example.com');
    await t.cliJson('user', 'update', 'heidi@example.com', '--roles', 'end-user,auditor');
    await t.cliJson('role', 'update', 'auditor', '--scopes', 'ai.usage.log.read,ai.training.read');
    await t.server.policy.sync();
    const narrower = await refresh(first.refresh_token!);
    expect(decodeJwt(narrower.access_token).payload.scope).toBe('ai.training.read');
    expect(decodeJwt(narrower.access_token).payload.roles).toEqual(['auditor']);
    await t.cliJson('role', 'update', 'auditor', '--scopes', 'ai.usage.log.read');
    await t.server.policy.sync();
    expect(await oauthError(refresh(narrower.refresh_token!))).toBe('invalid_grant'); // nothing granted remains
  });

  it('answers invalid_grant at once when the person is disabled', async () => {
    const again = await tokensFor('erin@example.com');
    await t.cliJson('user', 'disable', 'erin@example.com');
    await t.server.policy.sync();
    expect(await oauthError(refresh(again.refresh_token!))).toBe('invalid_grant');
  });

  it('drops a high-sensitivity scope at refresh once the second factor is no longer recent', async () => {
    const first = await tokensFor('ivan@example.com', 'openid offline_access ai.deploy.manage ai.usage.log.read', adminSecret);
    expect(decodeJwt(first.access_token).payload.scope).toBe('ai.deploy.manage ai.usage.log.read');
    const soon = await refresh(first.refresh_token!);
    expect(decodeJwt(soon.access_token).payload.scope).toBe('ai.deploy.manage ai.usage.log.read');
    t.advance(16 * 60_000); // past GOVAUTH_MFA_MAX_AGE (15 min)
    const later = await refresh(soon.refresh_token!);
    expect(decodeJwt(later.access_token).payload.scope).toBe('ai.usage.log.read');
  });
});

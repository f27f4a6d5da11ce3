// A person looks after their own sign-in security in a real browser (Debian Chromium via
// playwright-core, at a phone's 390 px width): the account overview, an authenticator app set up
// by scanning the QR code (decoded here from a screenshot with jsQR) and confirmed with a code,
// signing out and back in with the two-step page, recovery codes made and one used in place of
// the app (a second use refused), a password change that ends the sign-in in another browser,
// and ending an app's access, after which its token is inactive. Screenshots of each page go to
// test-results/screenshots/. The pages use no script, so none may be blocked or fail.
import jsQRModule from 'jsqr';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/governance/totp.ts';
import { launchBrowser, screenshot } from '../helpers/browser.ts';
import type { ClientCreds } from '../helpers/oauth.ts';
import { PASSWORD, createResourceServer, createUser, createWebApp, discover } from '../helpers/people.ts';
import { SignInSteps, authorize, exchange } from '../helpers/sign-in-steps.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { isActive } from '../security/helpers/flows.ts';
import { userFactors } from '../helpers/account-security.ts';

// jsQR is CommonJS whose module.exports is the function, with itself as `.default` too (its
// types describe only the ES default export, which NodeNext resolution reaches through .default).
const jsQR = jsQRModule.default;
const EMAIL = 'alma@example.com';
let t: TestServer;
let browser: Browser;
let rs: ClientCreds;
let secret = '';
let codes: string[] = [];
let password = PASSWORD;
const problems: string[] = [];

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await createUser(t, EMAIL, ['admin']);
  rs = await createResourceServer(t, 'rs');
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

/** A new browser (no cookies) at a phone's width, recording console errors and failed requests. */
async function phone(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  page.on('console', (m) => {
    // A refusal is answered with its HTTP status (401, 429) and Chromium logs that; anything
    // else (a CSP violation, a script error) is a defect.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('requestfailed', (r) => problems.push(`${r.url()}: ${r.failure()?.errorText ?? ''}`));
  return { context, page };
}

async function fitsPhone(page: Page): Promise<void> {
  expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
}

async function signInWithPassword(page: Page): Promise<void> {
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Reads the QR code on the page the way a phone would: from pixels. */
async function scanQr(page: Page): Promise<string> {
  const png = PNG.sync.read(await page.locator('figure.qr').screenshot());
  const found = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  if (!found) throw new Error('no QR code could be read from the page');
  return found.data;
}

describe('the account pages in a browser', () => {
  it('sets up an authenticator app from the QR code and signs in again with it', async () => {
    const { context, page } = await phone();
    await page.goto(`${t.issuer}/account/`);
    await signInWithPassword(page);
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await fitsPhone(page);
    await screenshot(page, 'account-overview');
    expect(await page.getByRole('navigation', { name: 'Your account' }).isVisible()).toBe(true);

    await page.getByRole('link', { name: 'Set up an authenticator app' }).click();
    await page.getByRole('heading', { name: 'Set up an authenticator app' }).waitFor();
    await fitsPhone(page);
    await screenshot(page, 'account-totp-setup');
    const url = new URL(await scanQr(page));
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    expect(decodeURIComponent(url.pathname)).toContain(EMAIL);
    secret = url.searchParams.get('secret') ?? '';
    // The key printed for typing by hand is the one in the QR code.
    expect((await page.locator('#setup-key').innerText()).replace(/ /g, '')).toBe(secret);

    await page.getByLabel('Code from the app').fill('000000' === totpCode(secret, Date.now() - 30_000) ? '111111' : '000000');
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByRole('alert').waitFor();
    await screenshot(page, 'account-totp-wrong-code');
    expect(await page.locator('#setup-key').count()).toBe(0); // shown once
    expect((await userFactors(t, EMAIL)).totp).toBe(false);
    // The previous step's code (one step of drift is accepted), so the current one is fresh for the sign-in below.
    await page.getByLabel('Code from the app').fill(totpCode(secret, Date.now() - 30_000));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    expect(await page.getByRole('status').innerText()).toContain('Your authenticator app is set up');
    expect((await userFactors(t, EMAIL)).totp).toBe(true);

    // Sign out from the sessions page, then sign in again: the two-step page asks for the code.
    await page.getByRole('link', { name: 'Sessions and access' }).first().click();
    await page.getByRole('heading', { name: 'Sessions and access' }).waitFor();
    await page.getByRole('button', { name: 'Sign out this browser' }).click();
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    await screenshot(page, 'account-signed-out');
    await page.goto(`${t.issuer}/account/recovery-codes`);
    await signInWithPassword(page);
    await page.getByRole('heading', { name: 'Recovery codes' }).waitFor();
    await page.getByRole('link', { name: 'confirm it is you' }).click();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await fitsPhone(page);
    await screenshot(page, 'account-mfa-step-up');
    await page.getByLabel('Authentication code').fill(totpCode(secret, Date.now()));
    await page.getByRole('button', { name: 'Verify' }).click();

    await page.getByRole('heading', { name: 'Recovery codes' }).waitFor();
    await page.getByRole('button', { name: 'Make recovery codes' }).click();
    await page.getByRole('list', { name: 'Your recovery codes' }).waitFor();
    await fitsPhone(page);
    await screenshot(page, 'account-recovery-codes');
    codes = (await page.getByRole('list', { name: 'Your recovery codes' }).locator('code').allInnerTexts()).map((c) => c.trim());
    expect(codes).toHaveLength(10);
    await context.close();
  });

  it('takes a recovery code in place of the app once, and refuses it the second time', async () => {
    const code = codes[0] ?? '';
    for (const attempt of ['first', 'second'] as const) {
      const { context, page } = await phone();
      await page.goto(`${t.issuer}/account/sign-in?mfa=1&return=/account/`);
      await signInWithPassword(page);
      await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
      await page.getByText('Lost your authenticator app? Use a recovery code').click();
      await page.getByLabel('Recovery code').fill(code);
      await page.getByRole('button', { name: 'Use recovery code' }).click();
      if (attempt === 'first') {
        await page.getByRole('heading', { name: 'Your account' }).waitFor();
        expect(await page.locator('main').innerText()).toContain('9 of 10 left');
      } else {
        await page.getByRole('alert').waitFor();
        expect(await page.getByRole('alert').innerText()).toContain('already used');
        await screenshot(page, 'account-mfa-recovery-code-refused');
      }
      await context.close();
    }
    expect((await userFactors(t, EMAIL)).recovery_codes_left).toBe(9);
  });

  it('changes the password and the sign-in in another browser ends', async () => {
    const other = await phone();
    await other.page.goto(`${t.issuer}/account/`);
    await signInWithPassword(other.page);
    await other.page.getByRole('heading', { name: 'Your account' }).waitFor();

    const { context, page } = await phone();
    await page.goto(`${t.issuer}/account/password`);
    await signInWithPassword(page);
    await page.getByRole('heading', { name: 'Change your password' }).waitFor();
    await fitsPhone(page);
    await screenshot(page, 'account-password');
    await page.getByLabel('Current password').fill(password);
    password = 'a new and rather long password';
    await page.getByLabel('New password', { exact: true }).fill(password);
    await page.getByLabel('New password again').fill(password);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    expect(await page.getByRole('status').innerText()).toContain('signed out everywhere else');

    await other.page.goto(`${t.issuer}/account/`);
    await other.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await other.context.close();
    await context.close();
  });

  it('ends an app’s access, and the token it holds goes inactive', async () => {
    // The app's sign-in (an HTTP client walking the same pages), then the person's own browser.
    const config = await discover(t, await createWebApp(t));
    const steps = new SignInSteps({ forwardedFor: null });
    const { req, callback } = await authorize(
      config,
      'openid ai.training.read',
      (p) => (p.kind === 'login' ? { email: EMAIL, password } : p.kind === 'consent' ? { decision: 'allow' } : { code: totpCode(secret, Date.now() + 30_000) }),
      { steps },
    );
    const tokens = await exchange(config, callback, req);
    expect(await isActive(t.issuer, rs, tokens.access_token)).toBe(true);

    const { context, page } = await phone();
    await page.goto(`${t.issuer}/account/sessions`);
    await signInWithPassword(page);
    await page.getByRole('heading', { name: 'Sessions and access' }).waitFor();
    await fitsPhone(page);
    await screenshot(page, 'account-sessions');
    expect(await page.locator('main').innerText()).toContain('this browser');
    await page.getByRole('button', { name: 'End access for Model Studio' }).click();
    await page.getByRole('status').waitFor();
    expect(await page.getByRole('status').innerText()).toContain('no longer has access');
    expect(await isActive(t.issuer, rs, tokens.access_token)).toBe(false);
    await context.close();
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

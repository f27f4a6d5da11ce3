// The browser half of a sign-in: login (and TOTP when asked), then Allow.
import type { Page } from 'playwright-core';
import { totpCode } from '../../src/governance/totp.ts';
import { PASSWORD } from './people.ts';

export async function signInAndAllow(page: Page, url: URL, email: string, options: { totpSecret?: string; password?: string } = {}): Promise<void> {
  await page.goto(url.href);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(options.password ?? PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (options.totpSecret) {
    await page.getByLabel('Authentication code').fill(totpCode(options.totpSecret, Date.now()));
    await page.getByRole('button', { name: 'Verify' }).click();
  }
  await page.getByRole('button', { name: 'Allow' }).click();
}

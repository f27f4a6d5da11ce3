// Debian's Chromium driven by playwright-core (no downloaded browser: `npx playwright install`
// cannot work on these machines). Screenshots go to test-results/screenshots/ for people.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const SCREENSHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync'],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
}

/** Lets the app's redirect URI "load" without a server, capturing the callback URL. */
export async function captureRedirects(page: Page, prefix: string): Promise<() => Promise<URL>> {
  let resolve!: (url: URL) => void;
  let waiting = new Promise<URL>((r) => (resolve = r));
  await page.route(`${prefix}**`, async (route) => {
    resolve(new URL(route.request().url()));
    await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>app</title><p>callback received</p>' });
  });
  return async () => {
    const url = await waiting;
    waiting = new Promise<URL>((r) => (resolve = r));
    // The request is intercepted before the navigation ends: let it end, so the next goto is
    // not interrupted by it.
    await page.waitForURL((u) => u.href === url.href);
    return url;
  };
}

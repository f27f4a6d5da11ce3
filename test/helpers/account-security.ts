// Fixtures for the self-service security pages' tests: a person who enrolled TOTP on their
// account page (over plain HTTP, reading the setup key the page shows), the recovery codes a
// page shows, and a person's factors as `govauth user show` reports them.
import { totpCode } from '../../src/governance/totp.ts';
import { walkSignIn, type AccountBrowser } from './account-pages.ts';
import type { TestServer } from './test-server.ts';

export interface Factors {
  totp: boolean;
  passkeys: number;
  recovery_codes_left: number;
  required: { factor: string; roles: string[] }[];
  missing: { factor: string; roles: string[] }[];
}

export async function userFactors(t: TestServer, email: string): Promise<Factors> {
  return (await t.cliJson<{ user: { factors: Factors } }>('user', 'show', email)).user.factors;
}

/** The setup key on /account/totp, without its spaces. */
export const setupKeyFrom = (html: string): string => /<code id="setup-key">([A-Z2-7 ]+)<\/code>/.exec(html)?.[1]?.replace(/ /g, '') ?? '';

export const recoveryCodesFrom = (html: string): string[] => [...html.matchAll(/<li><code>([a-z2-7]{5}-[a-z2-7]{5})<\/code><\/li>/g)].map((m) => m[1] ?? '');

/** Signs `email` in to the account pages and enrols TOTP there; the browser stays signed in (password only). */
export async function enrolTotp(t: TestServer, email: string): Promise<{ browser: AccountBrowser; secret: string }> {
  const { browser } = await walkSignIn(t, '/account/', email);
  const secret = setupKeyFrom(await (await browser.get('/account/totp')).text());
  // The previous step's code (accepted: one step of drift, RFC 6238 §5.2), so the current one is
  // still unused for the two-step page that follows (a used step is never accepted again).
  const res = await browser.post('/account/totp', { csrf: await browser.csrf('/account/password'), code: totpCode(secret, Date.now() - 30_000) });
  if (res.status !== 303) throw new Error(`TOTP enrolment failed (${res.status}): ${(await res.text()).slice(0, 300)}`);
  return { browser, secret };
}

// The sign-in flow over plain HTTP (no browser): the same login, TOTP and consent forms a person
// submits, walked by SignInSteps (sign-in-steps.ts), then the code exchange. For tests and
// benchmarks that need user tokens in bulk; the browser tests cover what a person sees.
import type * as oidc from 'openid-client';
import { totpCode } from '../../src/governance/totp.ts';
import { PASSWORD } from './people.ts';
import { SignInSteps, authorize, exchange, type Answer } from './sign-in-steps.ts';

export interface HeadlessOptions {
  readonly password?: string;
  readonly totpSecret?: string;
  readonly extra?: Record<string, string>;
}

/** Runs login (+ TOTP) and consent; returns the tokens the app gets. */
export async function headlessSignIn(config: oidc.Configuration, email: string, scope: string, options: HeadlessOptions = {}): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers> {
  const answer: Answer = (page) => {
    const refused = `${page.kind} page again (${page.status}): ${page.html.slice(0, 300)}`;
    // A throttled sign-in shows the login form again: posting it again would only loop.
    if (page.status === 429) throw new Error(`sign-in throttled (429): ${page.html.slice(0, 300)}`);
    if (page.seen > 0) throw new Error(`the answer was refused: ${refused}`);
    if (page.kind === 'login') return { email, password: options.password ?? PASSWORD };
    if (page.kind === 'mfa') return { code: totpCode(options.totpSecret ?? '', Date.now()) };
    if (page.kind === 'consent' && page.html.includes('value="allow"')) return { decision: 'allow' };
    throw new Error(`page without an expected form (${page.status}): ${page.html.slice(0, 300)}`);
  };
  // No claimed X-Forwarded-For: callers that trust a proxy choose their own address.
  const { req, callback } = await authorize(config, scope, answer, { steps: new SignInSteps({ forwardedFor: null }), extra: options.extra });
  return exchange(config, callback, req);
}

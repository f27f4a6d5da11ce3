// Hostile input to the self-service security pages and the two-step page's recovery codes:
// forms without or with a foreign CSRF token, posts from a browser that is not signed in, wrong
// and malformed TOTP codes at enrolment, a lapsed enrolment, recovery-code guessing (throttled
// like passwords, sharing the two-step page's budget), current-password guessing, another
// person's grants and sessions, removing a factor without a fresh second factor or when it is
// the last one a role needs. Never a 500, nothing changed by a refused request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/governance/totp.ts';
import { AccountBrowser, walkSignIn } from '../helpers/account-pages.ts';
import { enrolTotp, recoveryCodesFrom, setupKeyFrom, userFactors } from '../helpers/account-security.ts';
import { PASSWORD, createUser, createWebApp, discover } from '../helpers/people.ts';
import { SignInSteps, authorize } from '../helpers/sign-in-steps.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let offset = 0;
const serverNow = (): number => Date.now() + offset;

beforeAll(async () => {
  t = await startTestServer({ env: { GOVAUTH_LOGIN_MAX_FAILURES: '3', GOVAUTH_LOGIN_LOCKOUT: '600' } });
  await t.cliJson('init', '--demo');
});
afterAll(() => t?.stop());

const POSTS = ['/account/totp', '/account/totp/remove', '/account/recovery-codes', '/account/password', '/account/sessions/x/end', '/account/grants/x/end', '/account/roles/admin/end'];

describe('forms', () => {
  it('refuses every post without this sign-in’s form token, and every post from a browser that is not signed in', async () => {
    await createUser(t, 'cato@example.com', ['data-scientist']);
    await createUser(t, 'dora@example.com', ['data-scientist']);
    const { browser } = await walkSignIn(t, '/account/', 'cato@example.com');
    const { browser: dora } = await walkSignIn(t, '/account/', 'dora@example.com');
    const foreign = await dora.csrf('/account/password');
    for (const path of POSTS) {
      for (const csrf of [undefined, '', 'x'.repeat(43), foreign]) {
        const res = await browser.post(path, { ...(csrf !== undefined && { csrf }), code: '123456', current_password: PASSWORD, new_password: 'n'.repeat(20), confirm_password: 'n'.repeat(20) });
        expect(res.status, `${path} with csrf ${String(csrf)}`).toBe(403);
        expect(await res.text()).not.toMatch(/at \w+ \(|Error:/);
      }
      const anonymous = await new AccountBrowser(t.url).post(path, { csrf: foreign });
      expect(anonymous.status, path).toBe(401);
    }
    // The password is unchanged: the old one still signs in.
    await walkSignIn(t, '/account/', 'cato@example.com');
  });
});

describe('changing a factor', () => {
  it('needs a fresh second factor, and the last factor a role needs cannot go', async () => {
    await createUser(t, 'finn@example.com', ['admin']);
    const { browser, secret } = await enrolTotp(t, 'finn@example.com');
    // Signed in with the password only: no replacing or removing the authenticator app.
    const csrf = await browser.csrf('/account/password');
    expect((await browser.post('/account/totp/remove', { csrf })).status).toBe(403);
    const replace = await browser.get('/account/totp');
    expect(replace.status).toBe(303);
    expect(replace.headers.get('location')).toContain('acr_values=urn%3Agovauth%3Aacr%3Amfa');
    expect((await browser.post('/account/totp', { csrf, code: totpCode(secret, serverNow()) })).status).toBe(403);
    // Fresh, but the admin role needs a second factor and this is the only one.
    await walkSignIn(t, '/account/sign-in?mfa=1&return=/account/', 'finn@example.com', { browser, totpSecret: secret });
    const last = await browser.post('/account/totp/remove', { csrf });
    expect(last.status).toBe(409);
    expect((await userFactors(t, 'finn@example.com')).totp).toBe(true);
  });

  it('does not let a person end another person’s grant or sign-in, or give up a role that is not time-boxed', async () => {
    await createUser(t, 'gus@example.com', ['data-scientist']);
    const { browser } = await walkSignIn(t, '/account/', 'gus@example.com');
    const csrf = await browser.csrf('/account/password');
    for (const path of ['/account/grants/nope/end', `/account/grants/${'a'.repeat(5000)}/end`, '/account/sessions/nope/end', '/account/roles/data-scientist/end', '/account/roles/admin/end']) {
      const res = await browser.post(path, { csrf });
      expect(res.status, path).toBe(404);
    }
    expect((await t.cliJson<{ user: { roles: unknown[] } }>('user', 'show', 'gus@example.com')).user.roles).toHaveLength(1);
  });
});

describe('guessing', () => {
  it('throttles recovery codes like passwords, sharing the two-step page’s budget', async () => {
    await createUser(t, 'hana@example.com', ['admin']);
    const { browser, secret } = await enrolTotp(t, 'hana@example.com');
    await walkSignIn(t, '/account/sign-in?mfa=1&return=/account/recovery-codes', 'hana@example.com', { browser, totpSecret: secret });
    const codes = recoveryCodesFrom(await (await browser.post('/account/recovery-codes', { csrf: await browser.csrf('/account/recovery-codes') })).text());
    expect(codes).toHaveLength(10);

    const config = await discover(t, await createWebApp(t));
    const statuses: number[] = [];
    const guesses = ['aaaaa-aaaaa', 'not a code', 'x'.repeat(5000), codes[0] ?? ''];
    await authorize(
      config,
      'openid ai.deploy.manage',
      (p) => {
        if (p.kind === 'login') return { email: 'hana@example.com', password: PASSWORD };
        if (p.kind === 'mfa') {
          if (p.seen > 0) statuses.push(p.status);
          const next = guesses[p.seen];
          if (next === undefined) throw new Error('stop');
          return { recovery_code: next };
        }
        throw new Error('stop');
      },
      { steps: new SignInSteps({ forwardedFor: null }) },
    ).catch(() => undefined);
    // The third wrong code (GOVAUTH_LOGIN_MAX_FAILURES=3) locks the two-step page: the right code is then refused too.
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect((await userFactors(t, 'hana@example.com')).recovery_codes_left).toBe(10);
  });

  it('throttles guesses of the current password on the password page', async () => {
    await createUser(t, 'ivan@example.com', ['data-scientist']);
    const { browser } = await walkSignIn(t, '/account/', 'ivan@example.com');
    const csrf = await browser.csrf('/account/password');
    const statuses: number[] = [];
    for (const guess of ['wrong one', 'wrong two', 'wrong three', PASSWORD]) {
      const res = await browser.post('/account/password', { csrf, current_password: guess, new_password: 'a brand new long password', confirm_password: 'a brand new long password' });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([400, 400, 429, 429]);
  });
});

// Last: it moves the server's clock on.
describe('TOTP enrolment', () => {
  it('does not enrol on wrong, malformed or oversized codes, or after the setup lapsed', async () => {
    await createUser(t, 'enzo@example.com', ['data-scientist']);
    const { browser } = await walkSignIn(t, '/account/', 'enzo@example.com');
    const secret = setupKeyFrom(await (await browser.get('/account/totp')).text());
    const csrf = await browser.csrf('/account/password');
    const right = totpCode(secret, serverNow());
    for (const code of ['', '12345', '1234567', 'abcdef', `${right}0`, '９'.repeat(6), 'x'.repeat(100_000), right === '000000' ? '000001' : '000000']) {
      const res = await browser.post('/account/totp', { csrf, code });
      expect([400, 413], `code ${code.slice(0, 10)}`).toContain(res.status);
    }
    expect((await userFactors(t, 'enzo@example.com')).totp).toBe(false);
    // Ten minutes later the shown secret lapses: even its right code enrols nothing.
    t.advance(11 * 60_000);
    offset += 11 * 60_000;
    const late = await browser.post('/account/totp', { csrf, code: totpCode(secret, serverNow()) });
    expect(late.status).toBe(409);
    expect(await late.text()).toContain('expired');
    expect((await userFactors(t, 'enzo@example.com')).totp).toBe(false);
  });
});

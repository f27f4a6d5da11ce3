// The self-service security pages over plain HTTP, against a real server and database: the
// overview, TOTP enrolment confirmed by a first code (wrong codes and replaced enrolments do not
// enrol), recovery codes (made, used once at the two-step page, audited and announced), the
// last-factor rule, a password change that ends the other sign-ins, and ending a sign-in or an
// app's access with its tokens turning inactive. The browser's view: test/e2e/account-security.test.ts;
// hostile input: test/security/account-security-input.test.ts.
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/governance/totp.ts';
import { AccountBrowser, walkSignIn } from '../helpers/account-pages.ts';
import { decodeJwt, type ClientCreds } from '../helpers/oauth.ts';
import { PASSWORD, createResourceServer, createUser, createWebApp, discover } from '../helpers/people.ts';
import { SignInSteps, authorize, exchange } from '../helpers/sign-in-steps.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { isActive } from '../security/helpers/flows.ts';
import { enrolTotp, recoveryCodesFrom, userFactors } from '../helpers/account-security.ts';

let t: TestServer;
let rs: ClientCreds;
let config: oidc.Configuration;

interface AuditEvent {
  action: string;
  actor: string | null;
  subject: string | null;
  detail: Record<string, unknown>;
}
const audit = async (action: string): Promise<AuditEvent[]> => (await t.cliJson<{ events: AuditEvent[] }>('audit', 'tail', '--action', action, '--limit', '50')).events;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  rs = await createResourceServer(t, 'rs');
  config = await discover(t, await createWebApp(t));
});
afterAll(() => t?.stop());

describe('the overview', () => {
  it('shows the profile, the factors and links, after the ordinary sign-in', async () => {
    await createUser(t, 'ovid@example.com', ['data-scientist']);
    const { browser, returnedTo } = await walkSignIn(t, '/account/', 'ovid@example.com');
    expect(returnedTo).toBe('/account/');
    const page = await browser.get('/account/');
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(html).toContain('ovid@example.com');
    expect(html).toContain('data-scientist');
    expect(html).toMatch(/Authenticator app<\/span>\s*<span class="factor-state">Not set up/);
    expect(html).toContain('href="/account/passkeys"');
    expect(html).toContain('0 of 10 left');
    expect(html).not.toMatch(/<script/i);
    // /account without the slash is the same page.
    expect((await browser.get('/account')).status).toBe(200);
  });
});

describe('enrolling TOTP', () => {
  it('enrols only with a first code from the secret shown, and audits it', async () => {
    const id = await createUser(t, 'tess@example.com', ['data-scientist']);
    const { browser } = await walkSignIn(t, '/account/', 'tess@example.com');
    const page = await (await browser.get('/account/totp')).text();
    expect(page).toMatch(/<svg[^>]*viewBox/);
    const secret = /<code id="setup-key">([A-Z2-7 ]+)<\/code>/.exec(page)?.[1]?.replace(/ /g, '') ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);

    // A wrong code enrols nothing, and the secret is not shown again.
    const wrong = await browser.post('/account/totp', { csrf: await browser.csrf('/account/password'), code: totpCode(secret, Date.now()) === '000000' ? '111111' : '000000' });
    expect(wrong.status).toBe(400);
    const wrongHtml = await wrong.text();
    expect(wrongHtml).toContain('That code is not valid');
    expect(wrongHtml).not.toContain(secret.slice(0, 4) + ' ');
    expect((await userFactors(t, 'tess@example.com')).totp).toBe(false);

    const right = await browser.post('/account/totp', { csrf: await browser.csrf('/account/password'), code: totpCode(secret, Date.now()) });
    expect(right.status).toBe(303);
    expect(right.headers.get('location')).toBe('/account/?done=totp');
    expect((await userFactors(t, 'tess@example.com')).totp).toBe(true);
    const [record] = await audit('account.totp.enrol');
    expect(record).toMatchObject({ actor: id, subject: id, detail: { replaced: false } });
    // The code that confirmed it cannot be replayed at the two-step page.
    const steps = new SignInSteps({ forwardedFor: null });
    const firstCode = totpCode(secret, Date.now());
    let mfaStatus = 0;
    await steps
      .walk(`${t.url}/account/sign-in?mfa=1&return=/account/`, `${t.issuer}/account/signed-in`, (p) => {
        if (p.kind === 'login') return { email: 'tess@example.com', password: PASSWORD };
        if (p.kind === 'mfa' && p.seen === 0) return { code: firstCode };
        mfaStatus = p.status;
        throw new Error('stop');
      })
      .catch(() => undefined);
    expect(mfaStatus).toBe(401);
  });

  it('refuses the secret of an enrolment a newer one replaced', async () => {
    await createUser(t, 'rhea@example.com', ['data-scientist']);
    const { browser } = await walkSignIn(t, '/account/', 'rhea@example.com');
    const first = /<code id="setup-key">([A-Z2-7 ]+)<\/code>/.exec(await (await browser.get('/account/totp')).text())?.[1]?.replace(/ /g, '') ?? '';
    await browser.get('/account/totp'); // a newer setup
    const res = await browser.post('/account/totp', { csrf: await browser.csrf('/account/password'), code: totpCode(first, Date.now()) });
    expect(res.status).toBe(400); // the old secret's code is just a wrong code for the new one
    expect((await userFactors(t, 'rhea@example.com')).totp).toBe(false);
  });
});

describe('recovery codes', () => {
  it('are made after a fresh second factor, shown once, and each works once at the two-step page; a use is audited and announced', async () => {
    const id = await createUser(t, 'rory@example.com', ['admin']);
    const { browser, secret } = await enrolTotp(t, 'rory@example.com');
    // Not fresh (password only): the page asks to confirm first, and a post is refused.
    expect(await (await browser.get('/account/recovery-codes')).text()).toContain('confirm it is you');
    expect((await browser.post('/account/recovery-codes', { csrf: await browser.csrf('/account/password') })).status).toBe(403);

    await walkSignIn(t, '/account/sign-in?mfa=1&return=/account/recovery-codes', 'rory@example.com', { browser, totpSecret: secret });
    const made = await browser.post('/account/recovery-codes', { csrf: await browser.csrf('/account/recovery-codes') });
    expect(made.status).toBe(200);
    const codes = recoveryCodesFrom(await made.text());
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    expect((await userFactors(t, 'rory@example.com')).recovery_codes_left).toBe(10);
    // Only digests are stored.
    const stored = await t.server.db.prisma.recoveryCode.findMany({ where: { userId: id } });
    for (const row of stored) for (const c of codes) expect(row.codeHash).not.toContain(c.replace('-', ''));

    // At the two-step page of an app's sign-in: once it works, twice it does not.
    const code = codes[3] ?? '';
    const use = async (): Promise<number> => {
      const steps = new SignInSteps({ forwardedFor: null });
      let status = 0;
      await authorize(
        config,
        'openid ai.deploy.manage',
        (p) => {
          if (p.kind === 'login') return { email: 'rory@example.com', password: PASSWORD };
          if (p.kind === 'mfa' && p.seen === 0) return { recovery_code: code.toUpperCase() };
          if (p.kind === 'consent') return { decision: 'allow' };
          status = p.status;
          throw new Error('stop');
        },
        { steps },
      ).catch(() => undefined);
      return status || steps.last('mfa').status;
    };
    expect(await use()).toBe(303);
    expect(await use()).toBe(401);
    expect((await userFactors(t, 'rory@example.com')).recovery_codes_left).toBe(9);
    const [used] = await audit('mfa.recovery_code_used');
    expect(used).toMatchObject({ actor: id, subject: id, detail: { remaining: 9 } });
    const { notifications } = await t.cliJson<{ notifications: { type: string }[] }>('notifications', 'list');
    expect(notifications.map((n) => n.type)).toContain('user.recovery_code_used');

    // A new set replaces the old one, used or not.
    const again = recoveryCodesFrom(await (await browser.post('/account/recovery-codes', { csrf: await browser.csrf('/account/recovery-codes') })).text());
    expect(again).toHaveLength(10);
    expect(again).not.toContain(codes[0]);
    expect(await t.server.db.prisma.recoveryCode.count({ where: { userId: id } })).toBe(10);
  });
});

describe('removing a factor', () => {
  it('is refused for the last factor while a role requires one, and allowed otherwise', async () => {
    await createUser(t, 'lars@example.com', ['admin']);
    const { browser, secret } = await enrolTotp(t, 'lars@example.com');
    await walkSignIn(t, '/account/sign-in?mfa=1&return=/account/', 'lars@example.com', { browser, totpSecret: secret });
    const refused = await browser.post('/account/totp/remove', { csrf: await browser.csrf('/account/password') });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain('admin requires one');
    expect((await userFactors(t, 'lars@example.com')).totp).toBe(true);

    await t.cliJson('user', 'update', 'lars@example.com', '--roles', 'data-scientist');
    await t.server.policy.sync();
    const removed = await browser.post('/account/totp/remove', { csrf: await browser.csrf('/account/password') });
    expect(removed.status).toBe(303);
    expect((await userFactors(t, 'lars@example.com')).totp).toBe(false);
  });
});

describe('changing the password', () => {
  it('needs the current password, keeps this browser signed in and ends the other sign-ins', async () => {
    await createUser(t, 'pia@example.com', ['data-scientist']);
    const { browser: here } = await walkSignIn(t, '/account/', 'pia@example.com');
    const { browser: there } = await walkSignIn(t, '/account/', 'pia@example.com');
    expect((await there.get('/account/')).status).toBe(200);

    const wrong = await here.post('/account/password', { csrf: await here.csrf('/account/password'), current_password: 'not my password', new_password: 'a brand new long password', confirm_password: 'a brand new long password' });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('current password is not correct');
    const short = await here.post('/account/password', { csrf: await here.csrf('/account/password'), current_password: PASSWORD, new_password: 'short', confirm_password: 'short' });
    expect(short.status).toBe(400);
    expect(await short.text()).toContain('at least 12 characters');

    const changed = await here.post('/account/password', { csrf: await here.csrf('/account/password'), current_password: PASSWORD, new_password: 'a brand new long password', confirm_password: 'a brand new long password' });
    expect(changed.status).toBe(303);
    expect((await here.get('/account/')).status).toBe(200);
    const gone = await there.get('/account/');
    expect(gone.status).toBe(303);
    expect(gone.headers.get('location')).toContain('/auth?');
    expect((await audit('account.password.change'))[0]).toBeDefined();
    await walkSignIn(t, '/account/', 'pia@example.com', { password: 'a brand new long password' });
  });
});

describe('sessions and access', () => {
  it('lists sign-ins with their browser and apps with access; ending either makes their tokens inactive', async () => {
    await createUser(t, 'sam@example.com', ['data-scientist']);
    const answer = (p: { kind: string }) => (p.kind === 'login' ? { email: 'sam@example.com', password: PASSWORD } : { decision: 'allow' });
    // A browser signed in to an app, and the account pages in the same browser.
    const steps = new SignInSteps({ forwardedFor: null });
    const first = await authorize(config, 'openid ai.training.read', answer, { steps });
    const tokens = await exchange(config, first.callback, first.req);
    expect(await isActive(t.issuer, rs, tokens.access_token)).toBe(true);
    // Signed in already: the account pages need no second sign-in.
    const browser = new AccountBrowser(t.url, steps.jar);
    // Another browser, with its own app sign-in.
    const other = new SignInSteps({ forwardedFor: null });
    const second = await authorize(config, 'openid ai.training.read', answer, { steps: other });
    const otherTokens = await exchange(config, second.callback, second.req);

    const html = await (await browser.get('/account/sessions')).text();
    expect(html).toContain('this browser');
    expect(html).toContain('Model Studio');
    expect(html.match(/End access for Model Studio/g)).toHaveLength(2);
    expect(html).not.toMatch(/name="uid"/);

    // End the app's access from the first browser: its token goes inactive; the other's stays.
    const grantId = /action="\/account\/grants\/([^"]+)\/end"/.exec(html)?.[1] ?? '';
    const grantOfFirst = String(decodeJwt(tokens.access_token).payload.grant_id);
    const ended = await browser.post(`/account/grants/${grantOfFirst}/end`, { csrf: await browser.csrf('/account/sessions') });
    expect(ended.status, grantId).toBe(303);
    expect(await isActive(t.issuer, rs, tokens.access_token)).toBe(false);
    expect(await isActive(t.issuer, rs, otherTokens.access_token)).toBe(true);

    // End the other browser's sign-in: it is signed out and its app's token goes inactive.
    const again = await (await browser.get('/account/sessions')).text();
    const handles = [...again.matchAll(/action="\/account\/sessions\/([^"]+)\/end"[\s\S]*?<button type="submit" class="secondary">([^<]+)</g)];
    const otherHandle = handles.find((m) => m[2] === 'End this sign-in')?.[1];
    expect(otherHandle).toBeDefined();
    const endSession = await browser.post(`/account/sessions/${otherHandle}/end`, { csrf: await browser.csrf('/account/sessions') });
    expect(endSession.status).toBe(303);
    expect(await isActive(t.issuer, rs, otherTokens.access_token)).toBe(false);
    const [record] = await audit('account.session.end');
    expect(record?.detail).toMatchObject({ grants_revoked: 1 });
    // That browser must sign in again.
    const otherAccount = new AccountBrowser(t.url, other.jar);
    expect((await otherAccount.get('/account/')).status).toBe(303);
  });
});

describe('time-boxed roles', () => {
  it('lists them, and the person can give one up; a standing role cannot be given up here', async () => {
    const id = await createUser(t, 'tina@example.com', ['data-scientist']);
    await t.cliJson('user', 'grant-role', 'tina@example.com', 'auditor', '--expires-in', '8h', '--reason', 'quarterly review');
    await t.server.policy.sync();
    const { browser } = await walkSignIn(t, '/account/sessions', 'tina@example.com');
    const html = await (await browser.get('/account/sessions')).text();
    expect(html).toContain('Give up auditor now');
    expect(html).not.toContain('Give up data-scientist now');
    const res = await browser.post('/account/roles/auditor/end', { csrf: await browser.csrf('/account/password') });
    expect(res.status).toBe(303);
    const roles = (await t.cliJson<{ user: { roles: { role: string }[] } }>('user', 'show', 'tina@example.com')).user.roles.map((r) => r.role);
    expect(roles).toEqual(['data-scientist']);
    const [record] = await audit('admin.role_grant.remove');
    expect(record).toMatchObject({ actor: id, subject: id, detail: { role: 'auditor' } });
  });
});

describe('an administrator resets every factor', () => {
  it('removes TOTP and recovery codes, ends the sign-ins, and user show and review say so', async () => {
    const id = await createUser(t, 'remy@example.com', ['admin']);
    const { browser, secret } = await enrolTotp(t, 'remy@example.com');
    await walkSignIn(t, '/account/sign-in?mfa=1&return=/account/recovery-codes', 'remy@example.com', { browser, totpSecret: secret });
    await browser.post('/account/recovery-codes', { csrf: await browser.csrf('/account/recovery-codes') });
    expect(await userFactors(t, 'remy@example.com')).toEqual({ totp: true, passkeys: 0, recovery_codes_left: 10, required: [], missing: [] });
    const shown = await t.cli('user', 'show', 'remy@example.com');
    expect(shown.stdout).toContain('factors: TOTP on · passkeys 0 · recovery codes left 10');
    const review = await t.cliJson<{ principals: { id: string; factors: unknown }[] }>('review');
    expect(review.principals.find((p) => p.id === id)?.factors).toEqual({ totp: true, passkeys: 0, recovery_codes_left: 10, required: [], missing: [] });

    const reset = await t.cliJson<{ ended: { sessions: number } }>('user', 'mfa', 'reset', 'remy@example.com');
    expect(reset.ended.sessions).toBeGreaterThan(0);
    expect(await userFactors(t, 'remy@example.com')).toEqual({ totp: false, passkeys: 0, recovery_codes_left: 0, required: [], missing: [] });
    const [record] = await audit('admin.user.mfa_reset');
    expect(record?.detail).toMatchObject({ recovery_codes_removed: 10, passkeys_removed: 0, passkey_challenges_removed: 0 });
    expect((await browser.get('/account/')).status).toBe(303);
  });
});

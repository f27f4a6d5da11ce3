// A password change or a second-factor reset ends the person's earlier sign-ins, as
// `govauth revoke --user` does: refresh tokens fail, access tokens introspect inactive, the
// browser session must sign in again; audited; the CLI says what it ended. It is a cutoff, not
// a block: signing in again (with the new password) gives working tokens at once. Before, both
// commands left every session and refresh token alive (issue: "Password change and MFA reset keep
// sessions and refresh tokens alive").
import type * as oidc from 'openid-client';
import * as openid from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/governance/totp.ts';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import type { ClientCreds } from '../helpers/oauth.ts';
import { PASSWORD, createUser, createWebApp, discover, createResourceServer } from '../helpers/people.ts';
import { SignInSteps, authorize, exchange, type Answer } from '../helpers/sign-in-steps.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { isActive, oauthError } from './helpers/flows.ts';

const NEW_PASSWORD = 'a completely new passphrase';
const OFFLINE = 'openid offline_access ai.training.read';

let t: TestServer;
let rs: ClientCreds;
let config: oidc.Configuration;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  rs = await createResourceServer(t, 'rs');
  config = await discover(t, await createWebApp(t));
  await t.server.policy.sync();
});
afterAll(() => t?.stop());

/** Answers like the person; records which pages were shown. */
function person(email: string, password: string, totpSecret?: string) {
  const shown: string[] = [];
  const answer: Answer = (page) => {
    shown.push(page.kind);
    if (page.seen > 0) throw new Error(`${page.kind} page shown again (${page.status}): the answer was refused`);
    if (page.kind === 'login') return { email, password };
    if (page.kind === 'mfa') return { code: totpCode(totpSecret ?? '', Date.now()) };
    return { decision: 'allow' };
  };
  return { shown, answer };
}

async function signIn(browser: SignInSteps, email: string, password: string, totpSecret?: string, scope = OFFLINE) {
  const p = person(email, password, totpSecret);
  const { req, callback } = await authorize(config, scope, p.answer, { steps: browser, extra: { prompt: 'consent' } });
  return { tokens: await exchange(config, callback, req), shown: p.shown };
}

/** The earlier sign-in is over: its tokens are dead and the browser is asked for the password. */
async function expectSignedOut(browser: SignInSteps, tokens: { access_token: string; refresh_token?: string }, email: string, oldPassword: string) {
  await t.server.policy.sync();
  expect(await oauthError(openid.refreshTokenGrant(config, tokens.refresh_token ?? '')), 'the old refresh token').toBe('invalid_grant');
  expect(await isActive(t.issuer, rs, tokens.access_token), 'the old access token').toBe(false);
  // The old password no longer signs in (the login page comes back)...
  await expect(authorize(config, OFFLINE, person(email, oldPassword).answer, { steps: browser })).rejects.toThrow(/login page shown again/);
}

async function auditOf(userId: string, action: string) {
  await t.server.audit.flush();
  return t.server.db.prisma.auditEvent.findMany({ where: { action, subject: userId }, orderBy: { seq: 'asc' } });
}

describe('user set-password', () => {
  it('ends the sessions, grants and refresh tokens of the old password, says so, audits it; the new password signs in at once', async () => {
    const email = 'paul@example.com';
    const id = await createUser(t, email, ['data-scientist']);
    const browser = new SignInSteps();
    const before = await signIn(browser, email, PASSWORD);
    const other = await signIn(new SignInSteps(), email, PASSWORD); // another device
    expect(await isActive(t.issuer, rs, before.tokens.access_token)).toBe(true);

    const r = await t.cliWithStdin(`${NEW_PASSWORD}\n`, 'user', 'set-password', email, '--password-stdin');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^password changed for paul@example\.com\nended 2 sign-in session\(s\) and 2 grant\(s\) \(2 refresh token\(s\)\); every token issued to them until \S+Z is revoked\. They must sign in again\.\nin force on 1\/1 instance\n?$/);

    await expectSignedOut(browser, before.tokens, email, PASSWORD);
    expect(await isActive(t.issuer, rs, other.tokens.access_token), 'the other device').toBe(false);
    expect(await oauthError(openid.refreshTokenGrant(config, other.tokens.refresh_token ?? ''))).toBe('invalid_grant');

    const [revocation] = await auditOf(id, 'revocation.user');
    expect(JSON.parse(revocation?.detail ?? '{}')).toMatchObject({ kind: 'user', reason: 'password changed', ended: { sessions: 2, grants: 2, refresh_tokens: 2 } });
    expect(await auditOf(id, 'admin.user.set_password')).toHaveLength(1);

    // A cutoff, not a block: the new password signs in, in the same browser, right away.
    const again = await signIn(browser, email, NEW_PASSWORD);
    expect(again.shown[0]).toBe('login');
    expect(await isActive(t.issuer, rs, again.tokens.access_token)).toBe(true);
    const refreshed = await openid.refreshTokenGrant(config, again.tokens.refresh_token ?? '');
    expect(await isActive(t.issuer, rs, refreshed.access_token)).toBe(true);
  });

  it('the admin API (PUT /users/{email}/password) ends them the same way', async () => {
    const email = 'pia@example.com';
    await createUser(t, email, ['data-scientist']);
    const browser = new SignInSteps();
    const before = await signIn(browser, email, PASSWORD);
    const { adminBot } = await createAdminBots(t);
    const res = await callAdmin(t.url, await tokenFor(t.url, adminBot), 'PUT', `/users/${encodeURIComponent(email)}/password`, { password: NEW_PASSWORD });
    expect(res.status).toBe(200);
    await expectSignedOut(browser, before.tokens, email, PASSWORD);
    expect(await isActive(t.issuer, rs, (await signIn(browser, email, NEW_PASSWORD)).tokens.access_token)).toBe(true);
  });
});

describe('user mfa reset', () => {
  it('ends the sign-ins the old authenticator vouched for, says so (--json), audits it; signing in again works', async () => {
    const email = 'pete@example.com';
    const id = await createUser(t, email, ['admin']);
    const { secret } = await t.cliJson<{ secret: string }>('user', 'mfa', 'enroll', email);
    const browser = new SignInSteps();
    const highScope = `${OFFLINE} ai.deploy.manage`; // high sensitivity: needs the second factor
    const before = await signIn(browser, email, PASSWORD, secret, highScope);
    expect(before.shown).toContain('mfa');

    const out = await t.cliJson<{ user: { mfa_enrolled: boolean }; ended: Record<string, unknown> }>('user', 'mfa', 'reset', email);
    expect(out.user.mfa_enrolled).toBe(false);
    expect(out.ended).toMatchObject({ sessions: 1, grants: 1, refresh_tokens: 1 });
    expect(String(out.ended.tokens_revoked_until)).toMatch(/Z$/);

    await t.server.policy.sync();
    expect(await oauthError(openid.refreshTokenGrant(config, before.tokens.refresh_token ?? ''))).toBe('invalid_grant');
    expect(await isActive(t.issuer, rs, before.tokens.access_token)).toBe(false);
    const [revocation] = await auditOf(id, 'revocation.user');
    expect(JSON.parse(revocation?.detail ?? '{}')).toMatchObject({ reason: 'two-step verification reset', ended: { sessions: 1, grants: 1 } });

    const again = await signIn(browser, email, PASSWORD, undefined, highScope);
    expect(again.shown).toEqual(['login', 'consent']); // asked to sign in; no second factor any more
    expect(await isActive(t.issuer, rs, again.tokens.access_token)).toBe(true);
  });
});

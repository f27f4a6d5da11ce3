// The admin console in a real browser (Debian Chromium via playwright-core): an administrator
// and an auditor sign in through govauth's own sign-in with a second factor and walk every page,
// a confidential client's among them (axe-core checks each one; screenshots go to
// test-results/screenshots/); the administrator
// registers a client and uses its secret at /token, opens a person's page (roles, factors,
// sessions), revokes a person and sees their token go inactive at introspection, approves an
// access request, exports the audit trail, and writes a Cedar policy set (validated, fixed,
// stored); the auditor's write, posted straight to the server, is refused and recorded.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/governance/totp.ts';
import { launchBrowser, screenshot } from '../helpers/browser.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { API, PASSWORD, createResourceServer, createUser, createWebApp, discover } from '../helpers/people.ts';
import { basic, type ClientCreds } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
// The confidential client's page (its client_id is made in beforeAll) holds the most forms: roles, proof of possession, the authentication method, the secret.
const PAGES = (client: string) => ['/console', '/console/clients', `/console/client?id=${client}`, '/console/catalog', '/console/roles', '/console/roles/show?name=govauth-admin', '/console/people', '/console/person?email=root%40example.com', '/console/grants', '/console/requests', '/console/revocations', '/console/keys', '/console/access-policies', '/console/self-registered', '/console/notifications', '/console/policies', '/console/policies/explain?user=audrey%40example.com&resource=urn%3Agovauth%3Aadmin&scope=govauth.admin', '/console/audit', '/console/review'];

let t: TestServer;
let browser: Browser;
let adminTotp: string;
let auditorTotp: string;
let rs: ClientCreds;
/** A confidential client (a client_secret), whose detail page the walk includes. */
let confidential: ClientCreds;
/** The administrator's signed-in page (a TOTP code is good once, so one sign-in serves the tests). */
let admin: Page;
/** How far the server's clock was moved (t.advance): TOTP codes are checked on it. */
let skew = 0;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await createUser(t, 'root@example.com', ['govauth-admin']);
  await createUser(t, 'audrey@example.com', ['govauth-auditor']);
  await createUser(t, 'nomfa@example.com', ['govauth-admin']);
  adminTotp = (await t.cliJson<{ secret: string }>('user', 'mfa', 'enroll', 'root@example.com')).secret;
  auditorTotp = (await t.cliJson<{ secret: string }>('user', 'mfa', 'enroll', 'audrey@example.com')).secret;
  rs = await createResourceServer(t);
  confidential = await t.cliJson<ClientCreds>('client', 'create', '--name', 'Confidential app', '--grant', 'client_credentials', '--roles', 'data-scientist');
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

/** A new browser (390 px wide, a phone) signed in to the console as `email`. */
async function signIn(email: string, totp: string | undefined): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 390, height: 844 }, bypassCSP: true /* only so axe-core can be injected; the page keeps its CSP otherwise */ })).newPage();
  await page.goto(`${t.issuer}/console`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (totp) {
    await page.getByLabel('Authentication code').fill(totpCode(totp, Date.now() + skew));
    await page.getByRole('button', { name: 'Verify' }).click();
  }
  await page.waitForURL((u) => u.pathname.startsWith('/console'));
  return page;
}

/** axe-core's violations on the page, of every impact (critical, serious, moderate, minor). */
async function axe(page: Page): Promise<{ id: string; impact: string; nodes: string[] }[]> {
  await page.addScriptTag({ content: AXE });
  // Runs in the page (a string: this project's TypeScript has no DOM library).
  const violations = await page.evaluate<{ id: string; impact: string; nodes: { target: string[] }[] }[]>('axe.run().then((r) => r.violations)');
  return violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
}

async function walk(page: Page, who: string): Promise<void> {
  for (const path of PAGES(confidential.client_id)) {
    const res = await page.goto(`${t.issuer}${path}`);
    expect(res?.status(), path).toBe(200);
    expect(await page.locator('h1').count()).toBe(1);
    // Nothing overflows a 390 px screen but the tables' own scrolling regions.
    expect(await page.evaluate('document.documentElement.scrollWidth'), path).toBeLessThanOrEqual(390);
    // Every page is held to every impact level (moderate and minor included).
    expect(await axe(page), path).toEqual([]);
    await screenshot(page, `console-${who}-${(path.split('/').pop() ?? 'console').replace(confidential.client_id, 'confidential')}`);
  }
}

async function introspect(token: string): Promise<boolean> {
  const res = await fetch(`${t.issuer}/token/introspection`, { method: 'POST', headers: { authorization: basic(rs), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) });
  return ((await res.json()) as { active: boolean }).active;
}

describe('the admin console', () => {
  it('needs a console role and a second factor', async () => {
    const page = await (await browser.newContext()).newPage();
    const res = await page.goto(`${t.issuer}/console/clients`);
    // Not signed in: govauth's own sign-in page, for the console's client.
    expect(new URL(page.url()).pathname).toMatch(/^\/interaction\//);
    expect(res?.status()).toBe(200);
    expect(await page.getByLabel('Email').count()).toBe(1);
    await page.context().close();
    // Without an enrolled second factor the console stays closed.
    const nomfa = await (await browser.newContext()).newPage();
    await nomfa.goto(`${t.issuer}/console`);
    await nomfa.getByLabel('Email').fill('nomfa@example.com');
    await nomfa.getByLabel('Password').fill(PASSWORD);
    await nomfa.getByRole('button', { name: 'Sign in' }).click();
    await nomfa.waitForLoadState();
    expect(await nomfa.locator('main').innerText()).toMatch(/second factor/);
    await nomfa.context().close();
  });

  it('an administrator walks every page, registers a client and uses its secret', { timeout: 120_000 }, async () => {
    admin = await signIn('root@example.com', adminTotp);
    const page = admin;
    expect(await page.locator('header').innerText()).toContain('root@example.com');
    await walk(page, 'admin');
    // The walk saw the confidential client's page with its forms, the authentication method's among them.
    await page.goto(`${t.issuer}/console/client?id=${confidential.client_id}`);
    expect(await page.getByRole('region', { name: 'Change the authentication method' }).getByLabel('New method').count()).toBe(1);

    await page.goto(`${t.issuer}/console/clients`);
    const form = page.getByRole('region', { name: 'Register a client' });
    await form.getByLabel('Name', { exact: true }).fill('Console bot');
    await form.getByLabel('Grant types').fill('client_credentials');
    await form.getByLabel('Roles').fill('data-scientist');
    await form.getByRole('button', { name: 'Register' }).click();
    const secret = (await page.locator('code.secret').nth(1).innerText()).trim();
    const clientId = (await page.locator('code.secret').nth(0).innerText()).trim();
    await screenshot(page, 'console-admin-client-secret');
    expect(clientId).toMatch(/^cl_/);
    const config = await oidc.discovery(new URL(t.issuer), clientId, secret, undefined, { execute: [oidc.allowInsecureRequests] });
    const tokens = await oidc.clientCredentialsGrant(config, { resource: API, scope: 'ai.training.read' });
    expect(tokens.access_token).toBeTruthy();
    expect(await introspect(tokens.access_token)).toBe(true);
    // The change is recorded with the signed-in person as the actor.
    const created = await t.cliJson<{ events: { actor: string; action: string; subject: string }[] }>('audit', 'tail', '--action', 'admin.client.create', '--limit', '5');
    expect(created.events.at(-1)?.actor).toMatch(/^usr_/);
  });

  it('an administrator revokes a person (their token turns inactive) and approves a request', { timeout: 120_000 }, async () => {
    await createUser(t, 'alice@example.com', ['end-user']);
    const app = await createWebApp(t);
    const tokens = await headlessSignIn(await discover(t, app), 'alice@example.com', 'openid ai.prediction.run', { extra: { redirect_uri: 'https://app.example/callback' } });
    expect(await introspect(tokens.access_token)).toBe(true);

    const page = admin;
    await page.goto(`${t.issuer}/console/revocations`);
    const revoke = page.getByRole('region', { name: 'Revoke' });
    await revoke.getByLabel('What').selectOption('user');
    await revoke.getByLabel('Who or which').fill('alice@example.com');
    await revoke.getByLabel('Reason').fill('laptop stolen');
    await revoke.getByRole('button', { name: 'Revoke' }).click();
    // Destructive: asked first.
    await page.getByLabel('Yes, I am sure').check();
    await screenshot(page, 'console-admin-confirm');
    await page.getByRole('button', { name: 'Confirm' }).click();
    expect(await page.getByRole('status').innerText()).toMatch(/Revoked alice@example.com\. In force on \d+ of \d+ live instance/);
    expect(await introspect(tokens.access_token)).toBe(false);

    await t.cliJson('requests', 'policy', 'set', 'admin', '--approver-role', 'govauth-admin', '--approvals', '1', '--max', '8h');
    const { request } = await t.cliJson<{ request: { id: string } }>('requests', 'create', '--user', 'alice@example.com', '--role', 'admin', '--for', '1h', '--justification', 'INC-7');
    await page.goto(`${t.issuer}/console/requests`);
    await page.getByRole('button', { name: `Approve ${request.id}` }).click();
    expect(await page.getByRole('status').innerText()).toMatch(new RegExp(`^Approved ${request.id}\\.`));
    const shown = await t.cliJson<{ request: { state: string } }>('requests', 'show', request.id);
    expect(shown.request.state).toBe('approved');

    // The review flags the grant as ending soon; its one-click fix ends it, as `govauth user revoke-role` would.
    await page.goto(`${t.issuer}/console/review`);
    await page.getByRole('button', { name: 'End grant of admin' }).click();
    await page.getByLabel('Yes, I am sure').check();
    await page.getByRole('button', { name: 'Confirm' }).click();
    expect(await page.getByRole('status').innerText()).toMatch(/^Ended the grant of admin to alice@example\.com\./);
    const roles = await t.cliJson<{ grants: { role: string }[] }>('user', 'roles', 'alice@example.com');
    expect(roles.grants.map((g) => g.role)).not.toContain('admin');

    // The audit trail as JSON Lines, for the current filter.
    const res = await page.request.get(`${t.issuer}/console/audit/export?action=admin.*`);
    expect(res.status()).toBe(200);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { action: string; seq: number });
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.every((l) => l.action.startsWith('admin.'))).toBe(true);
    await page.goto(`${t.issuer}/console/audit?verify=1`);
    expect(await page.locator('main').innerText()).toContain('The chain verifies');
    // The overview now counts the tokens above (from the audit trail); at desktop width for the README.
    // Its figures are kept for a minute (token-stats.ts): past that, a visit refreshes them.
    await page.setViewportSize({ width: 1100, height: 900 });
    t.advance(61_000);
    skew += 61_000;
    await page.goto(`${t.issuer}/console`);
    await expect.poll(async () => (await page.reload(), await page.locator('main').innerText()), { timeout: 10_000 }).toMatch(/Tokens issued\s+[1-9]/);
    expect(await page.getByRole('img', { name: 'Tokens per minute, last 24 hours' }).count()).toBe(1);
    await screenshot(page, 'console-desktop-overview');
    await page.goto(`${t.issuer}/console/review`);
    await screenshot(page, 'console-desktop-review');
  });

  it('an auditor walks every page and cannot change anything, even posting directly', { timeout: 120_000 }, async () => {
    const page = await signIn('audrey@example.com', auditorTotp);
    await walk(page, 'auditor');
    await page.goto(`${t.issuer}/console/client?id=${confidential.client_id}`);
    expect(await page.getByRole('region', { name: 'Change the authentication method' }).count()).toBe(0);
    await page.goto(`${t.issuer}/console/clients`);
    expect(await page.getByRole('region', { name: 'Register a client' }).count()).toBe(0);
    const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
    const id = [...t.server.policy.snapshot().clients.keys()][0] ?? '';
    const res = await page.request.post(`${t.issuer}/console/actions/client-disable`, { form: { csrf: csrf ?? '', back: '/console/clients', id, confirmed: 'yes' } });
    expect(res.status()).toBe(403);
    expect(t.server.policy.snapshot().clients.get(id)?.disabled).toBe(false);
    const denied = await t.cliJson<{ events: { action: string; outcome: string }[] }>('audit', 'tail', '--action', 'console.denied', '--limit', '5');
    expect(denied.events.at(-1)?.outcome).toBe('denied');
    // The self-registration, notification and policy actions are refused to auditors the same way.
    for (const [action, form] of [['self-registered-block', { id: 'https://agent.example/client.json' }], ['notification-retry', { id: 'evt_x' }], ['policy-rollback', {}]] as const) {
      const r = await page.request.post(`${t.issuer}/console/actions/${action}`, { form: { csrf: csrf ?? '', back: '/console', confirmed: 'yes', ...form } });
      expect(r.status(), action).toBe(403);
    }
    // The person page is read-only for an auditor: no way to end a session, and a post is refused.
    await page.goto(`${t.issuer}/console/person?email=root%40example.com`);
    expect(await page.locator('main').innerText()).toMatch(/Sessions \([1-9]/);
    expect(await page.getByRole('button', { name: 'End session' }).count()).toBe(0);
    const ending = await page.request.post(`${t.issuer}/console/actions/user-session-end`, { form: { csrf: csrf ?? '', back: '/console/people', email: 'root@example.com', id: 'A'.repeat(22), confirmed: 'yes' } });
    expect(ending.status()).toBe(403);
    // A post without the session's form token is refused before anything else.
    const forged = await page.request.post(`${t.issuer}/console/actions/client-disable`, { form: { id, confirmed: 'yes' } });
    expect(forged.status()).toBe(403);
  });

  it('an administrator validates a Cedar policy set chosen from a file, fixes it and stores it', { timeout: 60_000 }, async () => {
    const typo = '@id("baseline")\npermit(principal, action, resource);\n@id("no-deploy")\nforbid(principal is Client, action == Action::"ai.deploy.mange", resource);\n';
    const page = admin;
    await page.goto(`${t.issuer}/console/policies`);
    const editor = page.getByRole('region', { name: 'Write or upload a policy set' });
    // The console's script shows the file chooser, and the chosen file fills the text area.
    await editor.getByLabel('Or fill it from a file').setInputFiles({ name: 'rules.cedar', mimeType: 'text/plain', buffer: Buffer.from(typo) });
    await expect.poll(() => editor.getByLabel('New file: Cedar text').inputValue()).toBe(typo);
    expect(await editor.getByLabel('New file: name').inputValue()).toBe('rules.cedar');
    await editor.getByRole('button', { name: 'Validate' }).click();
    expect(await page.getByRole('region', { name: /^Problems/ }).first().innerText()).toMatch(/rules\.cedar:4:\d+: no-deploy: /);
    await screenshot(page, 'console-admin-policy-invalid');
    // The text came back as typed: fix it there, validate again, then store and activate it.
    const files = page.getByRole('region', { name: 'Your files' });
    const text = files.getByLabel('File 1: Cedar text');
    expect(await text.inputValue()).toBe(typo);
    await text.fill(typo.replace('mange', 'manage'));
    await files.getByRole('button', { name: 'Validate' }).click();
    expect(await page.locator('main').innerText()).toContain('The files are valid: 2 policies');
    await page.getByRole('region', { name: 'Your files' }).getByLabel(/^Activate it now/).check();
    await page.getByRole('region', { name: 'Your files' }).getByRole('button', { name: 'Store' }).click();
    await page.getByLabel('Yes, I am sure').check();
    await page.getByRole('button', { name: 'Confirm' }).click();
    expect(await page.getByRole('status').innerText()).toMatch(/^Stored policy version 1; it is active\./);
    await screenshot(page, 'console-admin-policy-stored');
    const { versions } = await t.cliJson<{ versions: { version: number; active: boolean }[] }>('policy', 'list');
    expect(versions).toEqual([expect.objectContaining({ version: 1, active: true })]);
    // Through the text area and the confirmation's hidden field (both posted with CRLF line ends), stored as written.
    expect((await t.cliJson<{ sources: Record<string, string> }>('policy', 'show', '1')).sources).toEqual({ 'rules.cedar': typo.replace('mange', 'manage') });
  });

  it('the overview draws the tokens of the day, and the wide screenshots for the README are taken', async () => {
    const page = admin;
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.goto(`${t.issuer}/console`);
    // Every token of this test fell in a minute or two: the line rises from zero and falls back
    // to it (charts.ts withZeros), so the issued series is a path with points, not an empty one.
    const issued = await page.locator('svg path.series-issued').first().getAttribute('d');
    expect(issued).toMatch(/^M[\d.,]+(L[\d.,]+){2,}$/);
    await screenshot(page, 'console-wide-overview');
    await page.goto(`${t.issuer}/console/review`);
    await screenshot(page, 'console-wide-review');
    await page.setViewportSize({ width: 390, height: 844 });
  });
});

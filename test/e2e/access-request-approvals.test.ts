// The two-person rule in a real browser (Debian Chromium via playwright-core): a person asks for
// a role on their requests page, two approvers approve it on their approvals page, the grant is
// in force at once and ends by itself at the time asked.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireRoleGrants } from '../../src/governance/role-grants.ts';
import { launchBrowser, screenshot } from '../helpers/browser.ts';
import { PASSWORD, createUser } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let browser: Browser;
let aliceId: string;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await t.cliJson('role', 'create', 'access-approver', '--scopes', 'ai.usage.log.read');
  await t.cliJson('requests', 'policy', 'set', 'admin', '--approver-role', 'access-approver', '--approvals', '2', '--max', '8h');
  aliceId = await createUser(t, 'alice@example.com', ['end-user']);
  await createUser(t, 'bob@example.com', ['access-approver']);
  await createUser(t, 'carol@example.com', ['access-approver']);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

/** A new browser context signed in as `email`, on `path`. */
async function open(email: string, path: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${t.issuer}${path}`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === path);
  return page;
}

const adminGrant = () => t.server.policy.user(aliceId)?.roles.find((g) => g.role === 'admin');

describe('access requests in a browser', () => {
  it('alice asks, bob and carol approve, the grant is in force at once and ends by itself', async () => {
    const alice = await open('alice@example.com', '/account/requests');
    await alice.getByLabel('Role').selectOption('admin');
    await alice.getByLabel('For how long').fill('4h');
    await alice.getByLabel('Why you need it').fill('INC-42: restore the fraud model');
    await alice.getByRole('button', { name: 'Request' }).click();
    await alice.getByRole('status').waitFor();
    expect(await alice.getByRole('status').innerText()).toBe('Your request is waiting for approval.');
    expect(await alice.locator('main').innerText()).toMatch(/admin for 4 hours · pending/);
    await screenshot(alice, 'access-requests');
    // Alice holds no approver role, and her own request is never hers to decide.
    await alice.goto(`${t.issuer}/account/approvals`);
    expect(await alice.locator('main').innerText()).toContain('No request is waiting for you.');

    const bob = await open('bob@example.com', '/account/approvals');
    const request = bob.getByRole('region', { name: /^Request ar_/ });
    expect(await request.innerText()).toContain('alice@example.com asks for role admin for 4 hours');
    expect(await request.innerText()).toContain('INC-42: restore the fraud model');
    await request.getByLabel(/Reason/).fill('on call this week');
    await request.getByRole('button', { name: 'Approve' }).click();
    await bob.getByRole('status').waitFor();
    expect(await bob.getByRole('status').innerText()).toBe('Approved.');
    expect(await bob.locator('main').innerText()).toContain('No request is waiting for you.');
    expect(adminGrant()).toBeUndefined();

    const carol = await open('carol@example.com', '/account/approvals');
    const same = carol.getByRole('region', { name: /^Request ar_/ });
    expect(await same.innerText()).toContain('approved by bob@example.com');
    await screenshot(carol, 'approvals');
    await same.getByRole('button', { name: 'Approve' }).click();
    await carol.getByRole('status').waitFor();
    expect(await carol.getByRole('status').innerText()).toBe('Approved: the access is granted now.');
    // In force on return: the server's policy holds the grant, ending 4 hours from now.
    expect(adminGrant()).toBeDefined();
    expect(adminGrant()?.expiresAt ?? 0).toBeCloseTo(Date.now() + 4 * 3600_000, -5);

    await alice.goto(`${t.issuer}/account/requests`);
    expect(await alice.locator('main').innerText()).toMatch(/admin for 4 hours · approved/);
    expect(await alice.locator('main').innerText()).toContain('approved by bob@example.com and carol@example.com');

    // Four hours later the grant ends by itself: the sweep deletes it and records the expiry.
    await expireRoleGrants(t.server.db, new Date(Date.now() + 4 * 3600_000 + 1000));
    await t.server.policy.sync();
    expect(adminGrant()).toBeUndefined();
    const expired = await t.cliJson<{ events: { detail: { role: string } }[] }>('audit', 'tail', '--action', 'role_grant.expired');
    expect(expired.events.map((e) => e.detail.role)).toContain('admin');
    const report = await t.cli('audit', 'approvals', '--user', 'alice@example.com');
    expect(report.stdout).toMatch(/user:usr_\S+\s+bob@example\.com, carol@example\.com\s+yes/);
  });
});

// The access request pages (/account/requests, /account/approvals) over plain HTTP, as a hostile
// browser would use them: forged or missing form tokens, a person approving their own request by
// posting the form, a non-approver posting a decision, unknown ids, a post without a sign-in.
// Each is refused with a page saying why, and nothing is granted. (The happy path runs in
// Chromium: test/e2e/access-request-approvals.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInToAccount, type AccountBrowser } from '../helpers/account-pages.ts';
import { startAccessRequestServer } from '../helpers/access-request-fixture.ts';
import type { TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let alice: AccountBrowser;
let bob: AccountBrowser;
let dave: AccountBrowser;

const roles = async (email: string) => (await t.cliJson<{ grants: { role: string }[] }>('user', 'roles', email)).grants.map((g) => g.role);
const requests = async (email: string) => (await t.cliJson<{ requests: { id: string; state: string }[] }>('requests', 'list', '--user', email)).requests;

beforeAll(async () => {
  // Alice is an approver herself: still never of her own request.
  t = await startAccessRequestServer({ 'alice@example.com': ['end-user', 'access-approver'], 'bob@example.com': ['access-approver'], 'dave@example.com': ['end-user'] });
  await t.cliJson('requests', 'policy', 'set', 'admin', '--approver-role', 'access-approver', '--approvals', '1', '--max', '8h');
  [alice, bob, dave] = await Promise.all([signInToAccount(t, 'alice@example.com'), signInToAccount(t, 'bob@example.com'), signInToAccount(t, 'dave@example.com')]);
});
afterAll(() => t?.stop());

describe('the requests page', () => {
  it('files a request from the form, with the page’s strict CSP; refuses bad input with a page', async () => {
    const page = await alice.get('/account/requests');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('<option value="admin">admin (at most 8 hours, 1 approver)</option>');
    const csrf = await alice.csrf('/account/requests');
    for (const [fields, status, text] of [
      [{ csrf, role: 'admin', duration: '9h', justification: 'x' }, 400, 'role admin may be requested for at most 8h (asked for 9h)'],
      [{ csrf, role: 'admin', duration: 'soon', justification: 'x' }, 400, 'the duration must look like'],
      [{ csrf, role: 'nosuch', duration: '1h', justification: 'x' }, 404, 'no role named nosuch'],
      [{ csrf, role: 'admin', duration: '1h', justification: '' }, 400, 'justification must not be empty'],
      [{ csrf: 'forged', role: 'admin', duration: '1h', justification: 'x' }, 403, ''],
      [{ role: 'admin', duration: '1h', justification: 'x' }, 403, ''],
    ] as const) {
      const res = await alice.post('/account/requests', fields);
      expect(res.status, JSON.stringify(fields)).toBe(status);
      expect(await res.text()).toContain(text);
    }
    expect(await requests('alice@example.com')).toEqual([]);
    const ok = await alice.post('/account/requests', { csrf, role: 'admin', duration: '2h', justification: 'INC-9' });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/account/requests?result=requested');
    expect(await requests('alice@example.com')).toEqual([expect.objectContaining({ state: 'pending' })]);
  });
});

describe('the approvals page', () => {
  it('never offers, and refuses, a person’s own request; refuses a non-approver; an approver grants', async () => {
    const [mine] = await requests('alice@example.com');
    const id = mine?.id ?? '';
    expect(await (await alice.get('/account/approvals')).text()).toContain('No request is waiting for you.');
    const own = await alice.post(`/account/approvals/${id}`, { csrf: await alice.csrf('/account/requests'), decision: 'approve' });
    expect(own.status).toBe(403);
    expect(await own.text()).toContain('nobody may decide their own request or a request for themselves');
    const outsider = await dave.post(`/account/approvals/${id}`, { csrf: await dave.csrf('/account/requests'), decision: 'approve' });
    expect(outsider.status).toBe(403);
    expect(await outsider.text()).toContain('does not hold role access-approver');
    const bobCsrf = await bob.csrf('/account/approvals');
    expect((await bob.post(`/account/approvals/${id}`, { csrf: bobCsrf, decision: 'maybe' })).status).toBe(400);
    expect((await bob.post('/account/approvals/ar_nothing', { csrf: bobCsrf, decision: 'approve' })).status).toBe(404);
    expect((await bob.post(`/account/approvals/${id}`, { csrf: 'forged', decision: 'approve' })).status).toBe(403);
    // Alice's token is hers: it is no good in Bob's session.
    expect((await bob.post(`/account/approvals/${id}`, { csrf: await alice.csrf('/account/requests'), decision: 'approve' })).status).toBe(403);
    expect(await roles('alice@example.com')).not.toContain('admin');
    expect(await (await bob.get('/account/approvals')).text()).toContain('INC-9');
    const approved = await bob.post(`/account/approvals/${id}`, { csrf: bobCsrf, decision: 'approve', reason: 'ok' });
    expect(approved.status).toBe(303);
    expect(approved.headers.get('location')).toBe('/account/approvals?result=completed');
    expect(await roles('alice@example.com')).toContain('admin');
    const again = await bob.post(`/account/approvals/${id}`, { csrf: bobCsrf, decision: 'deny' });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('is approved already');
  });

  it('sends a browser that is not signed in to sign in, and refuses its post', async () => {
    const { AccountBrowser } = await import('../helpers/account-pages.ts');
    const stranger = new AccountBrowser(t.url);
    expect((await stranger.get('/account/approvals')).status).toBe(303);
    expect((await stranger.post('/account/approvals/ar_x', { decision: 'approve' })).status).toBe(401);
  });
});

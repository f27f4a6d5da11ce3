// The audit explorer's client and resource filters and its pager, over a real server, on the
// database the run is configured with. Two clients take tokens for two resources; filtering the
// admin API, the console page and the JSON Lines export by client or by resource must return
// exactly the records of that client or concerning that resource (issued, refused, introspected,
// revoked, reported, administered) and nothing else. Paging by seq walks records that share one
// millisecond without skipping or repeating one (paging by time did both).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventView } from '../../src/audit/audit-query.ts';
import { appendAuditEvents } from '../../src/db/audit-log.ts';
import { totpCode } from '../../src/governance/totp.ts';
import { AccountBrowser } from '../helpers/account-pages.ts';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { basic, decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { API, PASSWORD, createResourceServer, createUser } from '../helpers/people.ts';
import { SignInSteps } from '../helpers/sign-in-steps.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const REPORTS = 'https://reports.example';

let t: TestServer;
let admin: string;
let console_: AccountBrowser;
let alpha: ClientCreds;
let beta: ClientCreds;
let rs: ClientCreds;
/** jti → [client, resource] of every token the test was issued. */
const issued = new Map<string, [string, string]>();

async function issue(creds: ClientCreds, resource: string): Promise<string> {
  const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource }, { basic: creds });
  expect(res.status).toBe(200);
  const token = String(res.body.access_token);
  issued.set(String(decodeJwt(token).payload.jti), [creds.client_id, resource]);
  return token;
}

const post = (path: string, creds: ClientCreds, body: Record<string, string>) =>
  fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(creds) }, body: new URLSearchParams(body) });

async function consoleSignIn(email: string): Promise<AccountBrowser> {
  const secret = (await t.cliJson<{ secret: string }>('user', 'mfa', 'enroll', email)).secret;
  const steps = new SignInSteps({ forwardedFor: null });
  const callback = await steps.walk(`${t.url}/console`, `${t.issuer}/console/signed-in`, (page) => {
    if (page.kind === 'login') return { email, password: PASSWORD };
    if (page.kind === 'mfa') return { code: totpCode(secret, Date.now()) };
    throw new Error(`unexpected ${page.kind} page: ${page.html.slice(0, 300)}`);
  });
  const browser = new AccountBrowser(t.url, steps.jar);
  expect((await browser.get(`${callback.pathname}${callback.search}`)).status).toBe(303);
  return browser;
}

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await t.cliJson('resource', 'create', REPORTS, '--name', 'Reports', '--scopes', 'ai.training.read');
  alpha = await t.cliJson<ClientCreds>('client', 'create', '--name', 'alpha', '--grant', 'client_credentials', '--roles', 'data-scientist');
  beta = await t.cliJson<ClientCreds>('client', 'create', '--name', 'beta', '--grant', 'client_credentials', '--roles', 'data-scientist');
  rs = await createResourceServer(t);
  const { auditorBot } = await createAdminBots(t);
  await createUser(t, 'auditor@example.com', ['govauth-auditor']);
  await t.server.policy.sync();
  admin = await tokenFor(t.url, auditorBot);
  console_ = await consoleSignIn('auditor@example.com');

  const alphaApi = await issue(alpha, API);
  await issue(alpha, API);
  await issue(alpha, REPORTS);
  await issue(beta, API);
  await issue(beta, REPORTS);
  const betaReports = await issue(beta, REPORTS);
  // A refusal names the resource it asked for; an introspection, the server's resource; a
  // revocation, the revoked token's; a change to a resource, that resource.
  expect((await tokenRequest(t.url, { grant_type: 'client_credentials', resource: REPORTS, scope: 'ai.deploy.manage' }, { basic: alpha })).status).toBe(400);
  expect((await (await post('/token/introspection', rs, { token: alphaApi })).json()) as { active: boolean }).toMatchObject({ active: true });
  expect((await post('/token/revocation', beta, { token: betaReports })).status).toBe(200);
  await t.cliJson('resource', 'update', REPORTS, '--name', 'Quarterly reports');
  await t.server.audit.flush();
}, 60_000);
afterAll(() => t?.stop());

/** Every record now, from the export of an empty filter. */
async function everything(): Promise<AuditEventView[]> {
  await t.server.audit.flush();
  const text = await (await console_.get('/console/audit/export')).text();
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEventView);
}

const jtiOf = (e: AuditEventView): string | undefined => (e.detail as { jti?: string }).jti;

/** The records the filter must return, judged from what the test did, not from the column it filters on. */
function expected(all: readonly AuditEventView[], filter: { client?: string; resource?: string }): number[] {
  return all
    .filter((e) => {
      const token = jtiOf(e) === undefined ? undefined : issued.get(jtiOf(e) ?? '');
      if (filter.client !== undefined) {
        if (e.action === 'token.issued') return token?.[0] === filter.client;
        if (e.action === 'token.refused' || e.action === 'token.revoked') return e.actor === filter.client;
        if (e.action === 'token.introspected') return filter.client === rs.client_id;
        // What govauth noticed of the client's token requests (suspicious-use.ts: client.new_network).
        if (e.action.startsWith('client.')) return e.actor === filter.client;
        return false;
      }
      if (e.action === 'token.issued') return token?.[1] === filter.resource;
      if (e.action === 'token.refused') return filter.resource === REPORTS && e.actor === alpha.client_id;
      if (e.action === 'token.introspected') return filter.resource === API;
      if (e.action === 'token.revoked') return filter.resource === REPORTS;
      if (e.action.startsWith('admin.resource.')) return e.subject === filter.resource;
      return false;
    })
    .map((e) => e.seq);
}

const seqsInPage = (html: string): number[] => [...html.matchAll(/<th scope="row">\s*(\d+)\s*</g)].map((m) => Number(m[1]));

describe('filter by client and by resource', () => {
  const cases = (): { name: string; filter: { client?: string; resource?: string } }[] => [
    { name: 'client alpha', filter: { client: alpha.client_id } },
    { name: 'client beta', filter: { client: beta.client_id } },
    { name: 'resource API', filter: { resource: API } },
    { name: 'resource REPORTS', filter: { resource: REPORTS } },
  ];

  it('the admin API, the console page and the export return exactly the records of the client or resource', async () => {
    const all = await everything();
    const last = all.at(-1)?.seq ?? 0;
    for (const { name, filter } of cases()) {
      const want = expected(all, filter);
      expect(want.length, name).toBeGreaterThan(0);
      const query = new URLSearchParams({ ...filter }).toString();
      // Reads are recorded (read-audit.ts) but never under a client or resource: no later record can match.
      const api = await callAdmin<{ events: AuditEventView[] }>(t.url, admin, 'GET', `/audit?${query}&limit=1000`);
      expect(api.status, name).toBe(200);
      expect(api.body.events.map((e) => e.seq), name).toEqual(want);
      const page = await console_.get(`/console/audit?${query}`);
      expect(page.status, name).toBe(200);
      expect(seqsInPage(await page.text()), name).toEqual([...want].reverse());
      const exported = (await (await console_.get(`/console/audit/export?${query}`)).text()).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as AuditEventView).seq);
      expect(exported, name).toEqual(want);
      expect(want.every((s) => s <= last), name).toBe(true);
    }
  });

  it('names the resource of each kind of record, and a client filter combines with the others', async () => {
    const all = await everything();
    const reports = all.filter((e) => e.resource === REPORTS).map((e) => e.action);
    expect(new Set(reports)).toEqual(new Set(['admin.resource.create', 'admin.resource.update', 'token.issued', 'token.refused', 'token.revoked']));
    expect(all.find((e) => e.action === 'token.introspected')?.resource).toBe(API);
    const both = await callAdmin<{ events: AuditEventView[] }>(t.url, admin, 'GET', `/audit?client=${beta.client_id}&resource=${encodeURIComponent(REPORTS)}&action=token.issued`);
    expect(both.body.events.map((e) => jtiOf(e)).sort()).toEqual([...issued].filter(([, [c, r]]) => c === beta.client_id && r === REPORTS).map(([j]) => j).sort());
  });

  it('the CLI filters by client and resource too, in tail and export', async () => {
    const all = await everything();
    const want = expected(all, { resource: REPORTS });
    const tail = await t.cliJson<{ events: AuditEventView[] }>('audit', 'tail', '--resource', REPORTS, '--limit', '1000');
    expect(tail.events.map((e) => e.seq)).toEqual(want);
    const exported = await t.cli('audit', 'export', '--client', alpha.client_id);
    expect(exported.code).toBe(0);
    expect(exported.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as AuditEventView).seq)).toEqual(expected(all, { client: alpha.client_id }));
    const bad = await t.cli('audit', 'tail', '--before', '99999999999');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--before must be/);
  });
});

describe('paging by seq', () => {
  it('walks records sharing one millisecond, through the API and the console pager, each exactly once', async () => {
    const db = t.server.db;
    const at = new Date(Date.now() - 60_000);
    const events = Array.from({ length: 230 }, (_, i) => ({ action: 'test.same_ms', actorType: 'system' as const, clientId: 'cl_pager', at, detail: { i } }));
    const appended = (await db.prisma.$transaction((tx) => appendAuditEvents(db, tx, events))).map((r) => r.seq);

    const viaApi: number[] = [];
    let before: number | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const r = await callAdmin<{ events: AuditEventView[] }>(t.url, admin, 'GET', `/audit?client=cl_pager&limit=100${before === undefined ? '' : `&before=${before}`}`);
      expect(r.status).toBe(200);
      if (!r.body.events.length) break;
      viaApi.unshift(...r.body.events.map((e) => e.seq));
      before = r.body.events[0]?.seq;
    }
    expect(viaApi).toEqual(appended);

    const viaConsole: number[] = [];
    let path: string | undefined = '/console/audit?client=cl_pager';
    for (let pages = 0; path && pages < 10; pages++) {
      const html = await (await console_.get(path)).text();
      viaConsole.push(...seqsInPage(html));
      path = /<a href="([^"]+)" rel="next">/.exec(html)?.[1]?.replaceAll('&amp;', '&');
    }
    expect(viaConsole).toEqual([...appended].reverse());
    // Three pages: 100, 100, 30; the last offers no next page.
    expect(viaConsole.length).toBe(230);
  });

  it('keeps until as a time filter beside before', async () => {
    const r = await callAdmin<{ events: AuditEventView[] }>(t.url, admin, 'GET', `/audit?client=cl_pager&until=${encodeURIComponent(new Date(Date.now() - 120_000).toISOString())}`);
    expect(r.body.events).toEqual([]);
  });
});

describe('hostile values', () => {
  it('refuses a before that is not a seq, and client or resource values it cannot hold, with a 400 naming the parameter, never a 500', async () => {
    const queries = ['before=-1', 'before=0', 'before=1.5', 'before=1e3', 'before=abc', 'before=', 'before=2147483648', 'before=99999999999999999999', `before=${'9'.repeat(400)}`, 'before=%00', 'before=1&before=2', 'client=', 'client=a%00b', `client=${'c'.repeat(257)}`, 'resource=', 'resource=x%07', `resource=${'r'.repeat(2049)}`];
    for (const q of queries) {
      const r = await callAdmin<{ error?: string; error_description?: string }>(t.url, admin, 'GET', `/audit?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error, q).toBe('invalid_request');
      // The admin API's error says which parameter is wrong.
      expect(r.body.error_description, q).toContain(q.slice(0, q.indexOf('=')));
      // The console leaves empty fields out of its filter (an empty form field means "any").
      if (!q.endsWith('=') && !q.includes('&')) expect((await console_.get(`/console/audit?${q}`)).status, `console ${q}`).toBe(400);
    }
    const largest = await callAdmin<{ events: AuditEventView[] }>(t.url, admin, 'GET', '/audit?before=2147483647&limit=1');
    expect(largest.status).toBe(200);
    // Values that match nothing are answers, not errors: SQL wildcards are literal.
    for (const q of ['client=%25', 'client=_', `resource=${encodeURIComponent("https://x.example/'; DROP TABLE \"AuditEvent\"; --")}`]) {
      const r = await callAdmin<{ events: AuditEventView[] }>(t.url, admin, 'GET', `/audit?${q}`);
      expect(r.status, q).toBe(200);
      expect(r.body.events, q).toEqual([]);
    }
  });
});

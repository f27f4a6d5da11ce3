// The audit explorer's client and resource filters and its pager, over a real server, on the
// database the run is configured with. Two clients take tokens for two resources; filtering the
// admin API, the console page and the JSON Lines export by client or by resource must return
// exactly the records of that client or concerning that resource (issued, refused, introspected,
// revoked, reported, administered) and nothing else. Paging by seq walks records that share one
// millisecond without skipping or repeating one (paging by time did both).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventView } from '../../src/audit/audit-query.ts';
import { appendAuditEvents } from '../../src/db/audit-log.ts';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { consoleSession, type ConsoleBrowser } from '../helpers/console-browser.ts';
import { basic, decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { API, createResourceServer } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const REPORTS = 'https://reports.example';

let t: TestServer;
let admin: string;
let console_: ConsoleBrowser;
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

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await t.cliJson('resource', 'create', REPORTS, '--name', 'Reports', '--scopes', 'ai.training.read');
  alpha = await t.cliJson<ClientCreds>('client', 'create', '--name', 'alpha', '--grant', 'client_credentials', '--roles', 'data-scientist');
  beta = await t.cliJson<ClientCreds>('client', 'create', '--name', 'beta', '--grant', 'client_credentials', '--roles', 'data-scientist');
  rs = await createResourceServer(t);
  const { auditorBot } = await createAdminBots(t);
  await t.server.policy.sync();
  admin = await tokenFor(t.url, auditorBot);
  console_ = await consoleSession(t, 'auditor@example.com', 'govauth-auditor');

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
  /** The seq of each page's rows, and the page's links, by rel (newer is prev, older next) and label. */
  function pageOf(html: string): { seqs: number[]; newer?: string; older?: string; newest?: string } {
    const link = (re: RegExp) => re.exec(html)?.[1]?.replaceAll('&amp;', '&');
    return { seqs: seqsInPage(html), newer: link(/<a href="([^"]+)" rel="prev">Newer</), older: link(/<a href="([^"]+)" rel="next">Older</), newest: link(/<a href="([^"]+)">Newest</) };
  }

  let appended: number[];
  beforeAll(async () => {
    const db = t.server.db;
    // 230 records of the filtered client, 131 of them (#20 to #150, across both page boundaries
    // of a walk from the newest: 230 = 100 + 100 + 30) sharing one millisecond; every third record
    // between them belongs to another client, so the filter's records are not contiguous in seq.
    const base = Date.now() - 60_000;
    const events = Array.from({ length: 230 }, (_, i) => ({ action: 'test.same_ms', actorType: 'system' as const, clientId: 'cl_pager', at: new Date(i < 20 ? base + i : i <= 150 ? base + 20 : base + i), detail: { i } }))
      .flatMap((e, i) => (i % 3 ? [e] : [e, { ...e, clientId: 'cl_other' }]));
    appended = (await db.prisma.$transaction((tx) => appendAuditEvents(db, tx, events))).filter((r) => r.clientId === 'cl_pager').map((r) => r.seq);
    expect(appended.length).toBe(230);
  });

  it('walks records sharing one millisecond through the API, older with before and newer with after, each exactly once', async () => {
    const page = async (position: string): Promise<number[]> => {
      const r = await callAdmin<{ events: AuditEventView[] }>(t.url, admin, 'GET', `/audit?client=cl_pager&limit=100${position}`);
      expect(r.status, position).toBe(200);
      return r.body.events.map((e) => e.seq);
    };
    const older: number[] = [];
    let before: number | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const seqs = await page(before === undefined ? '' : `&before=${before}`);
      if (!seqs.length) break;
      older.unshift(...seqs);
      before = seqs[0];
    }
    expect(older).toEqual(appended);

    // after reads upwards: the 100 closest above it, oldest first, not the newest 100.
    const newer: number[] = [];
    let after = (appended[0] ?? 1) - 1;
    for (let pages = 0; pages < 10; pages++) {
      const seqs = await page(`&after=${after}`);
      if (!seqs.length) break;
      expect(seqs.length, `after=${after}`).toBe(Math.min(100, appended.length - newer.length));
      newer.push(...seqs);
      after = seqs.at(-1) ?? after;
    }
    expect(newer).toEqual(appended);

    // Both: a window, read upwards from after; a family of actions (one seek per name) reads upwards too.
    const [a, b] = [appended[10] ?? 0, appended[200] ?? 0];
    expect(await page(`&after=${a}&before=${b}`)).toEqual(appended.slice(11, 111));
    expect(await page(`&after=${a}&before=${appended[15] ?? 0}`)).toEqual(appended.slice(11, 15));
    const family = await callAdmin<{ events: AuditEventView[] }>(t.url, admin, 'GET', `/audit?client=cl_pager&action=test.*&after=${a}&limit=5`);
    expect(family.body.events.map((e) => e.seq)).toEqual(appended.slice(11, 16));
    // The export starts after it too; the CLI pages forward the same way.
    const exported = (await (await console_.get(`/console/audit/export?client=cl_pager`)).text()).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as AuditEventView).seq);
    expect(exported).toEqual(appended);
    const cli = await t.cliJson<{ events: AuditEventView[] }>('audit', 'tail', '--client', 'cl_pager', '--after', String(a), '--limit', '3');
    expect(cli.events.map((e) => e.seq)).toEqual(appended.slice(11, 14));
    const cliExport = await t.cli('audit', 'export', '--client', 'cl_pager', '--after', String(appended[227]));
    expect(cliExport.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as AuditEventView).seq)).toEqual(appended.slice(228));
  });

  it('the console pager walks older to the end and newer back to the start, each record exactly once each way', async () => {
    const visit = async (path: string) => {
      const res = await console_.get(path);
      expect(res.status, path).toBe(200);
      return pageOf(await res.text());
    };
    const first = await visit('/console/audit?client=cl_pager');
    // The first page is the newest: nothing newer, nothing to reset to.
    expect([first.newer, first.newest]).toEqual([undefined, undefined]);

    const pages = [first];
    for (let p = first; p.older && pages.length < 10;) pages.push((p = await visit(p.older)));
    const olderWalk = pages.flatMap((p) => p.seqs);
    expect(olderWalk).toEqual([...appended].reverse());
    expect(pages.map((p) => p.seqs.length)).toEqual([100, 100, 30]);
    const last = pages.at(-1);
    expect(last?.older).toBeUndefined();
    expect(last?.newest).toBe('/console/audit?client=cl_pager');

    // Newer steps exactly one page: the same pages in reverse, not a jump to the newest.
    const back = [last];
    for (let p = last; p?.newer && back.length < 10;) back.push((p = await visit(p.newer)));
    expect(back.map((p) => p?.seqs)).toEqual(pages.map((p) => p.seqs).reverse());
    const newerWalk = back.flatMap((p) => [...(p?.seqs ?? [])].reverse());
    expect(newerWalk).toEqual(appended);
    // The top of the walk back offers no Newer (there is nothing newer), but Older and Newest.
    const top = back.at(-1);
    expect(top?.newer).toBeUndefined();
    expect(top?.older).toBeDefined();
    expect(top?.newest).toBe('/console/audit?client=cl_pager');
    // A position past either end shows an empty page with only the way back to the newest.
    for (const path of ['/console/audit?client=cl_pager&after=2147483647', `/console/audit?client=cl_pager&before=${appended[0] ?? 1}`]) {
      expect(await visit(path), path).toEqual({ seqs: [], newer: undefined, older: undefined, newest: '/console/audit?client=cl_pager' });
    }
  });

  it('keeps until as a time filter beside before', async () => {
    const r = await callAdmin<{ events: AuditEventView[] }>(t.url, admin, 'GET', `/audit?client=cl_pager&until=${encodeURIComponent(new Date(Date.now() - 120_000).toISOString())}`);
    expect(r.body.events).toEqual([]);
  });
});

describe('hostile values', () => {
  it('refuses a before or after that is not a seq, and client or resource values it cannot hold, with a 400 naming the parameter, never a 500', async () => {
    const seqValues = (p: string) => [`${p}=-1`, `${p}=0`, `${p}=1.5`, `${p}=1e3`, `${p}=abc`, `${p}=`, `${p}=2147483648`, `${p}=99999999999999999999`, `${p}=${'9'.repeat(400)}`, `${p}=%00`, `${p}=1&${p}=2`, `${p}=%2B1`, `${p}=0x10`];
    const queries = [...seqValues('before'), ...seqValues('after'), 'client=', 'client=a%00b', `client=${'c'.repeat(257)}`, 'resource=', 'resource=x%07', `resource=${'r'.repeat(2049)}`];
    for (const q of queries) {
      const r = await callAdmin<{ error?: string; error_description?: string }>(t.url, admin, 'GET', `/audit?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error, q).toBe('invalid_request');
      // The admin API's error says which parameter is wrong.
      expect(r.body.error_description, q).toContain(q.slice(0, q.indexOf('=')));
      // The console leaves empty fields out of its filter (an empty form field means "any").
      if (!q.endsWith('=') && !q.includes('&')) expect((await console_.get(`/console/audit?${q}`)).status, `console ${q}`).toBe(400);
    }
    for (const q of ['before=2147483647', 'after=2147483647', 'after=1&before=2147483647']) {
      expect((await callAdmin<{ events: AuditEventView[] }>(t.url, admin, 'GET', `/audit?${q}&limit=1`)).status, q).toBe(200);
    }
    const bad = await t.cli('audit', 'tail', '--after', '0');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--after must be/);
    // Values that match nothing are answers, not errors: SQL wildcards are literal.
    for (const q of ['client=%25', 'client=_', `resource=${encodeURIComponent("https://x.example/'; DROP TABLE \"AuditEvent\"; --")}`]) {
      const r = await callAdmin<{ events: AuditEventView[] }>(t.url, admin, 'GET', `/audit?${q}`);
      expect(r.status, q).toBe(200);
      expect(r.body.events, q).toEqual([]);
    }
  });
});

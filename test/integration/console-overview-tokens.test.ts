// The console overview's token figures against a real server: tokens of every grant type the
// token endpoint audits (client_credentials, authorization_code, refresh_token, token exchange)
// and refusals, then the rollup rows and the overview page must say exactly what the audit
// trail's records say, counted by the rules the overview always had (issued: token.issued,
// token.refreshed, token.exchanged; refused: token.refused).
import * as openid from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.ts';
import type { RollupRow } from '../../src/db/token-rollup.ts';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE, allowDelegation, createAgent } from '../helpers/agents.ts';
import { tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { consoleSignIn } from '../helpers/console-browser.ts';
import { API, createUser, createWebApp, discover } from '../helpers/people.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { redeem, signInForCode } from '../security/helpers/flows.ts';

const ISSUED = ['token.issued', 'token.refreshed', 'token.exchanged'];
let tdb: TestDatabase;
let t: TestServer;
let db: Database;
let bot: ClientCreds;
let agent: ClientCreds;
let appConfig: openid.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase({ migrated: true });
  t = await startTestServer({ db: tdb });
  await t.cliJson('init', '--demo');
  await t.cliJson('role', 'create', 'coding-agent', '--description', 'AI coding assistants', '--scopes', 'ai.prediction.run');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  agent = await createAgent(t, 'Model Studio Agent', ['coding-agent']);
  appConfig = await discover(t, await createWebApp(t));
  await createUser(t, 'alice@example.com', ['data-scientist']);
  await createUser(t, 'root@example.com', ['govauth-admin']);
  await allowDelegation(t, { agentRole: 'coding-agent', forRole: 'data-scientist', resource: API });
  db = await openDatabase({ kind: tdb.kind, url: tdb.url }, { now: Date.now });
}, 60_000);
afterAll(async () => {
  await db?.close();
  await t?.stop();
  await tdb?.drop();
});

const text = (html: string): string => html.replace(/<[^>]+>/g, ' ').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim();
/** The value of a fact on the page (<dt>label</dt><dd>value</dd>). */
const fact = (html: string, label: string): string | undefined => new RegExp(`<dt>${label}</dt><dd[^>]*>([^<]*)</dd>`).exec(html)?.[1];
/** A titled table's body rows, each as its cells' text. */
function tableRows(html: string, title: string): string[][] {
  const at = html.indexOf(`<caption class="visually-hidden">${title}</caption>`);
  if (at < 0) return [];
  const body = html.slice(at, html.indexOf('</tbody>', at));
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].slice(1).map((m) => [...(m[1] ?? '').matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => text(c[1] ?? '')));
}

/** The counts the audit trail's records give, per dimension and key (the overview's rules). */
async function fromTrail(): Promise<{ grant: Map<string, [number, number]>; client: Map<string, [number, number]>; scope: Map<string, number>; issued: number; refused: number }> {
  const records = await db.prisma.auditEvent.findMany({ where: { action: { in: [...ISSUED, 'token.refused'] } } });
  const grant = new Map<string, [number, number]>();
  const client = new Map<string, [number, number]>();
  const scope = new Map<string, number>();
  const bump = (m: Map<string, [number, number]>, key: string, refused: boolean) => {
    const [i, r] = m.get(key) ?? [0, 0];
    m.set(key, refused ? [i, r + 1] : [i + 1, r]);
  };
  for (const rec of records) {
    const refused = rec.action === 'token.refused';
    const detail = JSON.parse(rec.detail) as { grant_type?: string; scopes?: string[] };
    bump(grant, detail.grant_type ?? '', refused);
    bump(client, rec.clientId ?? '', refused);
    if (!refused) for (const s of detail.scopes ?? []) scope.set(s, (scope.get(s) ?? 0) + 1);
  }
  return { grant, client, scope, issued: records.filter((r) => r.action !== 'token.refused').length, refused: records.filter((r) => r.action === 'token.refused').length };
}

function sumRollup(rows: readonly RollupRow[], dimension: string): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const r of rows.filter((x) => x.dimension === dimension)) {
    const [i, f] = out.get(r.key) ?? [0, 0];
    out.set(r.key, [i + r.issued, f + r.refused]);
  }
  return out;
}

describe('the overview’s token figures', () => {
  it('count every grant type and refusal exactly as the audit trail records them', async () => {
    const cc = { grant_type: 'client_credentials', resource: API };
    for (let i = 0; i < 3; i++) expect((await tokenRequest(t.issuer, cc, { basic: bot })).status).toBe(200);
    // Refusals of an authenticated client are recorded one by one.
    const refused = await tokenRequest(t.issuer, { ...cc, scope: 'ai.no.such.scope' }, { basic: bot });
    expect(refused.status).toBe(400);
    const alice = await redeem(appConfig, await signInForCode(appConfig, 'alice@example.com', 'openid offline_access ai.prediction.run ai.training.read', { prompt: 'consent' }));
    await openid.refreshTokenGrant(appConfig, alice.refresh_token!);
    const exchange = { grant_type: TOKEN_EXCHANGE, subject_token: alice.access_token, subject_token_type: ACCESS_TOKEN_TYPE, resource: API, scope: 'ai.prediction.run' };
    expect((await tokenRequest(t.issuer, exchange, { basic: agent })).status).toBe(200);
    expect((await tokenRequest(t.issuer, { ...exchange, subject_token: 'not.a.token' }, { basic: agent })).status).toBe(400);
    const browser = await consoleSignIn(t, 'root@example.com'); // the console's own sign-in is a token too

    const trail = await fromTrail();
    const rows = (await db.prisma.tokenRollup.findMany()) as RollupRow[];
    expect(sumRollup(rows, 'grant')).toEqual(trail.grant);
    expect(sumRollup(rows, 'client')).toEqual(trail.client);
    expect(new Map([...sumRollup(rows, 'scope')].map(([k, [i]]) => [k, i]))).toEqual(trail.scope);
    // What the requests above were, spelled out.
    expect(trail.grant.get('client_credentials')).toEqual([3, 1]);
    expect(trail.grant.get('refresh_token')).toEqual([1, 0]);
    expect(trail.grant.get(TOKEN_EXCHANGE)).toEqual([1, 1]);
    expect(trail.grant.get('authorization_code')?.[0]).toBe(2); // Alice, the console
    expect(trail.client.get(bot.client_id)).toEqual([3, 1]);
    expect(trail.scope.get('ai.prediction.run')).toBeGreaterThanOrEqual(6);

    const html = await (await browser.get('/console')).text();
    expect(fact(html, 'Tokens issued')).toBe(String(trail.issued));
    expect(fact(html, 'Tokens refused')).toBe(String(trail.refused));
    expect(trail.issued).toBe(7); // 3 client_credentials, 2 authorization_code, 1 refresh, 1 exchange
    expect(new Set(tableRows(html, 'By grant type').map((r) => r.join('|')))).toEqual(new Set([...trail.grant].map(([k, [i, r]]) => `${k}|${i}|${r}`)));
    expect(tableRows(html, 'By client')).toContainEqual(['bot', '3', '1']);
    const scopes = new Map(tableRows(html, 'Top scopes').map(([s, n]) => [s, Number(n)]));
    for (const [s, n] of scopes) expect(trail.scope.get(s ?? '')).toBe(n);
    expect(scopes.get('ai.prediction.run')).toBe(trail.scope.get('ai.prediction.run'));
    expect(tableRows(html, 'Tokens per minute').reduce((n, r) => n + Number(r[1]), 0)).toBe(trail.issued);
    // Each window says where it starts: the bucket holding the instant 24 hours ago.
    expect(text(html)).toMatch(/Counted per six hours: from \d{4}-\d\d-\d\d (00|06|12|18):00:00 UTC, up to 30 hours/);
    expect(text(html)).toMatch(/counted per whole hour: from \d{4}-\d\d-\d\d \d\d:00:00 UTC, up to 25 hours/);
  });
});

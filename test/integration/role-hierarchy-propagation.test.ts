// Two server instances on one database: including a role into another, and taking it out again,
// reaches both instances through the change feed within the stated bound (one poll interval
// plus reload; target ≤ 1 s), for issuance and for introspection of tokens already issued.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, tokenRequest, waitFor, type ClientCreds } from '../helpers/oauth.ts';
import { API, createResourceServer } from '../helpers/people.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let db: TestDatabase;
let a: TestServer;
let b: TestServer;
let bot: ClientCreds;
let rs: ClientCreds;

beforeAll(async () => {
  db = await createTestDatabase();
  const env = { GOVAUTH_POLICY_POLL_MS: '250' };
  a = await startTestServer({ db, env });
  b = await startTestServer({ db, env, masterKey: a.env.GOVAUTH_MASTER_KEY });
  await a.cliJson('init', '--demo');
  await a.cliJson('role', 'create', 'ops-lead', '--scopes', 'ai.prediction.run');
  bot = await a.cliJson<ClientCreds>('client', 'create', '--name', 'ops-bot', '--grant', 'client_credentials', '--roles', 'ops-lead');
  rs = await createResourceServer(a);
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await db?.drop();
});

const scopeAt = async (s: TestServer): Promise<string> => String((await tokenRequest(s.url, { grant_type: 'client_credentials', resource: API }, { basic: bot })).body.scope);
const activeAt = async (s: TestServer, token: string): Promise<boolean> =>
  ((await (await fetch(`${s.url}/token/introspection`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs) }, body: new URLSearchParams({ token }) })).json()) as { active: boolean }).active;

describe('role inclusions across instances', () => {
  it('an inclusion reaches issuance on both instances, and its removal ends the tokens each issued', async () => {
    for (const s of [a, b]) await waitFor(async () => ((await scopeAt(s)) === 'ai.prediction.run' ? true : undefined), 1500);
    await a.cliJson('role', 'include', 'ops-lead', 'auditor');
    for (const s of [a, b]) {
      const { ms } = await waitFor(async () => ((await scopeAt(s)) === 'ai.prediction.run ai.usage.log.read' ? true : undefined), 1500);
      expect(ms).toBeLessThan(1000);
    }
    // Each test instance has its own issuer (its own port), so each judges the tokens it issued.
    const tokens = new Map<TestServer, string>();
    for (const s of [a, b]) {
      const token = String((await tokenRequest(s.url, { grant_type: 'client_credentials', resource: API, scope: 'ai.usage.log.read' }, { basic: bot })).body.access_token);
      expect(await activeAt(s, token)).toBe(true);
      tokens.set(s, token);
    }

    await b.cliJson('role', 'exclude', 'ops-lead', 'auditor');
    for (const s of [a, b]) {
      const { ms } = await waitFor(async () => ((await activeAt(s, tokens.get(s) ?? '')) ? undefined : true), 1500);
      expect(ms).toBeLessThan(1000);
      expect(await scopeAt(s)).toBe('ai.prediction.run');
    }
  });
});

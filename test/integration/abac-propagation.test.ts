// Two server instances on one database (PostgreSQL in CI: NOTIFY plus the poll): activating a
// Cedar policy set, rolling it back and changing a zone reach both within the bound role changes
// have (one poll interval plus reload; target ≤ 1 s), with the production poll interval.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenRequest, waitFor, type ClientCreds } from '../helpers/oauth.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let db: TestDatabase;
let a: TestServer;
let b: TestServer;
let bot: ClientCreds;
const API = 'https://models.example';

beforeAll(async () => {
  db = await createTestDatabase();
  const env = { GOVAUTH_POLICY_POLL_MS: '250' };
  a = await startTestServer({ db, env });
  b = await startTestServer({ db, env, masterKey: a.env.GOVAUTH_MASTER_KEY });
  await a.cliJson('init', '--demo');
  bot = await a.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'admin');
}, 60_000);
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await db?.drop();
});

const scopeOn = async (s: TestServer): Promise<string | undefined> => {
  const r = await tokenRequest(s.url, { grant_type: 'client_credentials', resource: API, scope: 'ai.deploy.manage ai.prediction.run' }, { basic: bot });
  return r.status === 200 ? String(r.body.scope) : undefined;
};

async function onBoth(expected: string): Promise<void> {
  for (const s of [a, b]) {
    const { ms } = await waitFor(async () => ((await scopeOn(s)) === expected ? true : undefined), 1500);
    expect(ms).toBeLessThan(1000);
  }
}

describe('policy activation across instances', () => {
  it('activation, a zone change and a rollback reach both instances within 1 s', async () => {
    await onBoth('ai.deploy.manage ai.prediction.run');
    const dir = mkdtempSync(join(tmpdir(), 'govauth-policies-'));
    writeFileSync(join(dir, 'p.cedar'), 'permit(principal, action, resource);\n@id("deploy-corporate")\nforbid(principal, action == Action::"ai.deploy.manage", resource) unless { context.zones.contains("corporate") };\n');
    await a.cliJson('policy', 'zone', 'set', 'corporate', '--cidrs', '10.0.0.0/8');
    // Applied through instance b's database view, judged on both.
    await b.cliJson('policy', 'apply', dir);
    await onBoth('ai.prediction.run');
    await a.cliJson('policy', 'zone', 'set', 'corporate', '--cidrs', '127.0.0.0/8,::1/128');
    await onBoth('ai.deploy.manage ai.prediction.run');
    await a.cliJson('policy', 'zone', 'set', 'corporate', '--cidrs', '10.0.0.0/8');
    await onBoth('ai.prediction.run');
    await a.cliJson('policy', 'rollback');
    await onBoth('ai.deploy.manage ai.prediction.run');
  });
});

// Two server instances on one database: a change made with the CLI reaches both within the
// stated bound (one poll interval plus reload; target ≤ 1 s) using the production poll
// interval, not a test shortcut.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenRequest, waitFor, type ClientCreds } from '../helpers/oauth.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let db: TestDatabase;
let a: TestServer;
let b: TestServer;
let bot: ClientCreds;

beforeAll(async () => {
  db = await createTestDatabase();
  const env = { GOVAUTH_POLICY_POLL_MS: '250' };
  a = await startTestServer({ db, env });
  b = await startTestServer({ db, env, masterKey: a.env.GOVAUTH_MASTER_KEY });
  await a.cliJson('init', '--demo');
  bot = await a.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'end-user');
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await db?.drop();
});

describe('cross-instance policy propagation', () => {
  it('both instances serve the same signing key', async () => {
    const ka = await (await fetch(`${a.url}/jwks`)).json();
    const kb = await (await fetch(`${b.url}/jwks`)).json();
    expect(ka).toEqual(kb);
  });

  it('sees a new client, a role change and a disabled client on both instances within 1 s', async () => {
    for (const s of [a, b]) {
      const { ms } = await waitFor(async () => ((await tokenRequest(s.url, { grant_type: 'client_credentials' }, { basic: bot })).status === 200 ? true : undefined), 1500);
      expect(ms).toBeLessThan(1000);
    }
    await a.cliJson('role', 'update', 'end-user', '--scopes', 'ai.prediction.run,ai.predictions.execute');
    for (const s of [a, b]) {
      const { ms } = await waitFor(async () => {
        const r = await tokenRequest(s.url, { grant_type: 'client_credentials' }, { basic: bot });
        return r.body.scope === 'ai.prediction.run ai.predictions.execute' ? true : undefined;
      }, 1500);
      expect(ms).toBeLessThan(1000);
    }
    await a.cliJson('client', 'disable', bot.client_id);
    for (const s of [a, b]) {
      const { ms } = await waitFor(async () => ((await tokenRequest(s.url, { grant_type: 'client_credentials' }, { basic: bot })).status === 401 ? true : undefined), 1500);
      expect(ms).toBeLessThan(1000);
    }
  });
});

// A scope grant reaches every instance: two servers on one database, the request approved
// through the CLI (a third process), the agent's token issued by one instance and judged by the
// other, then the grant ended through the other's admin API: the first judges the token
// inactive and issues no more, without a restart (the change feed, src/db/change-feed.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVER_ROLE, startAccessRequestServer } from '../helpers/access-request-fixture.ts';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { basic, tokenRequest, waitFor, type ClientCreds } from '../helpers/oauth.ts';
import { API, createResourceServer } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const SCOPE = 'ai.deploy.manage';
let a: TestServer;
let b: TestServer;
let rs: ClientCreds;
let agent: ClientCreds;

const introspect = async (t: TestServer, jwt: string): Promise<boolean> =>
  ((await (await fetch(`${t.url}/token/introspection`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs) }, body: new URLSearchParams({ token: jwt }) })).json()) as { active: boolean }).active;
const deployToken = (t: TestServer) => tokenRequest(t.url, { grant_type: 'client_credentials', resource: API, scope: SCOPE }, { basic: agent });

beforeAll(async () => {
  a = await startAccessRequestServer({ 'bob@example.com': [APPROVER_ROLE] });
  b = await startTestServer({ db: a.db, masterKey: a.env.GOVAUTH_MASTER_KEY, env: { GOVAUTH_ISSUER: a.issuer } });
  await a.cliJson('requests', 'policy', 'set', '--scope', SCOPE, '--resource', API, '--approver-role', APPROVER_ROLE, '--max', '4h');
  rs = await createResourceServer(a);
  agent = await a.cliJson<ClientCreds>('client', 'create', '--name', 'deploy-agent', '--grant', 'client_credentials', '--roles', 'end-user');
});
afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

describe('a scope grant on two instances', () => {
  it('is honoured and ended on the instance that did not make the change', async () => {
    const filed = await a.cliJson<{ request: { id: string } }>('requests', 'create', '--client', agent.client_id, '--scope', SCOPE, '--resource', API, '--for', '1h', '--justification', 'CHG-40');
    await a.cliJson('requests', 'approve', filed.request.id, '--as', 'bob@example.com');
    // Instance B learns of it from the feed.
    const { value: issued } = await waitFor(async () => {
      const r = await deployToken(b);
      return r.status === 200 ? r : undefined;
    }, 5000);
    expect(issued.body.scope).toBe(SCOPE);
    const jwt = String(issued.body.access_token);
    expect(await introspect(a, jwt)).toBe(true);

    const bots = await createAdminBots(b);
    const ended = await callAdmin(b.url, await tokenFor(b.url, bots.adminBot), 'DELETE', `/clients/${agent.client_id}/scope-grants?resource=${encodeURIComponent(API)}&scope=${SCOPE}`);
    expect(ended.status).toBe(200);
    await waitFor(async () => ((await introspect(a, jwt)) ? undefined : true), 5000);
    expect((await deployToken(a)).body.error).toBe('invalid_scope');
  });
});

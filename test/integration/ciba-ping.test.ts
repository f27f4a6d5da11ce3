// OpenID CIBA in ping mode (§10.2): when Alice decides, govauth POSTs {auth_req_id} to the agent's
// registered https notification endpoint with the agent's client_notification_token as bearer,
// through the outbound fetch rules (https only, the configured CA); the agent then fetches its
// token once. An endpoint that is not https, or a ping client without one, is refused at
// registration; a ping request without a client_notification_token is invalid_request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInToAccount, type AccountBrowser } from '../helpers/account-pages.ts';
import { agentRequestsOnPage, backchannel, decideOnPage, pollOnce } from '../helpers/ciba.ts';
import { startHttpsFixtureServer, type HttpsFixtureServer } from '../helpers/https-fixture-server.ts';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { decodeJwt, waitFor, type ClientCreds } from '../helpers/oauth.ts';
import { API, createUser } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let fixture: HttpsFixtureServer;
let alice: AccountBrowser;
let aliceId: string;

beforeAll(async () => {
  fixture = await startHttpsFixtureServer();
  fixture.serve('/ciba/callback', { status: 204, body: '' });
  t = await startTestServer({ env: { GOVAUTH_CIBA: 'true', GOVAUTH_CIBA_POLL_INTERVAL: '1', GOVAUTH_CIBA_REQUESTS_PER_MINUTE: '3', ...fixture.fetchEnv } });
  await t.cliJson('init', '--demo');
  aliceId = await createUser(t, 'alice@example.com', ['data-scientist']);
  alice = await signInToAccount(t, 'alice@example.com');
});
afterAll(async () => {
  await t?.stop();
  await fixture?.close();
});

describe('CIBA ping mode', () => {
  it('pings the agent with its bearer token when Alice approves; the agent then gets the token', async () => {
    const agent = await t.cliJson<ClientCreds>('client', 'create', '--name', 'Ping Agent', '--ciba', 'ping', '--ciba-notification-endpoint', `${fixture.url}/ciba/callback`);
    const shown = await t.cliJson<{ client: { ciba: unknown } }>('client', 'show', agent.client_id);
    expect(shown.client.ciba).toEqual({ mode: 'ping', notification_endpoint: `${fixture.url}/ciba/callback` });
    // The notification token is required in ping mode (§7.1).
    const without = await backchannel(t.issuer, agent, { scope: 'openid ai.training.read', resource: API, login_hint: 'alice@example.com' });
    expect(without).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    const asked = await backchannel(t.issuer, agent, { scope: 'openid ai.training.read', resource: API, login_hint: 'alice@example.com', client_notification_token: 'agent-secret-8f3a', binding_message: 'ping 1' });
    expect(asked.status).toBe(200);
    const authReqId = String(asked.body.auth_req_id);
    const [id] = (await agentRequestsOnPage(alice)).ids;
    expect((await decideOnPage(alice, id ?? '', 'approve')).status).toBe(303);
    const { value: ping } = await waitFor(() => Promise.resolve(fixture.received('/ciba/callback')[0]), 5000);
    expect(ping).toMatchObject({ method: 'POST', authorization: 'Bearer agent-secret-8f3a', contentType: 'application/json' });
    expect(JSON.parse(ping.body)).toEqual({ auth_req_id: authReqId });
    const token = await pollOnce(t.issuer, agent, authReqId);
    expect(token.status).toBe(200);
    expect(decodeJwt(String(token.body.access_token)).payload).toMatchObject({ sub: aliceId, client_id: agent.client_id, act: { sub: agent.client_id } });
    // Once only (after the poll interval: sooner would be slow_down).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await pollOnce(t.issuer, agent, authReqId)).body.error).toBe('invalid_grant');
  });

  it('a denial is pinged too, and the agent reads access_denied', async () => {
    fixture.serve('/ciba/other', { status: 200, body: {} });
    const agent = await t.cliJson<ClientCreds>('client', 'create', '--name', 'Ping Agent 2', '--ciba', 'ping', '--ciba-notification-endpoint', `${fixture.url}/ciba/other`);
    const asked = await backchannel(t.issuer, agent, { scope: 'openid ai.training.read', resource: API, login_hint: 'alice@example.com', client_notification_token: 'tok-2' });
    const id = (await agentRequestsOnPage(alice)).ids.at(-1) ?? '';
    await decideOnPage(alice, id, 'deny');
    await waitFor(() => Promise.resolve(fixture.received('/ciba/other')[0]), 5000);
    expect((await pollOnce(t.issuer, agent, String(asked.body.auth_req_id))).body.error).toBe('access_denied');
  });

  it('one client cannot flood people: GOVAUTH_CIBA_REQUESTS_PER_MINUTE, whoever it names', async () => {
    const agent = await t.cliJson<ClientCreds>('client', 'create', '--name', 'Eager Agent', '--ciba', 'poll');
    const hints = ['alice@example.com', 'nobody@example.com', 'alice@example.com', 'nobody@example.com'];
    const answers = [];
    for (const login_hint of hints) answers.push(await backchannel(t.issuer, agent, { scope: 'openid ai.training.read', resource: API, login_hint }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers[3]?.body.error).toBe('slow_down');
  });

  it('registration refuses what cannot be pinged safely, by CLI and admin API', async () => {
    for (const args of [
      ['--ciba', 'ping'],
      ['--ciba', 'ping', '--ciba-notification-endpoint', 'http://agent.example/cb'],
      ['--ciba', 'ping', '--ciba-notification-endpoint', 'https://agent.example/cb#fragment'],
      ['--ciba', 'ping', '--ciba-notification-endpoint', 'not a url'],
      ['--ciba', 'poll', '--ciba-notification-endpoint', `${fixture.url}/x`],
      ['--ciba', 'push', '--ciba-notification-endpoint', `${fixture.url}/x`],
      ['--ciba', 'poll', '--public'],
    ]) {
      const r = await t.cli('client', 'create', '--name', 'bad', ...args, '--json');
      expect(r.code, args.join(' ')).not.toBe(0);
    }
    const { adminBot } = await createAdminBots(t);
    const admin = await tokenFor(t.url, adminBot);
    const created = await callAdmin<{ client_id: string }>(t.url, admin, 'POST', '/clients', { name: 'API agent', grants: [], ciba: { mode: 'poll' } });
    expect(created.status).toBe(201);
    const refused = await callAdmin<{ error: string }>(t.url, admin, 'POST', '/clients', { name: 'API agent', grants: [], ciba: { mode: 'ping', notification_endpoint: 'http://x.example' } });
    expect(refused.status).toBe(400);
    const patched = await callAdmin<{ client: { ciba: unknown } }>(t.url, admin, 'PATCH', `/clients/${created.body.client_id}`, { ciba: { mode: 'ping', notification_endpoint: `${fixture.url}/ciba/callback` } });
    expect(patched.body.client.ciba).toEqual({ mode: 'ping', notification_endpoint: `${fixture.url}/ciba/callback` });
    const off = await callAdmin<{ client: { ciba: unknown } }>(t.url, admin, 'PATCH', `/clients/${created.body.client_id}`, { ciba: { mode: 'off' } });
    expect(off.body.client.ciba).toBeNull();
  });
});

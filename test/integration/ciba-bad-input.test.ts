// Hostile and mistaken CIBA requests at /backchannel, each answered with the code CIBA Core §13
// (or RFC 6749 / RFC 8707) names, never a 500, never a request a person would see: a client not
// allowed CIBA, a binding message with control or formatting characters or too long, a missing
// login_hint, id_token_hint and login_hint_token, unknown scopes and resources. A login_hint naming
// nobody, or a disabled person, is answered exactly like one naming Alice (no enumeration): an
// auth_req_id that ends expired_token, and nothing on anyone's page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInToAccount, type AccountBrowser } from '../helpers/account-pages.ts';
import { agentRequestsOnPage, backchannel, pollOnce } from '../helpers/ciba.ts';
import type { ClientCreds } from '../helpers/oauth.ts';
import { API, createUser } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let agent: ClientCreds;
let alice: AccountBrowser;

const ask = (params: Record<string, string>, client = agent) => backchannel(t.issuer, client, { scope: 'openid ai.training.read', resource: API, login_hint: 'alice@example.com', ...params });

beforeAll(async () => {
  t = await startTestServer({ env: { GOVAUTH_CIBA: 'true', GOVAUTH_CIBA_POLL_INTERVAL: '1' } });
  await t.cliJson('init', '--demo');
  await createUser(t, 'alice@example.com', ['data-scientist']);
  await createUser(t, 'carol@example.com', ['data-scientist']);
  await t.cliJson('user', 'disable', 'carol@example.com');
  agent = await t.cliJson<ClientCreds>('client', 'create', '--name', 'Training Agent', '--ciba', 'poll');
  alice = await signInToAccount(t, 'alice@example.com');
});
afterAll(() => t?.stop());

describe('/backchannel refuses', () => {
  it('a client an administrator did not allow CIBA: unauthorized_client', async () => {
    const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
    const r = await ask({}, bot);
    expect(r).toMatchObject({ status: 400, body: { error: 'unauthorized_client' } });
    // Allowed later (audited), withdrawn again: refused again.
    await t.cliJson('client', 'update', bot.client_id, '--ciba', 'poll');
    await t.server.policy.sync();
    expect((await ask({}, bot)).status).toBe(200);
    await t.cliJson('client', 'update', bot.client_id, '--ciba', 'off');
    await t.server.policy.sync();
    expect((await ask({}, bot)).body.error).toBe('unauthorized_client');
    const records = (await t.cliJson<{ events: { subject: string; detail: { before: unknown; after: unknown } }[] }>('audit', 'tail', '--action', 'admin.client.ciba')).events;
    expect(records.map((e) => e.detail.after)).toEqual([{ ciba: { mode: 'poll', notification_endpoint: null } }, { ciba: null }]);
  });

  it('a binding message with control or formatting characters, or over 64 characters: invalid_binding_message', async () => {
    for (const message of ['line\nbreak', 'tab\there', 'bell\u0007', 'rtl \u202Egnp.exe', 'zero\u200Bwidth', 'x'.repeat(65), ' ']) {
      const r = await ask({ binding_message: message });
      expect(r.status, JSON.stringify(message)).toBe(400);
      expect(r.body.error, JSON.stringify(message)).toBe('invalid_binding_message');
    }
    // 64 characters of any script are fine.
    expect((await ask({ binding_message: 'Déploiement № 7 ✓ '.padEnd(64, 'x') })).status).toBe(200);
  });

  it('a missing login_hint, id_token_hint and login_hint_token: invalid_request', async () => {
    const withoutHint = await backchannel(t.issuer, agent, { scope: 'openid ai.training.read', resource: API });
    expect(withoutHint).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    const idTokenHint = await backchannel(t.issuer, agent, { scope: 'openid ai.training.read', resource: API, id_token_hint: 'eyJhbGciOiJSUzI1NiJ9.e30.x' });
    expect(idTokenHint).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    const hintToken = await backchannel(t.issuer, agent, { scope: 'openid ai.training.read', resource: API, login_hint_token: 'eyJhbGciOiJub25lIn0.e30.' });
    expect(hintToken).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    const both = await ask({ login_hint_token: 'x' });
    expect(both).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });

  it('scopes and resources outside the catalogue: invalid_scope, invalid_target', async () => {
    expect((await ask({ scope: 'openid nosuch.scope' })).body.error).toBe('invalid_scope');
    expect((await ask({ resource: 'https://nosuch.example' })).body.error).toBe('invalid_target');
    expect((await ask({ resource: 'not a uri' })).body.error).toBe('invalid_target');
    // Without openid it is not an OpenID CIBA request (§7.1).
    expect((await ask({ scope: 'ai.training.read' })).status).toBe(400);
    // An unauthenticated request is invalid_client.
    expect((await ask({}, { client_id: agent.client_id, client_secret: 'wrong' })).status).toBe(401);
  });
});

describe('no enumeration', () => {
  it('answers an unknown or disabled person like Alice, and the request can only expire', async () => {
    const known = await ask({ requested_expiry: '2' });
    const unknown = await ask({ login_hint: 'nobody@example.com', requested_expiry: '2' });
    const disabled = await ask({ login_hint: 'carol@example.com', requested_expiry: '2' });
    const malformed = await ask({ login_hint: '<script>', requested_expiry: '2' });
    for (const r of [known, unknown, disabled, malformed]) {
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(['auth_req_id', 'expires_in', 'interval']);
      expect(r.body).toMatchObject({ expires_in: 2, interval: 1 });
    }
    for (const r of [known, unknown, disabled]) expect((await pollOnce(t.issuer, agent, String(r.body.auth_req_id))).body.error).toBe('authorization_pending');
    // Only Alice's own request is on her page; nobody's is on anyone's.
    expect((await agentRequestsOnPage(alice)).html).not.toContain('nobody@example.com');
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    for (const r of [known, unknown, disabled]) expect((await pollOnce(t.issuer, agent, String(r.body.auth_req_id))).body.error).toBe('expired_token');
    // The operator's trail says which asked for nobody.
    const requested = (await t.cliJson<{ events: { detail: { person_known: boolean } }[] }>('audit', 'tail', '--action', 'ciba.requested', '--limit', '100')).events;
    expect(requested.filter((e) => !e.detail.person_known).length).toBeGreaterThanOrEqual(3);
  });
});

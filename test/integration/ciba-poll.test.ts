// OpenID CIBA in poll mode, end to end: an agent (openid-client's CIBA functions) asks at
// /backchannel for Alice's approval; the request appears on her approvals page with the agent,
// its binding message and each scope; she approves (or denies) with the page's form; the agent's
// polls get authorization_pending, slow_down when too fast, then the token (sub Alice, client_id
// and act the agent) or access_denied. Every step is in the audit trail.
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInToAccount, type AccountBrowser } from '../helpers/account-pages.ts';
import { decodeJwt, type ClientCreds } from '../helpers/oauth.ts';
import { API, createUser } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let agent: ClientCreds;
let alice: AccountBrowser;
let aliceId: string;

const configFor = (c: ClientCreds) => oidc.discovery(new URL(t.issuer), c.client_id, c.client_secret ?? undefined, undefined, { execute: [oidc.allowInsecureRequests] });

/** The CIBA request ids on Alice's approvals page, in order. */
const pendingOnPage = async (browser: AccountBrowser): Promise<{ html: string; ids: string[] }> => {
  const html = await (await browser.get('/account/approvals')).text();
  return { html, ids: [...html.matchAll(/action="\/account\/agent-requests\/([^"]+)"/g)].map((m) => decodeURIComponent(m[1] ?? '')) };
};

const auditActions = async (action: string) => (await t.cliJson<{ events: { action: string; detail: Record<string, unknown>; subject: string | null }[] }>('audit', 'tail', '--action', action, '--limit', '1000')).events;

beforeAll(async () => {
  t = await startTestServer({ env: { GOVAUTH_CIBA: 'true', GOVAUTH_CIBA_POLL_INTERVAL: '1' } });
  await t.cliJson('init', '--demo');
  aliceId = await createUser(t, 'alice@example.com', ['data-scientist']);
  agent = await t.cliJson<ClientCreds>('client', 'create', '--name', 'Training Agent', '--ciba', 'poll');
  alice = await signInToAccount(t, 'alice@example.com');
});
afterAll(() => t?.stop());

describe('CIBA poll mode', () => {
  it('discovery lists the backchannel endpoint and the poll and ping modes', async () => {
    const meta = (await (await fetch(`${t.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(meta.backchannel_authentication_endpoint).toBe(`${t.issuer}/backchannel`);
    expect(meta.backchannel_token_delivery_modes_supported).toEqual(['poll', 'ping']);
    expect(meta.grant_types_supported).toContain('urn:openid:params:grant-type:ciba');
  });

  it('Alice approves on her page: the agent gets a token for her, acting as itself', async () => {
    const config = await configFor(agent);
    const started = await oidc.initiateBackchannelAuthentication(config, { scope: 'openid ai.training.read', login_hint: 'alice@example.com', binding_message: 'Train run 42', resource: API });
    expect(started.expires_in).toBe(300);
    expect(started.interval).toBe(1);
    // Before she decides: authorization_pending (and slow_down when polled too soon).
    const early = await fetch(`${t.issuer}/token`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${agent.client_id}:${agent.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'urn:openid:params:grant-type:ciba', auth_req_id: started.auth_req_id }) });
    expect(early.status).toBe(400);
    expect(((await early.json()) as { error: string }).error).toBe('authorization_pending');
    const tooSoon = await fetch(`${t.issuer}/token`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${agent.client_id}:${agent.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'urn:openid:params:grant-type:ciba', auth_req_id: started.auth_req_id }) });
    expect(((await tooSoon.json()) as { error: string }).error).toBe('slow_down');

    const page = await pendingOnPage(alice);
    expect(page.ids).toHaveLength(1);
    expect(page.html).toContain('Training Agent');
    expect(page.html).toContain('Train run 42');
    expect(page.html).toContain('Read training datasets and training-run metadata');
    expect(page.html).toContain(API);
    const polling = oidc.pollBackchannelAuthenticationGrant(config, started);
    const csrf = await alice.csrf('/account/approvals');
    const decided = await alice.post(`/account/agent-requests/${encodeURIComponent(page.ids[0] ?? '')}`, { csrf, decision: 'approve' });
    expect(decided.status).toBe(303);
    expect(decided.headers.get('location')).toBe('/account/approvals?agent=approved');
    const tokens = await polling;
    const claims = decodeJwt(tokens.access_token).payload;
    expect(claims).toMatchObject({ sub: aliceId, client_id: agent.client_id, act: { sub: agent.client_id }, aud: API, scope: 'ai.training.read' });
    expect(claims.ciba_request).toBe(page.ids[0]);
    // Introspection accepts it (act names the token's own client, on an approval, not a delegation).
    const rs = await t.cliJson<ClientCreds>('client', 'create', '--name', 'model-api', '--resource', API, '--introspect');
    const intro = (await (await fetch(`${t.issuer}/token/introspection`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${rs.client_id}:${rs.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: tokens.access_token }) })).json()) as Record<string, unknown>;
    expect(intro).toMatchObject({ active: true, sub: aliceId, client_id: agent.client_id, act: { sub: agent.client_id } });
    expect((await pendingOnPage(alice)).ids).toEqual([]);
    const [requested] = await auditActions('ciba.requested');
    expect(requested?.detail).toMatchObject({ client_id: agent.client_id, user_id: aliceId, binding_message: 'Train run 42', scopes: ['openid', 'ai.training.read'], resource: API });
    const [approved] = await auditActions('ciba.approved');
    expect(approved?.detail).toMatchObject({ ciba_request: page.ids[0], decided_by: aliceId, granted_scopes: ['ai.training.read'] });
    // The audit explorer's resource filter finds the request, its approval and the token.
    const forApi = (await t.cliJson<{ events: { action: string }[] }>('audit', 'tail', '--resource', API, '--limit', '1000')).events.map((e) => e.action);
    expect(forApi).toEqual(expect.arrayContaining(['ciba.requested', 'ciba.approved', 'token.issued']));
    // The token's own record names the approval it was issued on.
    const issued = (await auditActions('token.issued')).find((e) => e.detail.jti === claims.jti);
    expect(issued?.detail).toMatchObject({ grant_type: 'urn:openid:params:grant-type:ciba', ciba_request: page.ids[0], sub: aliceId, client_id: agent.client_id });
  });
});

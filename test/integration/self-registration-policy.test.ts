// The trust policy for self-registered clients through the admin API (and the CLI beside it):
// every change audited, applied by the running server at once, and enforced at issuance by the
// one per-scope rule. Also hostile input on the new endpoints.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { API } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let admin: string;
let auditor: string;
let clientId: string;

interface SelfRegistered { client_id: string; trust: string; vetted: boolean; scope_ceiling: string[] | null }

beforeAll(async () => {
  t = await startTestServer({ env: { GOVAUTH_DYNAMIC_REGISTRATION: 'open' } });
  await t.cliJson('init', '--demo');
  const { adminBot, auditorBot } = await createAdminBots(t);
  admin = await tokenFor(t.url, adminBot);
  auditor = await tokenFor(t.url, auditorBot);
  const res = await fetch(`${t.url}/reg`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'Agent', redirect_uris: ['http://127.0.0.1:5000/cb'], token_endpoint_auth_method: 'none' }) });
  clientId = ((await res.json()) as { client_id: string }).client_id;
});
afterAll(() => t.stop());

const ceilingOf = (id: string) => t.server.policy.snapshot().clients.get(id)?.scopeCeiling;

describe('the trust policy', () => {
  it('starts with the default: unknown hosts allowed, no high-sensitivity scope for an unvetted client', async () => {
    const res = await callAdmin<{ policy: unknown }>(t.url, auditor, 'GET', '/self-registration/policy');
    expect(res.body.policy).toEqual({ trusted_hosts: [], allow_unknown_hosts: true, scope_ceiling: null, resource_ceiling: null });
    const ceiling = ceilingOf(clientId);
    expect(ceiling?.has('ai.prediction.run')).toBe(true);
    expect(ceiling?.has('ai.deploy.manage')).toBe(false);
  });

  it('changes by PATCH, audited, applied at once; the auditor may read but not write', async () => {
    const denied = await callAdmin(t.url, auditor, 'PATCH', '/self-registration/policy', { allow_unknown_hosts: false });
    expect(denied.status).toBe(403);
    const res = await callAdmin<{ policy: unknown }>(t.url, admin, 'PATCH', '/self-registration/policy', { add_trusted_hosts: ['*.Example.com', 'mcp.vendor.test'], allow_unknown_hosts: false, scope_ceiling: ['ai.prediction.run'], resource_ceiling: [API] });
    expect(res.status).toBe(200);
    expect(res.body.policy).toEqual({ trusted_hosts: ['*.example.com', 'mcp.vendor.test'], allow_unknown_hosts: false, scope_ceiling: ['ai.prediction.run'], resource_ceiling: [API] });
    expect([...(ceilingOf(clientId) ?? [])]).toEqual(['ai.prediction.run']);
    expect(t.server.policy.snapshot().clients.get(clientId)?.resourceCeiling?.has(API)).toBe(true);
    const audit = await t.cliJson<{ events: { action: string }[] }>('audit', 'tail', '--action', 'admin.self_registration.policy');
    expect(audit.events.length).toBe(1);
    // Back to the default through the CLI.
    const cli = await t.cliJson<{ policy: { scope_ceiling: unknown; resource_ceiling: unknown } }>('client', 'trust-policy', '--default-unvetted-scopes', '--any-resource', '--allow-unknown-hosts');
    expect(cli.policy).toMatchObject({ scope_ceiling: null, resource_ceiling: null });
  });

  it('refuses bad input with 400 and unknown scopes or resources with 404 / 400, never a 500', async () => {
    for (const body of [{ add_trusted_hosts: ['not a host'] }, { add_trusted_hosts: ['*.com'] }, { scope_ceiling: ['Bad Scope'] }, { allow_unknown_hosts: 'yes' }, {}, { extra: 1 }]) {
      expect((await callAdmin(t.url, admin, 'PATCH', '/self-registration/policy', body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await callAdmin(t.url, admin, 'PATCH', '/self-registration/policy', { scope_ceiling: ['no.such.scope'] })).status).toBe(400);
    expect((await callAdmin(t.url, admin, 'PATCH', '/self-registration/policy', { resource_ceiling: ['https://nowhere.example'] })).status).toBe(404);
  });
});

describe("a self-registered client's standing", () => {
  it('restricts, approves and blocks by the admin API; each decision audited and applied at once', async () => {
    const id = encodeURIComponent(clientId);
    const restricted = await callAdmin<{ client: SelfRegistered }>(t.url, admin, 'POST', `/self-registration/clients/${id}/restrict`, { scopes: ['ai.training.read'] });
    expect(restricted.body.client).toMatchObject({ trust: 'restricted', vetted: false, scope_ceiling: ['ai.training.read'] });
    expect([...(ceilingOf(clientId) ?? [])]).toEqual(['ai.training.read']);
    const approved = await callAdmin<{ client: SelfRegistered }>(t.url, admin, 'POST', `/self-registration/clients/${id}/approve`);
    expect(approved.body.client).toMatchObject({ trust: 'approved', vetted: true });
    expect(ceilingOf(clientId)).toBeNull();
    await callAdmin(t.url, admin, 'POST', `/self-registration/clients/${id}/block`);
    expect(t.server.policy.snapshot().clients.get(clientId)?.disabled).toBe(true);
    const list = await callAdmin<{ clients: SelfRegistered[] }>(t.url, auditor, 'GET', '/self-registration/clients');
    expect(list.body.clients.find((c) => c.client_id === clientId)?.trust).toBe('blocked');
    const audit = await t.cliJson<{ events: { action: string }[] }>('audit', 'tail', '--subject', clientId);
    expect(audit.events.map((e) => e.action)).toEqual(expect.arrayContaining(['client.registered', 'admin.client.restrict', 'admin.client.approve', 'admin.client.block']));
  });

  it('answers 404 for an unknown client and 400 for restrict without a ceiling', async () => {
    expect((await callAdmin(t.url, admin, 'POST', '/self-registration/clients/nope/approve')).status).toBe(404);
    expect((await callAdmin(t.url, admin, 'POST', `/self-registration/clients/${encodeURIComponent(clientId)}/restrict`, {})).status).toBe(400);
  });
});

describe('initial access tokens by the admin API', () => {
  it('issues (shown once), lists and revokes', async () => {
    const issued = await callAdmin<{ id: string; token: string; state: string }>(t.url, admin, 'POST', '/self-registration/tokens', { expires_in: '1d', max_uses: 5 });
    expect(issued.status).toBe(201);
    expect(issued.body.token).toMatch(/^govreg_/);
    const list = await callAdmin<{ tokens: { id: string; state: string }[] }>(t.url, auditor, 'GET', '/self-registration/tokens');
    expect(JSON.stringify(list.body)).not.toContain(issued.body.token);
    expect(list.body.tokens.find((x) => x.id === issued.body.id)?.state).toBe('live');
    const revoked = await callAdmin<{ token: { state: string } }>(t.url, admin, 'POST', `/self-registration/tokens/${issued.body.id}/revoke`);
    expect(revoked.body.token.state).toBe('revoked');
    for (const body of [{ expires_in: '1y', max_uses: 1 }, { expires_in: '1d', max_uses: 0 }, { expires_in: 'soon', max_uses: 1 }]) {
      expect((await callAdmin(t.url, admin, 'POST', '/self-registration/tokens', body)).status).toBe(400);
    }
  });
});

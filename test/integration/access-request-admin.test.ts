// Access requests through the admin API, as an operations bot and an auditor call it: policies
// (PUT/DELETE /access-policies/{role}), requests filed for a person or by a client for itself,
// decisions relayed with `as`, and GET /audit/approvals. Hostile input is a 4xx with an error code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import type { ClientCreds } from '../helpers/oauth.ts';
import { startAccessRequestServer } from '../helpers/access-request-fixture.ts';
import type { TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let adminBot: ClientCreds;
let adminToken: string;
let auditorToken: string;

interface Request {
  id: string;
  state: string;
  holder: { type: string; id: string; label: string };
  requested_by: { type: string; id: string };
}
interface ErrorBody {
  error: string;
  error_description: string;
}

const call = <B>(method: string, path: string, body?: unknown, token = adminToken) => callAdmin<B>(t.url, token, method, path, body);
const ask = (body: Record<string, unknown>) => call<{ request: Request } & ErrorBody>('POST', '/access-requests', body);
const decide = (id: string, verb: 'approve' | 'deny', body: Record<string, unknown>) => call<{ request: Request } & ErrorBody>('POST', `/access-requests/${encodeURIComponent(id)}/${verb}`, body);

beforeAll(async () => {
  t = await startAccessRequestServer({ 'alice@example.com': ['end-user'], 'bob@example.com': ['access-approver'], 'carol@example.com': ['access-approver'] });
  const bots = await createAdminBots(t);
  adminBot = bots.adminBot;
  adminToken = await tokenFor(t.url, bots.adminBot);
  auditorToken = await tokenFor(t.url, bots.auditorBot);
});
afterAll(() => t?.stop());

describe('policies', () => {
  it('sets and lists a policy; refuses bad terms, unknown roles and an auditor', async () => {
    const set = await call<{ policy: Record<string, unknown> }>('PUT', '/access-policies/admin', { approver_role: 'access-approver', approvals: 2, max_duration: '8h' });
    expect(set.status).toBe(200);
    expect(set.body.policy).toMatchObject({ role: 'admin', approvals: 2, max_duration: 28_800, lapse_after: 86_400 });
    await call('PUT', '/access-policies/data-scientist', { approver_role: 'access-approver', max_duration: '1d' });
    expect((await call<{ policies: unknown[] }>('GET', '/access-policies', undefined, auditorToken)).body.policies).toHaveLength(2);
    expect((await call<ErrorBody>('PUT', '/access-policies/admin', { approvals: 3 })).status).toBe(400);
    expect((await call<ErrorBody>('PUT', '/access-policies/admin', { max_duration: 'forever' })).status).toBe(400);
    expect((await call<ErrorBody>('PUT', '/access-policies/admin', { surprise: true })).status).toBe(400);
    expect((await call<ErrorBody>('PUT', '/access-policies/nosuch', { approver_role: 'access-approver', max_duration: '1h' })).status).toBe(404);
    expect((await call<ErrorBody>('PUT', '/access-policies/admin', { approver_role: 'nosuch' })).status).toBe(404);
    expect((await call<ErrorBody>('PUT', '/access-policies/admin', { approvals: 1 }, auditorToken)).status).toBe(403);
    expect((await call<ErrorBody>('DELETE', '/access-policies/auditor')).status).toBe(404);
  });
});

describe('requests and decisions', () => {
  it('files for a person; refuses self-approval and a repeat; the second approver grants; the auditor sees who approved', async () => {
    const filed = await ask({ user: 'alice@example.com', role: 'admin', duration: '4h', justification: 'CHG-7 release' });
    expect(filed.status).toBe(201);
    expect(filed.body.request).toMatchObject({ state: 'pending', holder: { label: 'alice@example.com' }, requested_by: { type: 'client', id: adminBot.client_id } });
    const id = filed.body.request.id;
    const noAs = await decide(id, 'approve', {});
    expect(noAs.status).toBe(400);
    expect(noAs.body.error_description).toContain('"as" is required');
    const self = await decide(id, 'approve', { as: 'alice@example.com' });
    expect(self.status).toBe(403);
    expect(self.body).toMatchObject({ error: 'forbidden', error_description: 'nobody may decide their own request or a request for themselves' });
    expect((await decide(id, 'approve', { as: 'bob@example.com', reason: 'on call' })).body.request.state).toBe('pending');
    const again = await decide(id, 'approve', { as: 'bob@example.com' });
    expect(again.status).toBe(409);
    const done = await call<{ request: Request; propagation: { complete: boolean } }>('POST', `/access-requests/${id}/approve`, { as: 'carol@example.com' });
    expect(done.status).toBe(200);
    expect(done.body.request.state).toBe('approved');
    expect(done.body.propagation.complete).toBe(true);
    expect((await decide(id, 'deny', { as: 'carol@example.com' })).status).toBe(409);
    const report = await call<{ grants: { request: string; approvers: { email: string }[]; approvers_distinct_from_requester: boolean }[] }>('GET', '/audit/approvals?user=alice%40example.com', undefined, auditorToken);
    expect(report.status).toBe(200);
    expect(report.body.grants).toEqual([expect.objectContaining({ request: id, approvers_distinct_from_requester: true })]);
    expect(report.body.grants[0]?.approvers.map((a) => a.email)).toEqual(['bob@example.com', 'carol@example.com']);
    const one = await call<{ request: Request }>('GET', `/access-requests/${id}`, undefined, auditorToken);
    expect(one.body.request.state).toBe('approved');
    expect((await call<{ requests: Request[] }>('GET', '/access-requests?pending=true', undefined, auditorToken)).body.requests).toEqual([]);
  });

  it('a client asks for a role for itself with its own token; people approve it', async () => {
    const filed = await ask({ role: 'data-scientist', duration: '2h', justification: 'nightly evaluation run' });
    expect(filed.status).toBe(201);
    expect(filed.body.request).toMatchObject({ holder: { type: 'client', id: adminBot.client_id }, requested_by: { type: 'client', id: adminBot.client_id } });
    const approved = await decide(filed.body.request.id, 'approve', { as: 'bob@example.com' });
    expect(approved.body.request.state).toBe('approved');
    const roles = await call<{ grants: { role: string; expires_at: string | null }[] }>('GET', `/clients/${adminBot.client_id}/roles`);
    expect(roles.body.grants.find((g) => g.role === 'data-scientist')?.expires_at).not.toBeNull();
  });

  it('answers hostile and bad input with a 4xx and an error code, and grants nothing', async () => {
    const cases: [Record<string, unknown>, number][] = [
      [{ user: 'nobody@example.com', role: 'admin', duration: '1h', justification: 'x' }, 404],
      [{ user: 'alice@example.com', role: 'nosuch', duration: '1h', justification: 'x' }, 404],
      [{ user: 'alice@example.com', role: 'auditor', duration: '1h', justification: 'x' }, 400],
      [{ user: 'alice@example.com', role: 'data-scientist', duration: '2d', justification: 'x' }, 400],
      [{ user: 'alice@example.com', role: 'data-scientist', duration: '1h', justification: 'a\u0000b' }, 400],
      [{ user: 'alice@example.com', role: 'data-scientist', duration: '1h', justification: 'x'.repeat(1001) }, 400],
      [{ user: 'alice@example.com', role: 'data-scientist', duration: '1h' }, 400],
      [{ user: 'alice@example.com', client: adminBot.client_id, role: 'data-scientist', duration: '1h', justification: 'x' }, 400],
      [{ user: 'not an email', role: 'data-scientist', duration: '1h', justification: 'x' }, 400],
      [{ user: 'alice@example.com', role: 'Data Scientist', duration: '1h', justification: 'x' }, 400],
      [{ user: 'alice@example.com', role: 'data-scientist', duration: -1, justification: 'x' }, 400],
    ];
    for (const [body, status] of cases) {
      const r = await ask(body);
      expect(r.status, JSON.stringify(body).slice(0, 120)).toBe(status);
      expect(typeof r.body.error).toBe('string');
    }
    for (const id of ['ar_nothing', '%00', 'x'.repeat(1000), '../access-policies']) {
      const r = await decide(id, 'approve', { as: 'bob@example.com' });
      expect([400, 404]).toContain(r.status);
    }
    expect((await call<ErrorBody>('POST', '/access-requests/ar_nothing/approve', { as: 'bob@example.com', extra: 1 })).status).toBe(400);
    expect((await call<ErrorBody>('GET', '/audit/approvals?limit=0', undefined, auditorToken)).status).toBe(400);
    expect((await call<ErrorBody>('POST', '/access-requests', { role: 'admin', duration: '1h', justification: 'x' }, auditorToken)).status).toBe(403);
    const grants = await call<{ grants: { role: string }[] }>('GET', '/users/alice%40example.com/roles');
    expect(grants.body.grants.map((g) => g.role).sort()).toEqual(['admin', 'end-user']);
  });

  it('documents every route in the OpenAPI document', async () => {
    const doc = await call<{ paths: Record<string, unknown> }>('GET', '/openapi.json', undefined, undefined);
    for (const path of ['/access-policies', '/access-policies/{role}', '/access-requests', '/access-requests/{id}', '/access-requests/{id}/approve', '/access-requests/{id}/deny', '/access-requests/{id}/cancel', '/audit/approvals']) {
      expect(Object.keys(doc.body.paths)).toContain(path);
    }
  });
});

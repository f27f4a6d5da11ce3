// Access requests for ONE scope on ONE resource, end to end against a real server and database:
// an agent asks for itself with its own token under govauth.requests, two people approve, the
// agent's client_credentials token then carries the scope (and nothing more), introspection
// follows the grant's end (revocation by an administrator, or expiry), and every step is in the
// audit trail and `govauth audit approvals`. A person asks through the CLI with --as. Hostile
// input is a clear refusal, never a grant nobody approved. CI runs it on SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideAccessRequest } from '../../src/governance/access-requests.ts';
import { expireScopeGrants } from '../../src/governance/scope-grants.ts';
import { APPROVER_ROLE, startAccessRequestServer } from '../helpers/access-request-fixture.ts';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { basic, decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { API, createResourceServer } from '../helpers/people.ts';
import type { TestServer } from '../helpers/test-server.ts';

const SCOPE = 'ai.deploy.manage';
let t: TestServer;
let rs: ClientCreds;
let agent: ClientCreds;
let agentToken: string;
let adminToken: string;
let auditorToken: string;

interface Request {
  id: string;
  state: string;
  role: string | null;
  scope: { name: string; resource: string } | null;
  target: string;
  holder: { type: string; id: string; label: string };
  requested_by: { type: string; id: string };
  grant_expires_at: string | null;
}
interface ErrorBody {
  error: string;
  error_description: string;
}
interface Failure {
  error: string;
  message: string;
}

const call = <B>(method: string, path: string, body?: unknown, token = adminToken) => callAdmin<B>(t.url, token, method, path, body);
const mine = (body: Record<string, unknown>, token = agentToken) => call<{ request: Request } & ErrorBody>('POST', '/my/access-requests', body, token);
const approve = (id: string, as: string) => t.cliJson<{ request: Request }>('requests', 'approve', id, '--as', as);
async function refused(code: number, ...args: string[]): Promise<Failure> {
  const r = await t.cli(...args, '--json');
  expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(code);
  return JSON.parse(r.stderr) as Failure;
}
const deployToken = (creds: ClientCreds) => tokenRequest(t.url, { grant_type: 'client_credentials', resource: API, scope: SCOPE }, { basic: creds });
const introspect = async (jwt: string): Promise<{ active: boolean; scope?: string }> =>
  (await (await fetch(`${t.url}/token/introspection`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs) }, body: new URLSearchParams({ token: jwt }) })).json()) as { active: boolean; scope?: string };
const audit = async (action: string) =>
  (await t.cliJson<{ events: { action: string; actor: string; outcome: string; subject: string; detail: Record<string, unknown> }[] }>('audit', 'tail', '--action', action, '--limit', '1000')).events;

beforeAll(async () => {
  t = await startAccessRequestServer({
    'alice@example.com': ['end-user'],
    'bob@example.com': [APPROVER_ROLE],
    'carol@example.com': [APPROVER_ROLE],
    'erin@example.com': [APPROVER_ROLE],
    'dave@example.com': ['end-user'],
  }, { env: { GOVAUTH_OPERATOR: 'ops-alex' } });
  rs = await createResourceServer(t);
  const bots = await createAdminBots(t);
  adminToken = await tokenFor(t.url, bots.adminBot);
  auditorToken = await tokenFor(t.url, bots.auditorBot);
  // The agent: its own scopes on the model API are end-user's; it may only ask for more (govauth.requests).
  agent = await t.cliJson<ClientCreds>('client', 'create', '--name', 'deploy-agent', '--grant', 'client_credentials', '--roles', 'end-user,govauth-requester', '--admin-access');
  await t.server.policy.sync();
  agentToken = await tokenFor(t.url, agent);
});
afterAll(() => t?.stop());

describe('scope access policies', () => {
  it('are set per resource and scope; unknown resources and scopes not on the resource are refused', async () => {
    const { policy } = await t.cliJson<{ policy: Record<string, unknown> }>('requests', 'policy', 'set', '--scope', SCOPE, '--resource', API, '--approver-role', APPROVER_ROLE, '--approvals', '2', '--max', '4h', '--lapse-after', '1h');
    expect(policy).toMatchObject({ resource: API, scope: SCOPE, approvals: 2, approver_role: APPROVER_ROLE, max_duration: 14_400, lapse_after: 3600 });
    expect((await t.cli('requests', 'policy', 'list')).stdout).toMatch(/https:\/\/models\.example\s+ai\.deploy\.manage\s+required\s+2\s+access-approver\s+4h\s+1h/);
    expect((await audit('admin.scope_access_policy.set')).at(-1)).toMatchObject({ actor: 'ops-alex', subject: `${API} ${SCOPE}` });
    expect((await refused(1, 'requests', 'policy', 'set', '--scope', SCOPE, '--resource', 'https://nowhere.example', '--approver-role', APPROVER_ROLE, '--max', '1h')).error).toBe('not_found');
    expect((await refused(1, 'requests', 'policy', 'set', '--scope', 'govauth.admin', '--resource', API, '--approver-role', APPROVER_ROLE, '--max', '1h')).message).toBe(`resource ${API} has no scope govauth.admin`);
    expect((await refused(2, 'requests', 'policy', 'set', 'admin', '--scope', SCOPE, '--resource', API)).error).toBe('usage_error');
    expect((await refused(2, 'requests', 'policy', 'set', '--scope', SCOPE)).error).toBe('usage_error');
    // The admin API: the same rules, and an auditor may only read.
    expect((await call('PUT', '/scope-access-policies', { resource: API, scope: 'ai.prediction.run', approver_role: APPROVER_ROLE, max_duration: '1h' })).status).toBe(200);
    expect((await call<{ policies: unknown[] }>('GET', '/scope-access-policies', undefined, auditorToken)).body.policies).toHaveLength(2);
    expect((await call('PUT', '/scope-access-policies', { resource: API, scope: 'ai.prediction.run', approvals: 3 })).status).toBe(400);
    expect((await call('PUT', '/scope-access-policies', { resource: API, scope: 'ai.prediction.run', approvals: 1 }, auditorToken)).status).toBe(403);
    expect((await call('DELETE', `/scope-access-policies?resource=${encodeURIComponent(API)}&scope=ai.prediction.run`)).status).toBe(200);
    expect((await call<ErrorBody>('DELETE', `/scope-access-policies?resource=${encodeURIComponent(API)}&scope=ai.prediction.run`)).status).toBe(404);
  });
});

describe('an agent asks for one scope for itself', () => {
  let requestId = '';

  it('files under govauth.requests only for itself; cannot decide, list others or ask for someone else', async () => {
    expect((await deployToken(agent)).body.error).toBe('invalid_scope'); // not held before
    const filed = await mine({ scope: SCOPE, resource: API, duration: '4h', justification: 'deploy model v7 (CHG-12)' });
    expect(filed.status).toBe(201);
    expect(filed.body.request).toMatchObject({ state: 'pending', role: null, scope: { name: SCOPE, resource: API }, target: `scope ${SCOPE} on ${API}`, holder: { type: 'client', id: agent.client_id }, requested_by: { type: 'client', id: agent.client_id } });
    requestId = filed.body.request.id;
    expect((await audit('access_request.requested')).at(-1)).toMatchObject({ actor: agent.client_id, detail: { request: requestId, scope: SCOPE, resource: API, justification: 'deploy model v7 (CHG-12)' } });

    // Only for itself: the body has no holder field, and nothing beyond its own requests.
    expect((await mine({ user: 'alice@example.com', scope: SCOPE, resource: API, duration: '1h', justification: 'x' })).status).toBe(400);
    expect((await mine({ client: 'ops-bot', scope: SCOPE, resource: API, duration: '1h', justification: 'x' })).status).toBe(400);
    expect((await mine({ scope: SCOPE, resource: API, duration: '1h', justification: 'again' })).body).toMatchObject({ error: 'conflict' });
    expect((await mine({ scope: SCOPE, duration: '1h', justification: 'x' })).status).toBe(400);
    expect((await mine({ role: 'admin', scope: SCOPE, resource: API, duration: '1h', justification: 'x' })).status).toBe(400);
    expect((await mine({ scope: 'ai.training.read', resource: API, duration: '1h', justification: 'x' })).body.error_description).toContain('cannot be requested: no access policy');
    expect((await mine({ scope: 'no.such.scope', resource: API, duration: '1h', justification: 'x' })).body.error_description).toBe(`resource ${API} has no scope no.such.scope`);
    expect((await mine({ scope: SCOPE, resource: 'https://nowhere.example', duration: '1h', justification: 'x' })).status).toBe(404);
    expect((await mine({ scope: SCOPE, resource: API, duration: '5h', justification: 'x' })).body.error_description).toContain('at most 4h');
    expect((await call('POST', '/access-requests', { scope: SCOPE, resource: API, duration: '1h', justification: 'x' }, agentToken)).status).toBe(403);
    expect((await call('GET', '/access-requests', undefined, agentToken)).status).toBe(403);
    expect((await call('POST', `/access-requests/${requestId}/approve`, { as: 'bob@example.com' }, agentToken)).status).toBe(403);
    // A client without govauth.requests may not use these routes.
    const denied = await mine({ scope: SCOPE, resource: API, duration: '1h', justification: 'x' }, auditorToken);
    expect(denied.status).toBe(403);
    expect(denied.body.error).toBe('insufficient_scope');
    const listed = await call<{ requests: Request[] }>('GET', '/my/access-requests', undefined, agentToken);
    expect(listed.body.requests.map((r) => r.id)).toEqual([requestId]);
    expect(listed.status).toBe(200);
    // A role for itself, the same way; and it withdraws it.
    await t.cliJson('requests', 'policy', 'set', 'auditor', '--approver-role', APPROVER_ROLE, '--max', '1d');
    const role = await mine({ role: 'auditor', duration: '8h', justification: 'read usage logs for the incident review' });
    expect(role.status).toBe(201);
    expect(role.body.request).toMatchObject({ role: 'auditor', scope: null, target: 'role auditor', holder: { type: 'client', id: agent.client_id } });
    const withdrawn = await call<{ request: Request }>('POST', `/my/access-requests/${role.body.request.id}/cancel`, undefined, agentToken);
    expect(withdrawn.body.request.state).toBe('cancelled');
    expect((await call<ErrorBody>('POST', `/my/access-requests/${role.body.request.id}/cancel`, undefined, agentToken)).body.error).toBe('conflict');
    expect((await audit('access_request.cancelled')).at(-1)).toMatchObject({ actor: agent.client_id, detail: { request: role.body.request.id } });
    // Someone else's request reads as missing.
    const other = await t.cliJson<{ request: Request }>('requests', 'create', '--user', 'dave@example.com', '--scope', SCOPE, '--resource', API, '--for', '1h', '--justification', 'dave');
    expect((await call('POST', `/my/access-requests/${other.request.id}/cancel`, undefined, agentToken)).status).toBe(404);
    await t.cliJson('requests', 'cancel', other.request.id);
  });

  it('two distinct people approve; the token then carries the scope until an administrator ends the grant', async () => {
    const once = await approve(requestId, 'bob@example.com');
    expect(once.request.state).toBe('pending');
    expect((await deployToken(agent)).body.error).toBe('invalid_scope'); // one approval grants nothing
    expect((await refused(1, 'requests', 'approve', requestId, '--as', 'bob@example.com')).message).toContain('a second approval must come from someone else');
    expect((await refused(1, 'requests', 'approve', requestId, '--as', 'dave@example.com')).message).toContain(`does not hold role ${APPROVER_ROLE}, which approves requests for scope ${SCOPE} on ${API}`);
    const done = await approve(requestId, 'carol@example.com');
    expect(done.request.state).toBe('approved');
    expect((await refused(1, 'requests', 'approve', requestId, '--as', 'erin@example.com')).message).toContain('is approved already');

    const issued = await deployToken(agent);
    expect(issued.status).toBe(200);
    expect(issued.body.scope).toBe(SCOPE);
    expect(Number(issued.body.expires_in)).toBeLessThanOrEqual(300); // the scope's own max TTL still applies
    const jwt = String(issued.body.access_token);
    expect(decodeJwt(jwt).payload).toMatchObject({ scope: SCOPE, client_id: agent.client_id, aud: API });
    expect(await introspect(jwt)).toMatchObject({ active: true, scope: SCOPE });
    // The grant is exactly one scope on one resource: nothing else came with it.
    expect((await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API, scope: 'ai.training.read' }, { basic: agent })).body.error).toBe('invalid_scope');

    const shown = await call<{ grants: { resource: string; scope: string; request: string; expires_at: string }[] }>('GET', `/clients/${agent.client_id}/scope-grants`, undefined, auditorToken);
    expect(shown.body.grants).toEqual([expect.objectContaining({ resource: API, scope: SCOPE, request: requestId })]);
    const review = await t.cliJson<{ principals: { id: string; scope_grants: { scope: string }[] }[] }>('review');
    expect(review.principals.find((p) => p.id === agent.client_id)?.scope_grants).toEqual([expect.objectContaining({ scope: SCOPE })]);

    const history = await t.cliJson<{ grants: { request: string; scope: unknown; approvers: { email: string }[]; approvers_distinct_from_requester: boolean }[] }>('audit', 'approvals');
    expect(history.grants.find((g) => g.request === requestId)).toMatchObject({ scope: { name: SCOPE, resource: API }, approvers: [{ email: 'bob@example.com' }, { email: 'carol@example.com' }], approvers_distinct_from_requester: true });
    expect((await t.cli('audit', 'approvals')).stdout).toContain(`scope ${SCOPE} on ${API}`);

    // "Who could access the model API with ai.deploy.manage now?" names the agent and its grant.
    const who = await t.cliJson<{ could_access: { id: string; paths: unknown[]; scope_grants: { request: string; until: string }[] }[] }>('audit', 'access', '--resource', API, '--scope', SCOPE);
    expect(who.could_access.find((p) => p.id === agent.client_id)).toMatchObject({ paths: [], scope_grants: [{ request: requestId }] });
    const shownAt = Date.now();

    // Ended by an administrator: the token in hand is inactive at once, and no new one carries the scope.
    const ended = await call<{ grants: unknown[] }>('DELETE', `/clients/${agent.client_id}/scope-grants?resource=${encodeURIComponent(API)}&scope=${SCOPE}`);
    expect(ended.status).toBe(200);
    expect(ended.body.grants).toEqual([]);
    expect(await introspect(jwt)).toEqual({ active: false });
    expect((await deployToken(agent)).body.error).toBe('invalid_scope');
    expect((await audit('admin.scope_grant.remove')).at(-1)).toMatchObject({ subject: agent.client_id, detail: { scope: SCOPE, resource: API } });
    expect((await call<ErrorBody>('DELETE', `/clients/${agent.client_id}/scope-grants?resource=${encodeURIComponent(API)}&scope=${SCOPE}`)).status).toBe(404);
    // Replayed later: held at that instant until its removal; nobody holds it now.
    const then = await call<{ could_access: { id: string; scope_grants: { until: string }[] }[] }>('GET', `/audit/access?resource=${encodeURIComponent(API)}&scope=${SCOPE}&at=${new Date(shownAt).toISOString()}`, undefined, auditorToken);
    const held = then.body.could_access.find((p) => p.id === agent.client_id)?.scope_grants[0];
    expect(Date.parse(held?.until ?? '')).toBeLessThan(Date.now() + 60_000);
    expect((await t.cliJson<{ could_access: { id: string }[] }>('audit', 'access', '--resource', API, '--scope', SCOPE)).could_access.map((p) => p.id)).not.toContain(agent.client_id);
  });

  it('expires by itself: the token turns inactive at the instant, and the sweep records the expiry', async () => {
    const { body } = await mine({ scope: SCOPE, resource: API, duration: '1h', justification: 'hotfix window' });
    await approve(body.request.id, 'bob@example.com');
    const done = await approve(body.request.id, 'erin@example.com');
    expect(done.request.state).toBe('approved');
    const issued = await deployToken(agent);
    const jwt = String(issued.body.access_token);
    expect(await introspect(jwt)).toMatchObject({ active: true });
    const until = Date.parse(done.request.grant_expires_at ?? '');
    t.advance(until - Date.now() + 1000);
    try {
      expect(await introspect(jwt)).toEqual({ active: false });
      expect((await deployToken(agent)).body.error).toBe('invalid_scope');
    } finally {
      t.advance(-(until - Date.now() + 1000));
    }
    expect(await expireScopeGrants(t.server.db, new Date(until + 1000))).toBe(1);
    expect((await audit('scope_grant.expired')).at(-1)).toMatchObject({ subject: agent.client_id, detail: { scope: SCOPE, resource: API, request: body.request.id } });
  });
});

describe('a person asks for one scope', () => {
  it('refuses self-approval, a request for oneself approved by oneself, beyond the maximum, and a decided request', async () => {
    const r = (await t.cliJson<{ request: Request }>('requests', 'create', '--as', 'alice@example.com', '--scope', SCOPE, '--resource', API, '--for', '2h', '--justification', 'release')).request;
    expect(r).toMatchObject({ state: 'pending', holder: { type: 'user', label: 'alice@example.com' }, requested_by: { type: 'user', id: r.holder.id }, target: `scope ${SCOPE} on ${API}` });
    expect((await refused(1, 'requests', 'approve', r.id, '--as', 'alice@example.com')).message).toBe('nobody may decide their own request or a request for themselves');
    expect((await refused(1, 'requests', 'create', '--as', 'alice@example.com', '--scope', SCOPE, '--resource', API, '--for', '8h', '--justification', 'x')).message).toContain('at most 4h');
    expect((await refused(2, 'requests', 'create', '--as', 'alice@example.com', '--scope', SCOPE, '--for', '1h', '--justification', 'x')).error).toBe('usage_error');
    expect((await t.cli('requests', 'list', '--pending')).stdout).toContain(`scope ${SCOPE} on ${API}`);
    await t.cliJson('requests', 'deny', r.id, '--as', 'bob@example.com', '--reason', 'not this week');
    expect((await refused(1, 'requests', 'approve', r.id, '--as', 'carol@example.com')).message).toContain('is denied already');
    expect((await t.cliJson<{ grants: unknown[] }>('user', 'scope-grants', 'alice@example.com')).grants).toEqual([]);
  });

  it('an approval after the request lapsed grants nothing', async () => {
    const r = (await t.cliJson<{ request: Request }>('requests', 'create', '--as', 'dave@example.com', '--scope', SCOPE, '--resource', API, '--for', '1h', '--justification', 'late')).request;
    // The governance call at an instant past the lapse (the policy lets it wait 1h).
    const later = Date.now() + 3_601_000;
    await expect(decideAccessRequest(t.server.db, r.id, { email: 'bob@example.com' }, { approve: true }, { actorType: 'cli', actor: 'test' }, later, t.server.accessRequests)).rejects.toMatchObject({ code: 'conflict', reason: 'lapsed' });
    expect((await t.cliJson<{ request: Request }>('requests', 'show', r.id)).request.state).toBe('lapsed');
    expect((await t.cliJson<{ grants: unknown[] }>('user', 'scope-grants', 'dave@example.com')).grants).toEqual([]);
  });

  it('two approvers at once on the last approval: one grant, the other told it is decided', async () => {
    const r = (await t.cliJson<{ request: Request }>('requests', 'create', '--user', 'alice@example.com', '--scope', SCOPE, '--resource', API, '--for', '1h', '--justification', 'race')).request;
    await approve(r.id, 'bob@example.com');
    const both = await Promise.all([t.cli('requests', 'approve', r.id, '--as', 'carol@example.com', '--json'), t.cli('requests', 'approve', r.id, '--as', 'erin@example.com', '--json')]);
    expect(both.map((x) => x.code).sort()).toEqual([0, 1]);
    const loser = both.find((x) => x.code === 1);
    expect((JSON.parse(loser?.stderr ?? '{}') as Failure).message).toContain('is approved already');
    const granted = (await audit('access_request.granted')).filter((e) => e.detail.request === r.id);
    expect(granted).toHaveLength(1);
    const grants = (await audit('admin.scope_grant.create')).filter((e) => e.detail.access_request === r.id);
    expect(grants).toHaveLength(1);
    const held = await t.cliJson<{ grants: { scope: string; request: string }[] }>('user', 'scope-grants', 'alice@example.com');
    expect(held.grants).toEqual([expect.objectContaining({ scope: SCOPE, request: r.id })]);
    const ended = await t.cliJson<{ grants: unknown[] }>('user', 'revoke-scope', 'alice@example.com', '--scope', SCOPE, '--resource', API);
    expect(ended.grants).toEqual([]);
  });
});

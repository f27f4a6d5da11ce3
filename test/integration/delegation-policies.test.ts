// Agent clients (token exchange, RFC 8693) and the delegation policies that say which agents may
// act for which people: registered through the real CLI and the real admin API against a running
// server, audited in the same transaction, and in the server's snapshot when the command returns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventView } from '../../src/audit/audit-query.ts';
import type { ClientView } from '../../src/governance/client-registry.ts';
import type { DelegationPolicyView } from '../../src/governance/delegation-policies.ts';
import { TOKEN_EXCHANGE_GRANT, type DelegationPolicyDef } from '../../src/governance/delegation.ts';
import type { ReviewEntry } from '../../src/governance/access-review.ts';
import { callAdmin, createAdminBots, tokenFor, type Answer } from '../helpers/admin-http.ts';
import type { ClientCreds } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const MODELS = 'https://models.example';

let t: TestServer;
let adminToken: string;
let auditorToken: string;

type Body = Partial<{ policy: DelegationPolicyView; policies: DelegationPolicyView[]; removed: DelegationPolicyView; client: ClientView; client_id: string; error: string; error_description: string }>;
const admin = (method: string, path: string, body?: unknown): Promise<Answer<Body>> => callAdmin<Body>(t.url, adminToken, method, path, body);

const tail = async (action: string): Promise<AuditEventView[]> => (await t.cliJson<{ events: AuditEventView[] }>('audit', 'tail', '--action', action, '--limit', '50')).events;
const snapshotPolicy = (id: string): DelegationPolicyDef | undefined => {
  const d = t.server.policy.snapshot().delegations.get(id);
  return d?.kind === 'policy' ? d : undefined;
};

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await t.cliJson('role', 'create', 'coding-agent', '--scopes', '', '--description', 'AI coding agents');
  const bots = await createAdminBots(t);
  adminToken = await tokenFor(t.url, bots.adminBot);
  auditorToken = await tokenFor(t.url, bots.auditorBot);
});
afterAll(() => t?.stop());

describe('agent clients: the token-exchange grant', () => {
  it('registers an agent under the short name, stores the RFC 8693 URN, and lets it hold roles', async () => {
    const agent = await t.cliJson<ClientCreds>('client', 'create', '--name', 'copilot', '--grant', 'token-exchange', '--roles', 'coding-agent');
    expect(agent.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { client } = await t.cliJson<{ client: ClientView }>('client', 'show', agent.client_id);
    expect(client).toMatchObject({ grant_types: ['token-exchange'], roles: [{ role: 'coding-agent', expires_at: null }], public: false });
    // In force when the command returned: the snapshot (what the token endpoint reads) has the URN.
    expect(t.server.policy.snapshot().clients.get(agent.client_id)?.grantTypes).toEqual([TOKEN_EXCHANGE_GRANT]);
    const listed = await t.cli('client', 'list');
    expect(listed.stdout).toMatch(new RegExp(`${agent.client_id}\\s+copilot\\s+token-exchange\\s+coding-agent`));
    const [created] = (await tail('admin.client.create')).filter((e) => e.subject === agent.client_id);
    expect(created?.detail).toMatchObject({ after: { grant_types: ['token-exchange'], roles: [{ role: 'coding-agent' }] } });
  });

  it('combines with client_credentials, and roles can be granted, replaced and revoked on an agent', async () => {
    const agent = await t.cliJson<ClientCreds>('client', 'create', '--name', 'agent-and-bot', '--grant', 'token-exchange,client_credentials');
    expect(t.server.policy.snapshot().clients.get(agent.client_id)?.grantTypes).toEqual([TOKEN_EXCHANGE_GRANT, 'client_credentials']);
    const only = await t.cliJson<ClientCreds>('client', 'create', '--name', 'agent-only', '--grant', 'token-exchange');
    await t.cliJson('client', 'grant-role', only.client_id, 'coding-agent', '--expires-in', '7d');
    expect(t.server.policy.snapshot().clients.get(only.client_id)?.roles.map((r) => r.role)).toEqual(['coding-agent']);
    const updated = await t.cliJson<{ client: ClientView }>('client', 'update', only.client_id, '--roles', 'coding-agent,auditor');
    expect(updated.client.roles.map((r) => r.role)).toEqual(['auditor', 'coding-agent']);
    await t.cliJson('client', 'revoke-role', only.client_id, 'auditor');
    expect(t.server.policy.snapshot().clients.get(only.client_id)?.roles.map((r) => r.role)).toEqual(['coding-agent']);
  });

  it('appears in the access review with its roles, and no scopes of its own', async () => {
    const agent = await t.cliJson<ClientCreds>('client', 'create', '--name', 'reviewed-agent', '--grant', 'token-exchange', '--roles', 'data-scientist');
    const { principals } = await t.cliJson<{ principals: ReviewEntry[] }>('review');
    const entry = principals.find((p) => p.id === agent.client_id);
    expect(entry).toMatchObject({ type: 'client', roles: [{ role: 'data-scientist' }], scopes: [], findings: [] });
  });

  it('refuses a public agent, and roles on apps and resource servers, in words that name the rule', async () => {
    const cases: [string[], RegExp][] = [
      [['--grant', 'token-exchange', '--public'], /public client has no secret.*token-exchange \(an agent must authenticate\)/],
      [['--grant', 'authorization_code', '--redirect-uri', 'https://app.example/cb', '--roles', 'coding-agent'], /roles apply to client_credentials clients .* and token-exchange clients/],
      [['--grant', TOKEN_EXCHANGE_GRANT], /unsupported grant .*token exchange is spelled token-exchange/],
      [['--grant', 'token_exchange'], /unsupported grant "token_exchange": use client_credentials, authorization_code, token-exchange/],
    ];
    for (const [args, message] of cases) {
      const r = await t.cli('client', 'create', '--name', 'refused', ...args, '--json');
      expect(r.code, args.join(' ')).toBe(1);
      expect(JSON.parse(r.stderr)).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(message) as string });
    }
    const app = await t.cliJson<ClientCreds>('client', 'create', '--name', 'web-app', '--grant', 'authorization_code', '--redirect-uri', 'https://app.example/cb');
    for (const args of [['client', 'grant-role', app.client_id, 'coding-agent'], ['client', 'update', app.client_id, '--roles', 'coding-agent']]) {
      const r = await t.cli(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/roles apply to client_credentials clients .* and token-exchange clients/);
    }
  });

  it('is the same through the admin API: short name in, short name out', async () => {
    const created = await admin('POST', '/clients', { name: 'api-agent', grants: ['token-exchange', 'client_credentials'], roles: ['coding-agent'] });
    expect(created.status).toBe(201);
    const shown = await admin('GET', `/clients/${created.body.client_id ?? ''}`);
    expect(shown.body.client).toMatchObject({ grant_types: ['token-exchange', 'client_credentials'], roles: [{ role: 'coding-agent' }] });
    expect(t.server.policy.snapshot().clients.get(created.body.client_id ?? '')?.grantTypes).toEqual([TOKEN_EXCHANGE_GRANT, 'client_credentials']);
    const refused = [
      [{ name: 'x', grants: ['token-exchange'], public: true }, /public: a public client has no secret/],
      [{ name: 'x', grants: ['authorization_code'], redirect_uris: ['https://app.example/cb'], roles: ['coding-agent'] }, /roles: apply to client_credentials clients .* and token-exchange clients/],
      [{ name: 'x', grants: [TOKEN_EXCHANGE_GRANT] }, /grants\.0: /],
    ] as const;
    for (const [body, message] of refused) {
      const r = await admin('POST', '/clients', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error_description).toMatch(message);
    }
  });
});

describe('delegation policies through the CLI', () => {
  let policy: DelegationPolicyView;

  it('allows: prints the policy, records it, and the server applies it before the command returns', async () => {
    policy = (
      await t.cliJson<{ policy: DelegationPolicyView }>(
        'delegation', 'allow', '--agent-role', 'coding-agent', '--for-role', 'data-scientist', '--resource', MODELS,
        '--scopes', 'ai.training.read,ai.prediction.run', '--max-ttl', '10m', '--description', 'Coding agents read training data for data scientists',
      )
    ).policy;
    expect(policy).toEqual({
      id: expect.stringMatching(/^dp_[A-Za-z0-9_-]{22}$/) as string,
      agent_role: 'coding-agent',
      subject_role: 'data-scientist',
      audience: MODELS,
      scopes: ['ai.prediction.run', 'ai.training.read'],
      max_depth: 2,
      max_ttl: 600,
      description: 'Coding agents read training data for data scientists',
      created_at: expect.any(String) as string,
    });
    expect(snapshotPolicy(policy.id)).toEqual({
      kind: 'policy', id: policy.id, agentRole: 'coding-agent', subjectRole: 'data-scientist', audience: MODELS,
      scopes: new Set(['ai.prediction.run', 'ai.training.read']), maxDepth: 2, maxTtl: 600, description: policy.description,
    });
    const [record] = (await tail('admin.delegation_policy.create')).filter((e) => e.subject === policy.id);
    expect(record).toMatchObject({ actor_type: 'cli', outcome: 'success', detail: { before: null, after: policy } });
  });

  it('prints it for people, with every scope of the resource when none are named, and the default depth', async () => {
    const r = await t.cli('delegation', 'allow', '--agent-role', 'coding-agent', '--for-role', 'end-user', '--resource', MODELS, '--max-depth', '1');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^allowed: delegation policy dp_\S+\n {2}agents holding role coding-agent may act for people holding role end-user on https:\/\/models\.example\n {2}scopes: +\(every scope of the resource\)\n {2}max depth: +1 /);
    const id = /dp_\S+/.exec(r.stdout)?.[0] ?? '';
    expect(snapshotPolicy(id)).toMatchObject({ scopes: null, maxDepth: 1, maxTtl: null, description: '' });
    const defaults = await t.cliJson<{ policy: DelegationPolicyView }>('delegation', 'allow', '--agent-role', 'auditor', '--for-role', 'auditor', '--resource', MODELS, '--scopes', 'ai.usage.log.read');
    expect(defaults.policy).toMatchObject({ max_depth: 2, max_ttl: null, description: '' });
  });

  it('refuses an identical policy (409-style conflict), and accepts one that differs', async () => {
    const r = await t.cli('delegation', 'allow', '--agent-role', 'coding-agent', '--for-role', 'data-scientist', '--resource', MODELS, '--scopes', 'ai.prediction.run,ai.training.read', '--max-ttl', '600', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr)).toEqual({ error: 'conflict', message: `delegation policy ${policy.id} already allows exactly this (govauth delegation show ${policy.id})` });
    const deeper = await t.cliJson<{ policy: DelegationPolicyView }>('delegation', 'allow', '--agent-role', 'coding-agent', '--for-role', 'data-scientist', '--resource', MODELS, '--scopes', 'ai.training.read,ai.prediction.run', '--max-ttl', '10m', '--max-depth', '3');
    expect(deeper.policy.id).not.toBe(policy.id);
    await t.cliJson('delegation', 'remove', deeper.policy.id);
  });

  it('lists, filters by resource and by role (agent or person), and shows one', async () => {
    const all = (await t.cliJson<{ policies: DelegationPolicyView[] }>('delegation', 'list')).policies;
    expect(all.map((p) => p.id)).toContain(policy.id);
    const byRole = (await t.cliJson<{ policies: DelegationPolicyView[] }>('delegation', 'list', '--role', 'data-scientist')).policies;
    expect(byRole.map((p) => p.id)).toEqual([policy.id]);
    const byAgentRole = (await t.cliJson<{ policies: DelegationPolicyView[] }>('delegation', 'list', '--role', 'coding-agent', '--resource', MODELS)).policies;
    expect(byAgentRole.map((p) => p.subject_role).sort()).toEqual(['data-scientist', 'end-user']);
    expect((await t.cliJson<{ policies: DelegationPolicyView[] }>('delegation', 'list', '--resource', 'https://elsewhere.example')).policies).toEqual([]);
    const human = await t.cli('delegation', 'list', '--role', 'data-scientist');
    expect(human.stdout).toMatch(new RegExp(`^ID\\s+AGENT ROLE\\s+FOR ROLE\\s+RESOURCE\\s+SCOPES\\s+DEPTH\\s+MAX TTL\\s+DESCRIPTION\\n${policy.id}\\s+coding-agent\\s+data-scientist\\s+https://models.example\\s+ai.prediction.run ai.training.read\\s+2\\s+600s\\s+Coding agents`));
    expect((await t.cliJson<{ policy: DelegationPolicyView }>('delegation', 'show', policy.id)).policy).toEqual(policy);
  });

  it('removes: gone from the snapshot when the command returns, recorded with what it allowed', async () => {
    const r = await t.cliJson<{ removed: DelegationPolicyView; propagation: { complete: boolean } }>('delegation', 'remove', policy.id);
    expect(r.removed).toEqual(policy);
    expect(r.propagation.complete).toBe(true);
    expect(t.server.policy.snapshot().delegations.has(policy.id)).toBe(false);
    const [record] = (await tail('admin.delegation_policy.delete')).filter((e) => e.subject === policy.id);
    expect(record).toMatchObject({ actor_type: 'cli', detail: { before: policy, after: null } });
    const again = await t.cli('delegation', 'remove', policy.id, '--json');
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stderr)).toMatchObject({ error: 'not_found' });
  });
});

describe('delegation policies through the admin API', () => {
  let created: DelegationPolicyView;

  it('creates (201, Location), reads, lists with filters, and removes; each change audited with the calling client', async () => {
    const r = await admin('POST', '/delegation-policies', { agent_role: 'coding-agent', subject_role: 'admin', audience: MODELS, scopes: ['ai.deploy.manage'], max_depth: 1, max_ttl: '5m', description: 'Deploy agents for platform admins' });
    expect(r.status).toBe(201);
    created = r.body.policy as DelegationPolicyView;
    expect(created).toMatchObject({ agent_role: 'coding-agent', subject_role: 'admin', scopes: ['ai.deploy.manage'], max_depth: 1, max_ttl: 300 });
    expect(r.headers.get('location')).toBe(`/admin/v1/delegation-policies/${created.id}`);
    // admin-api.ts syncs before answering: this instance serves it already.
    expect(snapshotPolicy(created.id)).toMatchObject({ maxTtl: 300, scopes: new Set(['ai.deploy.manage']) });

    expect((await admin('GET', `/delegation-policies/${created.id}`)).body.policy).toEqual(created);
    expect((await admin('GET', `/delegation-policies?role=admin&resource=${encodeURIComponent(MODELS)}`)).body.policies).toEqual([created]);
    const seconds = await admin('POST', '/delegation-policies', { agent_role: 'coding-agent', subject_role: 'admin', audience: MODELS, max_ttl: 120, scopes: null });
    expect(seconds.body.policy).toMatchObject({ max_ttl: 120, scopes: null, max_depth: 2 });

    const dup = await admin('POST', '/delegation-policies', { agent_role: 'coding-agent', subject_role: 'admin', audience: MODELS, scopes: ['ai.deploy.manage'], max_depth: 1, max_ttl: 300 });
    expect(dup.status).toBe(409);
    expect(dup.body).toEqual({ error: 'conflict', error_description: expect.stringContaining(created.id) as string });

    const removed = await admin('DELETE', `/delegation-policies/${created.id}`);
    expect(removed.status).toBe(200);
    expect(removed.body.removed).toEqual(created);
    expect(snapshotPolicy(created.id)).toBeUndefined();
    expect((await admin('GET', `/delegation-policies/${created.id}`)).status).toBe(404);
    expect((await admin('DELETE', `/delegation-policies/${created.id}`)).status).toBe(404);

    await t.server.audit.flush();
    const events = [...(await tail('admin.delegation_policy.create')), ...(await tail('admin.delegation_policy.delete'))].filter((e) => e.subject === created.id);
    expect(events.map((e) => [e.action, e.actor_type])).toEqual([['admin.delegation_policy.create', 'admin'], ['admin.delegation_policy.delete', 'admin']]);
  });

  it('lets the auditor read policies and refuses its writes (403)', async () => {
    expect((await callAdmin(t.url, auditorToken, 'GET', '/delegation-policies')).status).toBe(200);
    const r = await callAdmin<Body>(t.url, auditorToken, 'POST', '/delegation-policies', { agent_role: 'coding-agent', subject_role: 'end-user', audience: MODELS });
    expect(r.status).toBe(403);
    expect((await callAdmin(t.url, auditorToken, 'DELETE', '/delegation-policies/dp_whatever')).status).toBe(403);
  });
});

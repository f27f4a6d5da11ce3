// Role hierarchies and separation of duties against a running server, through the real CLI, a
// real sign-in (openid-client) and the admin API: a role's included roles reach real tokens,
// taking an inclusion away ends them at introspection, cycles and exclusive roles are refused
// with a message, and the access review reports violations that existed before a set was declared.
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { basic, decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { API, createResourceServer, createUser, createWebApp, discover } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let rs: ClientCreds;
let app: oidc.Configuration;
let adminToken: string;

interface Failure {
  error: string;
  message: string;
}
interface Problem {
  error: string;
  error_description: string;
}
interface RoleShown {
  name: string;
  scopes: string[];
  effective_scopes: string[];
  includes: { name: string; parent: string; depth: number; scopes: string[] }[];
  included_by: string[];
}

async function refused(...args: string[]): Promise<Failure> {
  const r = await t.cli(...args, '--json');
  expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(1);
  expect(r.stderr).not.toMatch(/\bat .*\.(js|ts):\d+|node_modules/);
  return JSON.parse(r.stderr) as Failure;
}
const introspect = async (token: string): Promise<{ active: boolean; scope?: string }> =>
  (await (await fetch(`${t.url}/token/introspection`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs) }, body: new URLSearchParams({ token }) })).json()) as {
    active: boolean;
    scope?: string;
  };
const admin = <B>(method: string, path: string, body?: unknown) => callAdmin<B>(t.url, adminToken, method, path, body);
const audit = async (action: string) => (await t.cliJson<{ events: { action: string; subject: string; detail: Record<string, unknown> }[] }>('audit', 'tail', '--action', action, '--limit', '100')).events;

beforeAll(async () => {
  t = await startTestServer({ env: { GOVAUTH_OPERATOR: 'ops-alex' } });
  await t.cliJson('init', '--demo');
  rs = await createResourceServer(t);
  app = await discover(t, await createWebApp(t));
  const { adminBot } = await createAdminBots(t);
  adminToken = await tokenFor(t.url, adminBot);
  await t.cliJson('role', 'create', 'ml-lead', '--scopes', 'ai.usage.log.read', '--description', 'Leads the ML team');
  await t.cliJson('role', 'create', 'model-approver', '--scopes', 'ai.usage.log.read');
  await t.cliJson('role', 'create', 'model-deployer', '--scopes', 'ai.predictions.execute');
});
afterAll(() => t?.stop());

describe('role hierarchies', () => {
  it('gives a person holding a role the scopes of the roles it includes, in a real token; excluding it makes that token inactive', async () => {
    await createUser(t, 'lena@example.com', ['ml-lead']);
    const included = await t.cliJson<{ role: RoleShown }>('role', 'include', 'ml-lead', 'data-scientist');
    expect(included.role.effective_scopes).toEqual(['ai.prediction.run', 'ai.training.analyze', 'ai.training.read', 'ai.usage.log.read']);
    await t.server.policy.sync();
    const shown = await t.cliJson<{ effective_scopes: { scope: string; via_roles: string[] }[] }>('user', 'show', 'lena@example.com');
    expect(shown.effective_scopes).toContainEqual({ scope: 'ai.training.read', via_roles: ['data-scientist', 'ml-lead'] });
    expect((await t.cli('user', 'show', 'lena@example.com')).stdout).toContain('scopes: ai.prediction.run ai.training.analyze ai.training.read ai.usage.log.read');

    const tokens = await headlessSignIn(app, 'lena@example.com', 'openid ai.training.read ai.usage.log.read', { extra: { prompt: 'consent' } });
    const claims = decodeJwt(tokens.access_token).payload;
    expect(String(claims.scope).split(' ').sort()).toEqual(['ai.training.read', 'ai.usage.log.read']);
    expect(claims.roles).toEqual(['data-scientist', 'ml-lead']); // the granted role and the one that gave the scope
    expect(await introspect(tokens.access_token)).toMatchObject({ active: true });

    // `audit access` replays the hierarchy from the trail: at this instant Lena could, through ml-lead including data-scientist.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const whileIncluded = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const excluded = await t.cliJson<{ role: RoleShown }>('role', 'exclude', 'ml-lead', 'data-scientist');
    expect(excluded.role.effective_scopes).toEqual(['ai.usage.log.read']);
    await t.server.policy.sync();
    expect(await introspect(tokens.access_token)).toMatchObject({ active: false });
    const again = await headlessSignIn(app, 'lena@example.com', 'openid ai.training.read ai.usage.log.read', { extra: { prompt: 'consent' } });
    expect(decodeJwt(again.access_token).payload.scope).toBe('ai.usage.log.read');

    type Access = { could_access: { name: string; paths: { role: string; included_role?: string }[] }[] };
    const accessAt = (at: string) => t.cliJson<Access>('audit', 'access', '--resource', API, '--scope', 'ai.training.read', '--at', at);
    expect((await accessAt(whileIncluded)).could_access.find((p) => p.name === 'lena@example.com')?.paths).toEqual([expect.objectContaining({ role: 'ml-lead', included_role: 'data-scientist' })]);
    expect((await accessAt(new Date().toISOString())).could_access.find((p) => p.name === 'lena@example.com')).toBeUndefined();
    expect((await t.cli('audit', 'access', '--resource', API, '--scope', 'ai.training.read', '--at', whileIncluded)).stdout).toContain('via role ml-lead (includes data-scientist)');
    const [record] = (await audit('admin.role.exclude')).slice(-1);
    expect(record).toMatchObject({ subject: 'ml-lead', detail: { excluded: 'data-scientist', before: { includes: ['data-scientist'] }, after: { includes: [] } } });
    expect((await audit('admin.role.include')).at(-1)).toMatchObject({ subject: 'ml-lead', detail: { included: 'data-scientist' } });
  });

  it('follows inclusions transitively for a client, and prints the tree', async () => {
    await t.cliJson('role', 'create', 'platform-owner', '--scopes', 'ai.prediction.run');
    await t.cliJson('role', 'include', 'platform-owner', 'ml-lead');
    await t.cliJson('role', 'include', 'ml-lead', 'auditor');
    await t.cliJson('role', 'include', 'ml-lead', 'model-deployer');
    const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'platform-bot', '--grant', 'client_credentials', '--roles', 'platform-owner');
    await t.server.policy.sync();
    const r = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: bot });
    expect(String(r.body.scope).split(' ').sort()).toEqual(['ai.prediction.run', 'ai.predictions.execute', 'ai.usage.log.read']);

    const shown = await t.cli('role', 'show', 'platform-owner');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('role platform-owner: ai.prediction.run');
    expect(shown.stdout).toContain('└─ ml-lead: ai.usage.log.read');
    expect(shown.stdout).toContain('   └─ auditor: ai.usage.log.read');
    expect(shown.stdout).toContain('   └─ model-deployer: ai.predictions.execute');
    expect(shown.stdout).toContain('effective scopes: ai.prediction.run ai.predictions.execute ai.usage.log.read');
    const json = await t.cliJson<{ role: RoleShown }>('role', 'show', 'auditor');
    expect(json.role.included_by).toEqual(['ml-lead', 'platform-owner']);

    // Taking out a role two levels down ends the client's token too.
    const token = String(r.body.access_token);
    expect((await introspect(token)).active).toBe(true);
    await t.cliJson('role', 'exclude', 'ml-lead', 'model-deployer');
    await t.server.policy.sync();
    expect((await introspect(token)).active).toBe(false);
  });

  it('refuses a cycle, naming it, and bad or unknown roles, without a stack trace', async () => {
    const cycle = await refused('role', 'include', 'auditor', 'platform-owner');
    expect(cycle.error).toBe('conflict');
    expect(cycle.message).toBe('including platform-owner in auditor would make a cycle: auditor → platform-owner → ml-lead → auditor (role inclusions must not loop)');
    expect((await refused('role', 'include', 'auditor', 'auditor')).message).toContain('cycle: auditor → auditor');
    expect((await refused('role', 'include', 'ml-lead', 'auditor')).message).toBe('role ml-lead already includes auditor');
    expect((await refused('role', 'include', 'ml-lead', 'nosuch')).message).toBe('no role named nosuch');
    expect((await refused('role', 'include', 'ml-lead', 'Bad Name')).error).toBe('invalid_request');
    expect((await refused('role', 'exclude', 'ml-lead', 'end-user')).message).toBe('role ml-lead does not include end-user');
    expect((await refused('role', 'show', 'nosuch')).error).toBe('not_found');
    const usage = await t.cli('role', 'include', 'ml-lead');
    expect(usage.code).toBe(2);
  });

  it('is in the admin API, with 409 for a cycle and 400 with a problem for hostile input', async () => {
    const put = await admin<{ role: RoleShown }>('PUT', '/roles/end-user/includes/auditor');
    expect(put.status).toBe(200);
    expect(put.body.role.effective_scopes).toEqual(['ai.prediction.run', 'ai.usage.log.read']);
    const shown = await admin<{ role: RoleShown }>('GET', '/roles/platform-owner/hierarchy');
    expect(shown.body.role.includes.map((n) => `${n.depth}:${n.name}`)).toEqual(['1:ml-lead', '2:auditor']);
    const cycle = await admin<Problem>('PUT', '/roles/auditor/includes/end-user');
    expect(cycle.status).toBe(409);
    expect(cycle.body.error_description).toContain('cycle: auditor → end-user → auditor');
    for (const path of ['/roles/%00/includes/auditor', `/roles/${'a'.repeat(300)}/includes/auditor`, '/roles/end-user/includes/..%2F..', '/roles/end-user/includes/%E0%A4%A']) {
      const r = await admin<Problem>('PUT', path);
      expect(r.status, path).toBe(400);
      expect(r.body.error).toBe('invalid_request');
      expect(r.body.error_description).not.toMatch(/\bat .*\.(js|ts):\d+/);
    }
    expect((await admin<Failure>('PUT', '/roles/nosuch/includes/auditor')).status).toBe(404);
    expect((await admin<Failure>('GET', '/roles/nosuch/hierarchy')).status).toBe(404);
    expect((await admin<Failure>('DELETE', '/roles/end-user/includes/auditor')).status).toBe(200);
    expect((await admin<Failure>('DELETE', '/roles/end-user/includes/auditor')).status).toBe(404);
    const doc = (await (await fetch(`${t.url}/admin/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/roles/{name}/includes/{included}', '/roles/{name}/hierarchy', '/exclusive-role-sets', '/exclusive-role-sets/{name}']));
  });
});

describe('mutually exclusive roles (separation of duties)', () => {
  it('declares a set, warning about and reviewing holders who already violate it', async () => {
    await createUser(t, 'pre@example.com', ['model-approver', 'model-deployer']);
    await t.cliJson('role', 'create', 'ops-lead', '--scopes', 'ai.prediction.run');
    await t.cliJson('role', 'include', 'ops-lead', 'model-deployer');
    const preBot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'pre-bot', '--grant', 'client_credentials', '--roles', 'ops-lead,model-approver');
    const r = await t.cli('role', 'exclusive', 'add', 'model-approver', 'model-deployer', '--name', 'sod-deploy', '--reason', 'four eyes on releases');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('declared set sod-deploy: model-approver, model-deployer (four eyes on releases)');
    expect(r.stdout).toContain('WARNING: 2 existing violation(s)');
    // The client reaches model-deployer through ops-lead.
    expect(r.stdout).toContain(`client ${preBot.client_id} holds model-approver and model-deployer (through ops-lead)`);
    expect(r.stdout).toContain('person pre@example.com holds model-approver and model-deployer, which are mutually exclusive (set sod-deploy: four eyes on releases)');
    const review = await t.cliJson<{ principals: { name: string; findings: { kind: string; set?: string; roles?: string[] }[] }[] }>('review', '--findings-only');
    expect(review.principals.find((p) => p.name === 'pre@example.com')?.findings).toContainEqual(expect.objectContaining({ kind: 'exclusive_roles_held', set: 'sod-deploy', roles: ['model-approver', 'model-deployer'] }));
    expect(review.principals.find((p) => p.name === 'pre-bot')?.findings).toContainEqual(expect.objectContaining({ kind: 'exclusive_roles_held', set: 'sod-deploy' }));
    expect((await t.cli('review')).stdout).toContain('FINDING exclusive_roles_held: person pre@example.com holds model-approver and model-deployer');
    expect((await audit('admin.exclusive_roles.create')).at(-1)).toMatchObject({ subject: 'sod-deploy', detail: { existing_violations: [{ principal: 'pre@example.com' }, { principal: preBot.client_id }] } });
    // A pre-existing violation does not block unrelated changes to the same person.
    expect((await t.cli('user', 'grant-role', 'pre@example.com', 'end-user')).code).toBe(0);
    const listed = await t.cliJson<{ sets: { name: string }[]; violations: { principal: string }[] }>('role', 'exclusive', 'list');
    expect(listed.sets.map((s) => s.name)).toEqual(['sod-deploy']);
    expect(listed.violations.map((v) => v.principal)).toEqual(['pre@example.com', preBot.client_id]);
    expect((await refused('role', 'exclusive', 'add', 'model-approver', 'model-deployer', '--name', 'sod-deploy')).error).toBe('conflict');
    expect((await refused('role', 'exclusive', 'add', 'model-approver', 'model-approver')).message).toContain('at least two different roles');
    expect((await refused('role', 'exclusive', 'add', 'model-approver', 'nosuch')).message).toContain('unknown role(s): nosuch');
  });

  it('refuses a direct grant, a time-boxed grant and a role list that would break it, naming the role and the set', async () => {
    await createUser(t, 'ann@example.com', ['model-approver']);
    const direct = await refused('user', 'grant-role', 'ann@example.com', 'model-deployer');
    expect(direct.error).toBe('conflict');
    expect(direct.message).toContain('ann@example.com cannot hold model-deployer: that would give them model-approver and model-deployer, which are mutually exclusive (set sod-deploy: four eyes on releases)');
    expect((await refused('user', 'grant-role', 'ann@example.com', 'model-deployer', '--expires-in', '2h')).message).toContain('set sod-deploy');
    expect((await refused('user', 'update', 'ann@example.com', '--roles', 'model-approver,model-deployer')).message).toContain('set sod-deploy');
    const create = await t.cliWithStdin('correct horse battery staple\n', 'user', 'create', 'both@example.com', '--password-stdin', '--roles', 'model-approver,model-deployer', '--json');
    expect(create.code).toBe(1);
    expect(create.stderr).toContain('set sod-deploy');
    expect((await refused('client', 'create', '--name', 'both-bot', '--grant', 'client_credentials', '--roles', 'model-approver,model-deployer')).message).toContain('set sod-deploy');
    const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'deploy-bot', '--grant', 'client_credentials', '--roles', 'model-deployer');
    expect((await refused('client', 'grant-role', bot.client_id, 'model-approver', '--expires-in', '1h')).message).toContain(`${bot.client_id} cannot hold model-approver`);
    const roles = await t.cliJson<{ grants: { role: string }[] }>('user', 'roles', 'ann@example.com');
    expect(roles.grants.map((g) => g.role)).toEqual(['model-approver']);
    // Time-boxed grants count while in force: a temporary deployer cannot become an approver.
    await createUser(t, 'tim@example.com', ['end-user']);
    await t.cliJson('user', 'grant-role', 'tim@example.com', 'model-deployer', '--expires-in', '1h');
    expect((await refused('user', 'grant-role', 'tim@example.com', 'model-approver')).message).toContain('set sod-deploy');
  });

  it('counts roles reached through the hierarchy, for grants and for new inclusions', async () => {
    await t.cliJson('role', 'create', 'release-manager', '--scopes', 'ai.prediction.run');
    await t.cliJson('role', 'include', 'release-manager', 'model-deployer');
    const via = await refused('user', 'grant-role', 'ann@example.com', 'release-manager');
    expect(via.message).toContain('ann@example.com cannot hold release-manager: that would give them model-approver and model-deployer (through release-manager), which are mutually exclusive (set sod-deploy');
    // A role may not itself reach two roles of a set.
    const own = await refused('role', 'include', 'release-manager', 'model-approver');
    expect(own.message).toContain('would make every holder of release-manager hold model-approver (through release-manager) and model-deployer (through release-manager)');
    // Nor may an inclusion give an existing holder the other role.
    await t.cliJson('role', 'create', 'reviewer', '--scopes', 'ai.usage.log.read');
    await createUser(t, 'rex@example.com', ['reviewer', 'release-manager']);
    const holder = await refused('role', 'include', 'reviewer', 'model-approver');
    expect(holder.message).toContain('including model-approver in reviewer would make rex@example.com hold model-approver (through reviewer) and model-deployer (through release-manager)');
    expect((await t.cliJson<{ role: RoleShown }>('role', 'show', 'reviewer')).role.includes).toEqual([]);
  });

  it('refuses an access-request approval that would break it (the request stays pending), and a request that could never be granted', async () => {
    await t.cliJson('role', 'create', 'access-approver', '--scopes', 'ai.usage.log.read');
    await createUser(t, 'boss@example.com', ['access-approver']);
    await t.cliJson('requests', 'policy', 'set', 'model-deployer', '--approver-role', 'access-approver', '--max', '8h');
    await createUser(t, 'pia@example.com', ['end-user']);
    const filed = await refused('requests', 'create', '--user', 'ann@example.com', '--role', 'model-deployer', '--for', '2h', '--justification', 'release 7');
    expect(filed.message).toContain('set sod-deploy');
    const { request } = await t.cliJson<{ request: { id: string; state: string } }>('requests', 'create', '--user', 'pia@example.com', '--role', 'model-deployer', '--for', '2h', '--justification', 'release 7');
    // After filing, pia becomes an approver: approving would now break the set.
    await t.cliJson('user', 'grant-role', 'pia@example.com', 'model-approver');
    const approval = await refused('requests', 'approve', request.id, '--as', 'boss@example.com');
    expect(approval.message).toContain('pia@example.com cannot hold model-deployer: that would give them model-approver and model-deployer');
    const shown = await t.cliJson<{ request: { state: string; decisions: unknown[] } }>('requests', 'show', request.id);
    expect(shown.request.state).toBe('pending');
    expect(shown.request.decisions).toEqual([]);
    expect((await t.cliJson<{ grants: { role: string }[] }>('user', 'roles', 'pia@example.com')).grants.map((g) => g.role)).toEqual(['end-user', 'model-approver']);

    // The approver role counts when held through an inclusion too.
    await t.cliJson('role', 'create', 'head-of-ml', '--scopes', 'ai.usage.log.read');
    await t.cliJson('role', 'include', 'head-of-ml', 'access-approver');
    await createUser(t, 'hope@example.com', ['head-of-ml']);
    await createUser(t, 'quinn@example.com', ['end-user']);
    const q = await t.cliJson<{ request: { id: string } }>('requests', 'create', '--user', 'quinn@example.com', '--role', 'model-deployer', '--for', '2h', '--justification', 'release 8');
    expect((await t.cliJson<{ request: { state: string } }>('requests', 'approve', q.request.id, '--as', 'hope@example.com')).request.state).toBe('approved');
    expect((await refused('requests', 'approve', request.id, '--as', 'quinn@example.com')).message).toContain('does not hold role access-approver');
  });

  it('is in the admin API, with 400 and a problem for hostile input', async () => {
    const created = await admin<{ set: { name: string }; violations: unknown[] }>('POST', '/exclusive-role-sets', { roles: ['auditor', 'data-scientist'], reason: 'auditors audit' });
    expect(created.status).toBe(201);
    expect(created.body.set.name).toBe('sod-auditor-data-scientist');
    // ml-lead no longer includes data-scientist, but platform-owner → ml-lead → auditor holders must not gain data-scientist.
    const sod = await admin<Problem>('PUT', '/roles/ml-lead/includes/data-scientist');
    expect(sod.status).toBe(409);
    expect(sod.body.error_description).toContain('set sod-auditor-data-scientist: auditors audit');
    for (const body of [
      { roles: ['auditor'] },
      { roles: [] },
      { roles: 'auditor,end-user' },
      { roles: ['auditor', 'end-user'], extra: 1 },
      { roles: ['auditor', 'BAD ROLE'] },
      { roles: Array.from({ length: 21 }, (_, i) => `r${i}`) },
      { roles: ['auditor', 'end-user'], name: '../x' },
      { roles: ['auditor', 'end-user'], reason: 'x'.repeat(501) },
      { roles: ['auditor', 'end-user'], reason: 'nul\u0000' },
      { roles: ['auditor', 'nosuch'] },
    ]) {
      const r = await admin<Problem>('POST', '/exclusive-role-sets', body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.body.error).toBe('invalid_request');
      expect(r.body.error_description).toBeTruthy();
    }
    expect((await admin<Failure>('POST', '/exclusive-role-sets', { roles: ['auditor', 'data-scientist'] })).status).toBe(409);
    const listed = await admin<{ sets: { name: string }[] }>('GET', '/exclusive-role-sets');
    expect(listed.body.sets.map((s) => s.name)).toEqual(['sod-auditor-data-scientist', 'sod-deploy']);
    expect((await admin('DELETE', '/exclusive-role-sets/sod-auditor-data-scientist')).status).toBe(200);
    expect((await admin<Failure>('DELETE', '/exclusive-role-sets/sod-auditor-data-scientist')).status).toBe(404);
    expect((await audit('admin.exclusive_roles.remove')).at(-1)).toMatchObject({ subject: 'sod-auditor-data-scientist' });
  });
});

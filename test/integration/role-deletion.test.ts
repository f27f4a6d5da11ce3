// Deleting a role against two running instances on one database (SQLite, or PostgreSQL with
// DATABASE_URL), through the admin API, the real CLI and the console: refused (409, naming the
// uses) while the role is held, included, named by a delegation or access policy, or built in;
// with force, holders lose it and a live token carrying it turns inactive on both instances;
// nothing naming the role is left behind; hostile input answers 4xx, never 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountBrowser } from '../helpers/account-pages.ts';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { consoleSignIn } from '../helpers/console-browser.ts';
import { basic, tokenRequest, waitFor, type ClientCreds } from '../helpers/oauth.ts';
import { API, createResourceServer, createUser } from '../helpers/people.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let db: TestDatabase;
let a: TestServer;
let b: TestServer;
let rs: ClientCreds;
let adminToken: string;
let auditorToken: string;

interface Problem {
  error: string;
  error_description: string;
}
interface Deleted {
  name: string;
  scopes: string[];
  holders: { people: number; clients: number };
  removed: { included_by: string[]; includes: string[]; delegation_policies: string[]; access_policy: boolean; approver_of: string[]; exclusive_sets: string[] };
  forced: boolean;
  revoked: { cutoff: string; expires_at: string };
}

const admin = <B>(method: string, path: string, token = adminToken) => callAdmin<B>(a.url, token, method, path);
const del = (name: string, force?: string) => admin<{ deleted: Deleted } & Problem>('DELETE', `/roles/${encodeURIComponent(name)}${force === undefined ? '' : `?force=${force}`}`);
const roleNames = async (): Promise<string[]> => (await a.cliJson<{ roles: { name: string }[] }>('role', 'list')).roles.map((r) => r.name);
const activeAt = async (s: TestServer, token: string): Promise<boolean> =>
  ((await (await fetch(`${s.url}/token/introspection`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs) }, body: new URLSearchParams({ token }) })).json()) as { active: boolean }).active;
const audit = async (action: string) => (await a.cliJson<{ events: { action: string; subject: string; detail: Record<string, unknown> }[] }>('audit', 'tail', '--action', action, '--limit', '50')).events;
const auditOf = async (action: string, subject: string) => (await audit(action)).filter((e) => e.subject === subject);

async function expectRefused(name: string, pattern: RegExp): Promise<void> {
  const res = await del(name);
  expect(res.status, JSON.stringify(res.body)).toBe(409);
  expect(res.body.error_description).toMatch(pattern);
  expect(await roleNames()).toContain(name);
}

beforeAll(async () => {
  db = await createTestDatabase();
  const env = { GOVAUTH_POLICY_POLL_MS: '250' };
  a = await startTestServer({ db, env });
  b = await startTestServer({ db, env, masterKey: a.env.GOVAUTH_MASTER_KEY });
  await a.cliJson('init', '--demo');
  rs = await createResourceServer(a);
  const { adminBot, auditorBot } = await createAdminBots(a);
  adminToken = await tokenFor(a.url, adminBot);
  auditorToken = await tokenFor(a.url, auditorBot);
  for (const name of ['held-by-person', 'held-by-client', 'included', 'delegating-agent', 'requestable', 'approving', 'unused', 'forced', 'cli-role', 'console-role']) {
    await a.cliJson('role', 'create', name, '--scopes', 'ai.usage.log.read');
  }
}, 60_000);
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await db?.drop();
});

describe('deleting a role is refused while it is in use', () => {
  it('held by a person, naming them', async () => {
    await createUser(a, 'rita@example.com', ['held-by-person']);
    await expectRefused('held-by-person', /^role held-by-person is still in use: held by 1 person \(rita@example\.com\)\. Remove those first, or delete it with force/);
  });

  it('held by a client for a limited time', async () => {
    const bot = await a.cliJson<ClientCreds>('client', 'create', '--name', 'temp-bot', '--grant', 'client_credentials');
    await a.cliJson('client', 'grant-role', bot.client_id, 'held-by-client', '--expires-in', '2h');
    await expectRefused('held-by-client', new RegExp(`held by 1 client \\(${bot.client_id}\\)`));
  });

  it('included by another role', async () => {
    await a.cliJson('role', 'include', 'data-scientist', 'included');
    await expectRefused('included', /included by role data-scientist/);
  });

  it('named by a delegation policy', async () => {
    const { policy } = await a.cliJson<{ policy: { id: string } }>('delegation', 'allow', '--agent-role', 'delegating-agent', '--for-role', 'end-user', '--resource', API);
    await expectRefused('delegating-agent', new RegExp(`named by delegation policy ${policy.id}`));
  });

  it('requestable under an access policy, or the approver role of one', async () => {
    await a.cliJson('requests', 'policy', 'set', 'requestable', '--approver-role', 'approving', '--max', '4h');
    await expectRefused('requestable', /requestable under an access policy/);
    await expectRefused('approving', /the approver role of the access policy for role requestable/);
  });

  it('the CLI says so with exit status 1 and how to go on; nothing changed', async () => {
    const r = await a.cli('role', 'delete', 'held-by-person');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/held by 1 person \(rita@example\.com\).*\(run it again with --force\)/);
    expect(r.stderr).not.toMatch(/\bat .*\.(js|ts):\d+|node_modules/);
    expect(await roleNames()).toContain('held-by-person');
  });

  it('a built-in role, even with force, through the API and the CLI', async () => {
    for (const name of ['govauth-admin', 'govauth-auditor', 'govauth-requester']) {
      const res = await del(name, 'true');
      expect(res.status).toBe(409);
      expect(res.body.error_description).toMatch(new RegExp(`^role ${name} is built in: .* cannot be deleted \\(with or without force\\)`));
    }
    const r = await a.cli('role', 'delete', 'govauth-admin', '--force');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is built in');
    expect(await roleNames()).toEqual(expect.arrayContaining(['govauth-admin', 'govauth-auditor', 'govauth-requester']));
  });
});

describe('deleting a role', () => {
  it('an unused one goes with its scopes, the edges from it and its exclusive set; audited with the state before', async () => {
    await a.cliJson('role', 'include', 'unused', 'auditor');
    await a.cliJson('role', 'exclusive', 'add', 'unused', 'end-user', '--name', 'unused-vs-user');
    await a.cliJson('role', 'exclusive', 'add', 'unused', 'end-user', '--also', 'data-scientist', '--name', 'three-way');
    const res = await del('unused');
    expect(res.status).toBe(200);
    expect(res.body.deleted).toMatchObject({ name: 'unused', scopes: ['ai.usage.log.read'], holders: { people: 0, clients: 0 }, forced: false, removed: { includes: ['auditor'], exclusive_sets: ['three-way', 'unused-vs-user'] } });
    expect(await roleNames()).not.toContain('unused');
    // The two-role set constrains nothing now and is withdrawn; the three-role set keeps the other two.
    const sets = (await a.cliJson<{ sets: { name: string; roles: string[] }[] }>('role', 'exclusive', 'list')).sets;
    expect(sets.map((s) => s.name)).not.toContain('unused-vs-user');
    expect(sets.find((s) => s.name === 'three-way')?.roles).toEqual(['data-scientist', 'end-user']);
    expect((await a.cli('role', 'show', 'unused')).code).toBe(1);
    const [event, ...more] = await auditOf('admin.role.delete', 'unused');
    expect(more).toEqual([]);
    expect(event).toMatchObject({ detail: { before: { name: 'unused', scopes: ['ai.usage.log.read'], holders: { people: 0, clients: 0 } }, after: null, forced: false } });
    // The same name can be defined again, from nothing.
    await a.cliJson('role', 'create', 'unused', '--scopes', 'ai.prediction.run');
    expect((await a.cliJson<{ role: { includes: unknown[] } }>('role', 'show', 'unused')).role.includes).toEqual([]);
  });

  it('with force: holders lose it and a live token carrying it turns inactive on this instance at once and on the other within a second', async () => {
    const bot = await a.cliJson<ClientCreds>('client', 'create', '--name', 'forced-bot', '--grant', 'client_credentials', '--roles', 'forced');
    await createUser(a, 'fred@example.com', ['forced', 'end-user']);
    await a.cliJson('role', 'include', 'auditor', 'forced');
    const tokens = new Map<TestServer, string>();
    for (const s of [a, b]) {
      await waitFor(async () => ((await tokenRequest(s.url, { grant_type: 'client_credentials', resource: API }, { basic: bot })).status === 200 ? true : undefined), 1500);
      const token = String((await tokenRequest(s.url, { grant_type: 'client_credentials', resource: API, scope: 'ai.usage.log.read' }, { basic: bot })).body.access_token);
      expect(await activeAt(s, token)).toBe(true);
      tokens.set(s, token);
    }
    const res = await del('forced', 'true');
    expect(res.status).toBe(200);
    expect(res.body.deleted).toMatchObject({ holders: { people: 1, clients: 1 }, forced: true, removed: { included_by: ['auditor'] } });
    expect(await activeAt(a, tokens.get(a) ?? '')).toBe(false);
    const { ms } = await waitFor(async () => ((await activeAt(b, tokens.get(b) ?? '')) ? undefined : true), 1500);
    expect(ms).toBeLessThan(1000);
    // The revocation is the one `govauth revoke --role` records, and the people keep their other roles.
    const revocations = (await a.cliJson<{ revocations: { kind: string; key: string }[] }>('revocations', 'list')).revocations;
    expect(revocations).toContainEqual(expect.objectContaining({ kind: 'role', key: 'forced' }));
    expect(await auditOf('revocation.role', 'forced')).toHaveLength(1);
    expect((await a.cliJson<{ grants: { role: string }[] }>('user', 'roles', 'fred@example.com')).grants.map((g) => g.role)).toEqual(['end-user']);
    expect((await a.cliJson<{ grants: unknown[] }>('client', 'roles', bot.client_id)).grants).toEqual([]);
    expect((await a.cliJson<{ role: { includes: unknown[] } }>('role', 'show', 'auditor')).role.includes).toEqual([]);
    const [event] = await auditOf('admin.role.delete', 'forced');
    expect(event).toMatchObject({ detail: { before: { holders: { people: 1, clients: 1 } }, forced: true } });
  });

  it('with force, the policies naming it go too', async () => {
    expect((await del('delegating-agent', 'true')).status).toBe(200);
    expect((await a.cliJson<{ policies: unknown[] }>('delegation', 'list', '--role', 'delegating-agent')).policies).toEqual([]);
    const res = await del('approving', 'true');
    expect(res.body.deleted.removed.approver_of).toEqual(['role requestable']);
    expect((await a.cliJson<{ policies: { role?: string }[] }>('requests', 'policy', 'list')).policies.map((p) => p.role)).not.toContain('requestable');
  });

  it('leaves no row naming a deleted role', async () => {
    const q = a.server.db.prisma;
    for (const name of ['forced', 'delegating-agent', 'approving']) {
      const counts = await Promise.all([
        q.role.count({ where: { name } }),
        q.roleScope.count({ where: { roleName: name } }),
        q.userRole.count({ where: { roleName: name } }),
        q.clientRole.count({ where: { roleName: name } }),
        q.roleInclusion.count({ where: { OR: [{ roleName: name }, { includedName: name }] } }),
        q.exclusiveRoleMember.count({ where: { roleName: name } }),
        q.delegationPolicy.count({ where: { OR: [{ agentRole: name }, { subjectRole: name }] } }),
        q.accessPolicy.count({ where: { OR: [{ roleName: name }, { approverRole: name }] } }),
        q.scopeAccessPolicy.count({ where: { approverRole: name } }),
      ]);
      expect(counts, name).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    }
  });

  it('the CLI deletes an unused role and prints what happened', async () => {
    const r = await a.cli('role', 'delete', 'cli-role');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^deleted role cli-role \(ai\.usage\.log\.read\)\.\nTokens carrying it issued until \S+ are no longer accepted\./);
    expect(await roleNames()).not.toContain('cli-role');
  });

  it('answers hostile input with 4xx, never 500', async () => {
    expect((await del('no-such-role')).status).toBe(404);
    expect((await del('no-such-role')).body.error_description).toBe('no role named no-such-role');
    for (const odd of ['..', '../roles', 'Role With Spaces', 'ü', "x' OR '1'='1", 'a'.repeat(300), '%00']) {
      const res = await del(odd);
      expect(res.status, odd).toBe(404);
    }
    expect((await del('held-by-person', 'yes')).status).toBe(400);
    expect((await admin('DELETE', '/roles/held-by-person?force=true&cascade=1')).status).toBe(400);
    expect((await admin('DELETE', '/roles/held-by-person?force=true', auditorToken)).status).toBe(403);
    expect(await roleNames()).toContain('held-by-person');
  });
});

describe('deleting a role in the console', () => {
  let root: AccountBrowser;
  let audrey: AccountBrowser;
  beforeAll(async () => {
    await createUser(a, 'root@example.com', ['govauth-admin']);
    await createUser(a, 'audrey@example.com', ['govauth-auditor']);
    root = await consoleSignIn(a, 'root@example.com');
    audrey = await consoleSignIn(a, 'audrey@example.com');
  }, 60_000);

  it('asks first, then deletes and returns to the roles list', async () => {
    const page = await (await root.get('/console/roles/show?name=console-role')).text();
    expect(page).toContain('Delete role');
    const csrf = await root.csrf('/console/roles/show?name=console-role');
    const form = { csrf, back: '/console/roles/show?name=console-role', name: 'console-role' };
    const asked = await root.post('/console/actions/role-delete', form);
    expect(asked.status).toBe(200);
    expect(await asked.text()).toContain('Are you sure?');
    expect(await roleNames()).toContain('console-role');
    const done = await root.post('/console/actions/role-delete', { ...form, confirmed: 'yes' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/console/roles');
    expect(await roleNames()).not.toContain('console-role');
    expect(await (await root.get('/console/roles')).text()).toContain('Deleted role console-role.');
  });

  it('shows a refusal naming the holders, and offers no delete for a built-in role', async () => {
    const csrf = await root.csrf('/console/roles/show?name=held-by-person');
    const res = await root.post('/console/actions/role-delete', { csrf, back: '/console/roles/show?name=held-by-person', name: 'held-by-person', confirmed: 'yes' });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain('rita@example.com');
    const builtIn = await (await root.get('/console/roles/show?name=govauth-admin')).text();
    expect(builtIn).not.toContain('Delete role');
    expect(builtIn).toContain('cannot be deleted');
  });

  it('refuses an auditor on the server (403) and records it', async () => {
    expect(await (await audrey.get('/console/roles/show?name=held-by-client')).text()).not.toContain('Delete role');
    const csrf = await audrey.csrf('/console/roles');
    const res = await audrey.post('/console/actions/role-delete', { csrf, back: '/console/roles', name: 'held-by-client', force: 'yes', confirmed: 'yes' });
    expect(res.status).toBe(403);
    expect(await roleNames()).toContain('held-by-client');
    expect((await audit('console.denied')).map((e) => e.detail)).toContainEqual(expect.objectContaining({ action: 'role-delete', operation: 'deleteRole' }));
  });
});

// Read-your-writes across instances: a CLI command (or an admin API write) returns only once
// every live instance has applied its change, so the very next request to ANY instance sees it.
// No sleep or retry between a command and the check that follows it. The feed poll is set to
// its slowest (1 s), so nothing here passes by the poll being quick.
// Topology: on SQLite one server with GOVAUTH_WORKERS=2 (node:cluster, one port; each request
// below uses a fresh connection, which the primary hands to the workers in turn); on PostgreSQL
// two server processes on one database.
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.ts';
import { basic, waitFor, type ClientCreds } from '../helpers/oauth.ts';
import { cliProcess, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/test-database.ts';

const API = 'https://models.example';
let tdb: TestDatabase;
let env: Record<string, string>;
let servers: ServerProcess[] = [];
let targets: string[] = []; // each instance at least once
let rs: ClientCreds;
let admin: ClientCreds;

/** One request on its own connection (no keep-alive), so the cluster primary spreads them. */
function post(url: string, path: string, headers: Record<string, string>, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', agent: false, headers: { connection: 'close', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const token = (url: string, c: ClientCreds, resource = API) => post(url, '/token', { ...FORM, authorization: basic(c) }, new URLSearchParams({ grant_type: 'client_credentials', resource }).toString());
const introspect = async (url: string, t: string) => (await post(url, '/token/introspection', { ...FORM, authorization: basic(rs) }, new URLSearchParams({ token: t }).toString())).json.active;
const cli = (...args: string[]) => cliProcess(env, ...args);
async function cliJson<T = Record<string, unknown>>(...args: string[]): Promise<T> {
  const r = await cli(...args, '--json');
  if (r.code !== 0) throw new Error(`govauth ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
const newBot = (name: string, role = 'data-scientist') => cliJson<ClientCreds & { propagation: { applied: number; live: number } }>('client', 'create', '--name', name, '--grant', 'client_credentials', '--roles', role);

/** The pids of the instances (the cluster's workers on SQLite). */
function instancePids(): number[] {
  if (onPostgres()) return servers.map((s) => s.proc.pid ?? 0);
  const primary = servers[0]?.proc.pid ?? 0;
  return execSync(`cat /proc/${primary}/task/${primary}/children`).toString().trim().split(/\s+/).filter(Boolean).map(Number);
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  env = { NODE_ENV: 'test', DATABASE_URL: tdb.url, GOVAUTH_DATA_DIR: tdb.dataDir, GOVAUTH_MASTER_KEY: randomBytes(32).toString('base64'), GOVAUTH_PORT: '0', GOVAUTH_POLICY_POLL_MS: '1000' };
  // One issuer for both instances, as behind a load balancer: a token from one is valid at the other.
  env.GOVAUTH_ISSUER = 'http://auth.example';
  expect((await cli('init', '--demo')).code).toBe(0);
  rs = await cliJson<ClientCreds>('client', 'create', '--name', 'model-api', '--resource', API, '--introspect');
  admin = await cliJson<ClientCreds>('client', 'create', '--name', 'ops-bot', '--grant', 'client_credentials', '--roles', 'govauth-admin', '--admin-access');
  if (onPostgres()) {
    servers = [await startServerProcess(env), await startServerProcess(env)];
    targets = servers.map((s) => s.url);
  } else {
    servers = [await startServerProcess({ ...env, GOVAUTH_WORKERS: '2' })];
    targets = Array.from({ length: 6 }, () => servers[0]?.url ?? '');
  }
  // Both instances registered (each does before it serves; the cluster is ready when both are).
  expect(instancePids()).toHaveLength(2);
}, 60_000);
afterAll(async () => {
  if (onPostgres()) for (const s of servers) s.proc.kill('SIGCONT');
  for (const s of servers) await s.stop('SIGKILL');
  await tdb?.drop();
});

describe('read-your-writes on 2 instances', () => {
  it('says a change made with no server running is in force on the next start', async () => {
    // Made in beforeAll, before any server started; checked here through a fresh database.
    const solo = await createTestDatabase();
    try {
      const soloEnv = { ...env, DATABASE_URL: solo.url, GOVAUTH_DATA_DIR: solo.dataDir };
      expect((await cliProcess(soloEnv, 'init')).code).toBe(0);
      const r = await cliProcess(soloEnv, 'scope', 'create', 'x.read', '--description', 'x');
      expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining('no live instance; in force on the next start') as string });
    } finally {
      await solo.drop();
    }
  });

  it('a client created with the CLI gets tokens from every instance at once', async () => {
    const bot = await newBot('fresh-bot');
    expect(bot.propagation).toMatchObject({ applied: 2, live: 2, laggards: [], complete: true });
    for (const url of targets) expect((await token(url, bot)).status).toBe(200);
  });

  it('prints how many instances have the change in force', async () => {
    const r = await cli('scope', 'update', 'ai.training.read', '--description', 'Read training data');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/in force on 2\/2 instances$/m);
  });

  it('a role change is in force on every instance when the command returns', async () => {
    const bot = await newBot('role-bot', 'data-scientist');
    await cliJson('role', 'create', 'narrow', '--scopes', 'ai.training.read');
    await cliJson('client', 'update', bot.client_id, '--roles', 'narrow');
    for (const url of targets) {
      const r = await token(url, bot);
      expect(r.status).toBe(200);
      expect(r.json.scope).toBe('ai.training.read');
    }
  });

  it('revoke --client and client disable are in force on every instance when the command returns', async () => {
    const bot = await newBot('revoked-bot');
    const tokens = await Promise.all(targets.slice(0, 2).map(async (url) => String((await token(url, bot)).json.access_token)));
    for (const url of targets) for (const t of tokens) expect(await introspect(url, t)).toBe(true);
    await cliJson('revoke', '--client', bot.client_id);
    for (const url of targets) for (const t of tokens) expect(await introspect(url, t)).toBe(false);
    await cliJson('client', 'disable', bot.client_id);
    for (const url of targets) expect((await token(url, bot)).status).toBe(401);
  });

  it('an admin API write says where it is in force, and the client it created works everywhere', async () => {
    const adminToken = String((await token(targets[0] ?? '', admin, 'urn:govauth:admin')).json.access_token);
    const created = await post(targets[0] ?? '', '/admin/v1/clients', { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` }, JSON.stringify({ name: 'api-bot', grants: ['client_credentials'], roles: ['data-scientist'] }));
    expect(created.status).toBe(201);
    expect(created.json.propagation).toMatchObject({ applied: 2, live: 2, laggards: [], complete: true });
    // Documented: every write operation's response declares the field.
    const doc = (await (await fetch(`${targets[0] ?? ''}/admin/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, { content: { 'application/json': { schema: { properties: Record<string, unknown> } } } }> }>> };
    expect(doc.paths['/clients']?.post?.responses['201']?.content['application/json'].schema.properties).toHaveProperty('propagation');
    expect(doc.paths['/revocations']?.post?.responses['201']?.content['application/json'].schema.properties).toHaveProperty('propagation');
    const bot = created.json as unknown as ClientCreds;
    for (const url of targets) expect((await token(url, bot)).status).toBe(200);
  });

  // PostgreSQL: a frozen instance (SIGSTOP), alive but not applying. SQLite: a killed one
  // (kill -9): a process frozen in the middle of a write would hold the database's one write lock,
  // and every writer, this command included, would wait for it.
  it('names a stopped instance as a laggard and exits 75; past the liveness bound it no longer counts', async () => {
    const [, stopped] = instancePids();
    const freeze = onPostgres();
    process.kill(stopped ?? 0, freeze ? 'SIGSTOP' : 'SIGKILL');
    try {
      // In this process: a CLI process can take over a second just to start on a busy machine,
      // and it must look well within the stopped instance's liveness bound (10 s).
      const r = await runCli(['scope', 'update', 'ai.training.read', '--description', 'stopped', '--wait', '1s', '--json'], env);
      expect(r.code, r.stderr).toBe(75);
      const out = JSON.parse(r.stdout) as { propagation: { applied: number; live: number; laggards: string[]; waited_ms: number } };
      // On SQLite the cluster's replacement worker may have started meanwhile (and counts).
      expect(out.propagation.applied).toBe(out.propagation.live - 1);
      expect(out.propagation.applied).toBeGreaterThanOrEqual(1);
      expect(out.propagation.waited_ms).toBeGreaterThanOrEqual(1000); // waited the bound, and no more
      expect(out.propagation.waited_ms).toBeLessThan(1300);
      expect(out.propagation.laggards).toEqual([expect.stringMatching(new RegExp(`:${stopped}/[\\w-]+$`))]);
      expect(r.stderr).toContain(`:${stopped}/`);
      // Its heartbeat ages past 10 s during this wait; the command then completes without it
      // (on SQLite the cluster's replacement worker may count, having loaded everything at start).
      const later = await runCli(['scope', 'update', 'ai.training.read', '--description', 'still stopped', '--wait', '15s', '--json'], env);
      expect(later.code, later.stderr).toBe(0);
      const { propagation } = JSON.parse(later.stdout) as { propagation: { applied: number; live: number; laggards: string[] } };
      expect(propagation).toMatchObject({ laggards: [], complete: true });
      expect(propagation.applied).toBe(propagation.live);
    } finally {
      if (freeze) process.kill(stopped ?? 0, 'SIGCONT');
    }
    // Thawed (or replaced), it heartbeats again, counts as live again, and has caught up.
    const { value } = await waitFor(async () => {
      const r = await cliJson<{ propagation: { applied: number; live: number } }>('scope', 'update', 'ai.training.read', '--description', 'back');
      return r.propagation.live === 2 ? r.propagation : undefined;
    }, 20_000, 100);
    expect(value).toMatchObject({ applied: 2, live: 2, laggards: [] });
  }, 90_000);

  it('refuses a malformed --wait before writing anything', async () => {
    const r = await cli('scope', 'update', 'ai.training.read', '--description', 'never', '--wait', 'soon');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--wait must be a duration/);
    expect(JSON.stringify(await cliJson('scope', 'list'))).not.toContain('never');
  });
});

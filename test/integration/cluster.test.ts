// GOVAUTH_WORKERS=2: two worker processes on one port, sharing only the database. A change made
// with the CLI reaches both within the bound, a crashed worker is replaced, SIGTERM drains all.
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenRequest, waitFor, type ClientCreds } from '../helpers/oauth.ts';
import { cliProcess, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

let tdb: TestDatabase;
let env: Record<string, string>;
let server: ServerProcess;
let bot: ClientCreds;

const workerPids = (): number[] =>
  execSync(`cat /proc/${server.proc.pid}/task/${server.proc.pid}/children`).toString().trim().split(/\s+/).filter(Boolean).map(Number);

beforeAll(async () => {
  tdb = await createTestDatabase();
  env = { NODE_ENV: 'test', DATABASE_URL: tdb.url, GOVAUTH_DATA_DIR: tdb.dataDir, GOVAUTH_MASTER_KEY: randomBytes(32).toString('base64'), GOVAUTH_PORT: '0', GOVAUTH_WORKERS: '2' };
  expect((await cliProcess(env, 'init', '--demo')).code).toBe(0);
  bot = JSON.parse((await cliProcess(env, 'client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist', '--json')).stdout) as ClientCreds;
  server = await startServerProcess(env);
});
afterAll(async () => {
  await server?.stop('SIGKILL');
  await tdb?.drop();
});

const token = () => tokenRequest(server.url, { grant_type: 'client_credentials', resource: 'https://models.example' }, { basic: bot });

describe('GOVAUTH_WORKERS=2', () => {
  it('runs two workers on one port and says so when ready', async () => {
    expect(server.output()).toMatch(/"msg":"govauth ready".*"workers":2/);
    expect(workerPids()).toHaveLength(2);
    const results = await Promise.all(Array.from({ length: 40 }, token));
    expect(results.every((r) => r.status === 200)).toBe(true);
  });

  it('applies a CLI change on every worker within 1 s', async () => {
    expect((await cliProcess(env, 'role', 'update', 'data-scientist', '--scopes', 'ai.training.read')).code).toBe(0);
    const { ms } = await waitFor(async () => {
      const batch = await Promise.all(Array.from({ length: 10 }, token));
      return batch.every((r) => r.body.scope === 'ai.training.read') ? true : undefined;
    }, 2000);
    expect(ms).toBeLessThan(1000);
  });

  it('replaces a worker that dies, and keeps serving', async () => {
    const [victim] = workerPids();
    process.kill(victim ?? 0, 'SIGKILL');
    await waitFor(() => Promise.resolve(workerPids().length === 2 && !workerPids().includes(victim ?? 0) ? true : undefined), 10_000, 50);
    // Keep-alive connections the dead worker held are gone with it; a client reconnects once.
    const once = () => token().catch(() => token());
    const results = await Promise.all(Array.from({ length: 20 }, once));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(server.output()).toMatch(/worker exited unexpectedly; starting a new one/);
  });

  it('drains every worker and exits 0 on SIGTERM', async () => {
    const code = await server.stop('SIGTERM');
    expect(code).toBe(0);
    expect(server.output()).toMatch(/draining workers/);
  });
});

// kill -9 in the middle of load loses nothing that was acknowledged: every token a client
// received has its audit record, the chain verifies, refresh tokens received keep working.
// SIGTERM drains in-flight requests before exiting.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/audit-verify.ts';
import { openDatabase } from '../../src/db/database.ts';
import { decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { PASSWORD } from '../helpers/people.ts';
import { cliProcess, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

let tdb: TestDatabase;
let env: Record<string, string>;
let bot: ClientCreds;
let app: { client_id: string; client_secret: string };

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const address = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return typeof address === 'object' && address ? address.port : 0;
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  const port = await freePort();
  // A fixed port and issuer, so the restarted server is the same issuer to its clients.
  env = { NODE_ENV: 'test', DATABASE_URL: tdb.url, GOVAUTH_DATA_DIR: tdb.dataDir, GOVAUTH_MASTER_KEY: randomBytes(32).toString('base64'), GOVAUTH_PORT: String(port), GOVAUTH_ISSUER: `http://localhost:${port}`, GOVAUTH_RATE_LIMIT_TOKEN: '0' };
  expect((await cliProcess(env, 'init', '--demo')).code).toBe(0);
  bot = JSON.parse((await cliProcess(env, 'client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist', '--json')).stdout) as ClientCreds;
  app = JSON.parse((await cliProcess(env, 'client', 'create', '--name', 'app', '--grant', 'authorization_code', '--redirect-uri', 'https://app.example/callback', '--json')).stdout) as typeof app;
  const { execFile } = await import('node:child_process');
  await new Promise<void>((resolve, reject) => {
    const child = execFile(process.execPath, ['bin/govauth.js', 'user', 'create', 'crash@example.com', '--password-stdin', '--roles', 'data-scientist'], { env: { ...process.env, ...env } }, (err) => (err ? reject(new Error(err.message)) : resolve()));
    child.stdin?.end(`${PASSWORD}\n`);
  });
});
afterAll(() => tdb?.drop());

describe('crash and shutdown', () => {
  it('keeps every acknowledged token, audit record and refresh token through kill -9', async () => {
    let server: ServerProcess = await startServerProcess(env);
    const config = await oidc.discovery(new URL(env.GOVAUTH_ISSUER ?? ''), app.client_id, app.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    // Refresh chains that complete before the crash: their newest tokens must survive it.
    const chains: string[] = [];
    for (let i = 0; i < 3; i++) {
      const tokens = await headlessSignIn(config, 'crash@example.com', 'openid offline_access ai.training.read', { extra: { prompt: 'consent' } });
      chains.push((await oidc.refreshTokenGrant(config, tokens.refresh_token!)).refresh_token!);
    }

    const received: string[] = [];
    let running = true;
    const load = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (running) {
          const r = await tokenRequest(server.url, { grant_type: 'client_credentials', resource: 'https://models.example' }, { basic: bot }).catch(() => undefined);
          if (r?.status === 200) received.push(String(decodeJwt(String(r.body.access_token)).payload.jti));
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 1500));
    await server.stop('SIGKILL');
    running = false;
    await load;
    expect(received.length).toBeGreaterThan(20);

    server = await startServerProcess(env);
    try {
      const db = await openDatabase({ kind: tdb.kind, url: tdb.url }, { now: Date.now });
      const issued = new Set(
        (await db.prisma.auditEvent.findMany({ where: { action: 'token.issued' } })).map((r) => (JSON.parse(r.detail) as { jti: string }).jti),
      );
      expect(received.filter((jti) => !issued.has(jti))).toEqual([]);
      expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
      await db.close();
      for (const rt of chains) expect((await oidc.refreshTokenGrant(config, rt)).access_token).toBeTruthy();
    } finally {
      await server.stop('SIGTERM');
    }
  });

  it('drains in-flight requests on SIGTERM and exits 0', async () => {
    const server = await startServerProcess(env);
    const inflight = Array.from({ length: 30 }, () => tokenRequest(server.url, { grant_type: 'client_credentials', resource: 'https://models.example' }, { basic: bot }));
    await new Promise((r) => setTimeout(r, 30));
    const exited = server.stop('SIGTERM');
    // While draining, the instance tells load balancers to stop routing to it.
    await new Promise((r) => setTimeout(r, 20));
    const probe = await fetch(`${server.url}/readyz`);
    expect(probe.status).toBe(503);
    const results = await Promise.allSettled(inflight);
    const answered = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ status: number }>).value.status);
    expect(answered.length).toBe(30); // every request that reached the server got its answer
    expect(answered.every((s) => s === 200)).toBe(true);
    expect(await exited).toBe(0);
  });
});

// Usage reports, against a stub endpoint (govauth's POST /resource-usage is built separately):
// batches of at most 500, at most one request per second, a bounded queue that drops its
// oldest events when the endpoint is away, a timer that never holds the process, a flush on close.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourceServer } from '../src/index.ts';
import { createUsageReporter, type UsageEvent } from '../src/usage-reporter.ts';
import { startApp } from './helpers/apps.ts';
import { AUDIENCE, startStubIssuer, type StubIssuer } from './helpers/stub-issuer.ts';

let stub: StubIssuer;
beforeAll(async () => {
  stub = await startStubIssuer();
});
afterAll(() => stub?.close());

const event = (i: number): UsageEvent => ({ jti: `j${i}`, route: 'GET /predict', decision: 'allowed', status: 200, at: Date.now() });
const reporter = (o: { maxQueue?: number; errors?: unknown[] } = {}) =>
  createUsageReporter({ endpoint: `${stub.url}/resource-usage`, clientId: 'rs id', clientSecret: 's:ecret', fetch, maxQueue: o.maxQueue ?? 10_000, intervalMs: 1000, onError: (e) => o.errors?.push(e) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the reporter', () => {
  it('sends batches of at most 500 with HTTP Basic, and flushes the rest on close', async () => {
    stub.usageReports.length = 0;
    const r = reporter();
    for (let i = 0; i < 1200; i++) r.record(event(i));
    await sleep(1300);
    expect(stub.usageReports.map((b) => b.events.length)).toEqual([500]);
    await r.close();
    expect(stub.usageReports.map((b) => b.events.length)).toEqual([500, 500, 200]);
    expect(stub.usageReports[0]?.authorization).toBe(`Basic ${Buffer.from('rs%20id:s%3Aecret').toString('base64')}`);
    expect(stub.usageReports.flatMap((b) => b.events).map((e) => (e as UsageEvent).jti)).toEqual(Array.from({ length: 1200 }, (_, i) => `j${i}`));
    expect(r.stats()).toEqual({ queued: 0, sent: 1200, dropped: 0, failedReports: 0 });
  });

  it('starts at most one report per second however fast events come, and recording never waits', async () => {
    stub.usageReports.length = 0;
    const r = reporter();
    const started = Date.now();
    let worst = 0;
    while (Date.now() - started < 2500) {
      const t0 = performance.now();
      for (let i = 0; i < 100; i++) r.record(event(i));
      worst = Math.max(worst, performance.now() - t0);
      await sleep(5);
    }
    expect(worst).toBeLessThan(50);
    const times = stub.usageReports.map((b) => b.at);
    expect(times.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(800);
    await r.close();
  });

  it('keeps the newest events within its bound while the endpoint is away, counting what it dropped', async () => {
    stub.usageReports.length = 0;
    const errors: unknown[] = [];
    const r = reporter({ maxQueue: 100, errors });
    stub.down = true;
    for (let i = 0; i < 250; i++) r.record(event(i));
    await sleep(1200);
    expect(r.stats()).toMatchObject({ queued: 100, dropped: 150, sent: 0, failedReports: 1 });
    expect(errors).toHaveLength(1);
    stub.down = false;
    await r.close();
    expect(stub.usageReports.flatMap((b) => b.events).map((e) => (e as UsageEvent).jti)).toEqual(Array.from({ length: 100 }, (_, i) => `j${150 + i}`));
  });

  it('counts what it could not deliver on close as dropped, and stops recording', async () => {
    const r = reporter();
    stub.down = true;
    r.record(event(1));
    await r.close(500);
    stub.down = false;
    r.record(event(2));
    expect(r.stats()).toMatchObject({ queued: 0, dropped: 1, sent: 0 });
  });

  it('never keeps a process alive: its timer is unref’d', async () => {
    const src = fileURLToPath(new URL('../src/usage-reporter.ts', import.meta.url));
    const script = `import { createUsageReporter } from ${JSON.stringify(src)};
      const r = createUsageReporter({ endpoint: 'http://127.0.0.1:9/x', clientId: 'a', clientSecret: 'b', fetch, maxQueue: 10, intervalMs: 1000, onError() {} });
      r.record({ jti: null, route: 'r', decision: 'refused', status: 401, at: 0 });`;
    const started = Date.now();
    await new Promise<void>((resolve, reject) => execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 }, (err) => (err ? reject(new Error(err.message)) : resolve())));
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('a resource server with usage reporting', () => {
  it('reports each decision with its route, status, jti, scope and reason', async () => {
    stub.usageReports.length = 0;
    const kit = createResourceServer({ issuer: stub.issuer, audience: AUDIENCE, client: { id: 'rs', secret: 'secret' }, usage: true });
    const app = await startApp('koa', kit);
    let jti: string;
    try {
      const token = await stub.mint();
      ({ jti } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { jti: string });
      expect((await fetch(`${app.url}/predict?x=1`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await fetch(`${app.url}/deploy`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(403);
      expect((await fetch(`${app.url}/predict`)).status).toBe(401);
      await sleep(50);
      expect(kit.usageStats()).toMatchObject({ queued: 3 });
    } finally {
      await app.close();
      await kit.close();
    }
    const events = stub.usageReports.flatMap((b) => b.events) as UsageEvent[];
    expect(events.map(({ at: _at, ...e }) => e)).toEqual([
      { jti, route: 'GET /predict', decision: 'allowed', status: 200, scope: ['ai.prediction.run'] },
      { jti, route: 'GET /deploy', decision: 'refused', status: 403, scope: ['ai.deploy.manage'], reason: 'insufficient_scope: The access token lacks a scope this resource needs' },
      { jti: null, route: 'GET /predict', decision: 'refused', status: 401, scope: ['ai.prediction.run'], reason: 'no_token' },
    ]);
    expect(stub.usageReports[0]?.authorization).toBe(`Basic ${Buffer.from('rs:secret').toString('base64')}`);
  });
});

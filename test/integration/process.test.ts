// `npm start` as a real process on a fresh data directory: it migrates, creates its key,
// prints where it listens and what to do next, serves, and drains on SIGTERM. Bad
// configuration stops it with every problem listed.
import { spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { onPostgres } from '../helpers/test-database.ts';

const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

function start(env: Record<string, string>): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; child: ReturnType<typeof spawn>; output: () => string } {
  const child = spawn(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { done, child, output: () => stdout + stderr };
}

describe.skipIf(onPostgres())('the server process on the embedded default', () => {
  it('starts on a fresh directory with no set-up, serves discovery, and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'govauth-proc-'));
    const p = start({ GOVAUTH_DATA_DIR: dir, GOVAUTH_PORT: '0', NODE_ENV: 'development' });
    const started = performance.now();
    let url: string | undefined;
    while (!url && performance.now() - started < 10_000) {
      url = /govauth is listening on (http:\/\/\S+)/.exec(p.output())?.[1];
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(url, p.output()).toBeTruthy();
    expect(p.output()).toMatch(/npx govauth init --demo/);
    expect(p.output()).toMatch(/DEVELOPMENT ONLY: created a master key/);
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'govauth.db')).isFile()).toBe(true);
    const res = await fetch(`${url}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    p.child.kill('SIGTERM');
    const { code } = await p.done;
    expect(code).toBe(0);
  });

  it('refuses to start with invalid settings and lists each one with its fix', async () => {
    const p = start({ GOVAUTH_PORT: '99999', GOVAUTH_ISSUER: 'ftp://x', NODE_ENV: 'production', GOVAUTH_DATA_DIR: mkdtempSync(join(tmpdir(), 'govauth-proc-')) });
    const { code, stderr } = await p.done;
    expect(code).toBe(78);
    expect(stderr).toMatch(/GOVAUTH_PORT=.*between 0 and 65535/);
    expect(stderr).toMatch(/GOVAUTH_ISSUER=.*https/);
    expect(stderr).toMatch(/GOVAUTH_MASTER_KEY .*required when NODE_ENV=production/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses to start with an unsafe or half-configured webhook: http in production, hmac without a secret', async () => {
    const production = { NODE_ENV: 'production', GOVAUTH_MASTER_KEY: 'a'.repeat(64), GOVAUTH_ISSUER: 'https://auth.example', GOVAUTH_TRUST_PROXY: 'true', GOVAUTH_DATA_DIR: mkdtempSync(join(tmpdir(), 'govauth-proc-')) };
    const http = await start({ ...production, GOVAUTH_WEBHOOK_URL: 'http://alerts.internal/hook', GOVAUTH_WEBHOOK_SIGNING: 'jws' }).done;
    expect(http.code).toBe(78);
    expect(http.stderr).toMatch(/GOVAUTH_WEBHOOK_URL=http:\/\/alerts\.internal\/…: must use https/);
    const hmac = await start({ ...production, GOVAUTH_WEBHOOK_URL: 'https://alerts.internal/hook', GOVAUTH_WEBHOOK_SIGNING: 'hmac' }).done;
    expect(hmac.code).toBe(78);
    expect(hmac.stderr).toMatch(/GOVAUTH_WEBHOOK_SIGNING=hmac needs GOVAUTH_WEBHOOK_SECRET/);
  });
});

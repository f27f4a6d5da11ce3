// The server process writes its log asynchronously (src/log/log-destination.ts); what is still
// buffered when it exits must be written, not lost: at process.exit() right after a burst of
// lines, and at a SIGTERM shutdown, whose last request's access line must be there.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

const src = (path: string): string => fileURLToPath(new URL(`../../src/${path}`, import.meta.url));

/** Runs node with `args`; resolves when the process and its pipes are closed. */
function run(args: string[], env: Record<string, string>, onStdout?: (text: string, kill: (signal: NodeJS.Signals) => void) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    onStdout?.(stdout, (signal) => proc.kill(signal));
  });
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => proc.once('close', (code) => resolve({ code, stdout, stderr })));
}

describe('log flushing at exit', () => {
  it('writes every line logged just before process.exit(), on standard output and standard error', async () => {
    const script = `
      import { createLogger } from ${JSON.stringify(src('log/logger.ts'))};
      import { processLogDestination } from ${JSON.stringify(src('log/log-destination.ts'))};
      const log = createLogger({ level: 'info', destination: processLogDestination() });
      for (let i = 0; i < 20000; i++) log.info('line', { i, pad: 'x'.repeat(100) });
      log.error('last words', { err: new Error('gone') });
      process.exit(3);
    `;
    const { code, stdout, stderr } = await run(['--input-type=module', '-e', script], {});
    expect(code).toBe(3);
    const lines = stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(20000);
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({ msg: 'line', i: 19999 });
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(stderr)).toMatchObject({ level: 'error', msg: 'last words', err: { message: 'gone' } });
  }, 30_000);

  describe('a server process', () => {
    let tdb: TestDatabase;
    beforeAll(async () => {
      tdb = await createTestDatabase();
    });
    afterAll(() => tdb?.drop());

    it('stopped with SIGTERM has written its last request’s access line and its shutdown line', async () => {
      const env = {
        NODE_ENV: 'test',
        DATABASE_URL: tdb.url,
        GOVAUTH_DATA_DIR: tdb.dataDir,
        GOVAUTH_MASTER_KEY: randomBytes(32).toString('base64'),
        GOVAUTH_PORT: '0',
        GOVAUTH_LOG_LEVEL: 'info',
      };
      let requestId: string | null = null;
      let asked = false;
      const result = await run([src('main.ts')], env, (out, kill) => {
        const url = /"listening":"(http:\/\/[^"]+)"/.exec(out)?.[1];
        if (!url || asked) return;
        asked = true;
        void fetch(`${url}/.well-known/openid-configuration`).then((res) => {
          requestId = res.headers.get('x-request-id');
          kill('SIGTERM');
        });
      });
      expect(result.code, result.stderr).toBe(0);
      expect(requestId).toBeTruthy();
      const lines = result.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.find((l) => l.msg === 'request' && l.requestId === requestId)).toMatchObject({ route: '/.well-known/openid-configuration', status: 200 });
      expect(lines.some((l) => l.msg === 'shutting down: draining in-flight requests')).toBe(true);
    }, 60_000);
  });
});

// `npm run demo:app` (scripts/demo-app.ts) run as a person would: when they click Deny, the app
// says which error it received (RFC 6749 §4.1.2.1) instead of printing a stack trace.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PASSWORD, createUser } from '../helpers/people.ts';
import { SignInSteps } from '../helpers/sign-in-steps.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const script = fileURLToPath(new URL('../../scripts/demo-app.ts', import.meta.url));
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await createUser(t, 'dora@example.com', ['data-scientist']);
});
afterAll(() => t?.stop());

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

it('prints the error and its description when the person denies, and exits 1 without a stack trace', async () => {
  const port = await freePort();
  const redirect = `http://127.0.0.1:${port}/callback`;
  const app = await t.cliJson<{ client_id: string; client_secret: string }>('client', 'create', '--name', 'Demo', '--grant', 'authorization_code', '--redirect-uri', redirect);
  await t.server.policy.sync();

  const proc = spawn(process.execPath, [script, 'openid ai.training.read'], {
    env: { ...process.env, GOVAUTH_ISSUER: t.issuer, DEMO_CLIENT_ID: app.client_id, DEMO_CLIENT_SECRET: app.client_secret, DEMO_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
  try {
    for (let i = 0; i < 200 && !/https?:\/\/\S+\/auth\?\S+/.test(stdout); i++) await new Promise((r) => setTimeout(r, 50));
    const authUrl = /https?:\/\/\S+\/auth\?\S+/.exec(stdout)?.[0];
    if (!authUrl) throw new Error(`the demo app printed no URL: ${stdout}${stderr}`);

    const callback = await new SignInSteps({ forwardedFor: null }).walk(authUrl, redirect, (page) =>
      page.kind === 'login' ? { email: 'dora@example.com', password: PASSWORD } : { decision: 'deny' },
    );
    expect(callback.searchParams.get('error')).toBe('access_denied');
    const res = await fetch(callback);
    const code = await exited;
    // The terminal: what the app received, no stack trace.
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr).not.toContain('AuthorizationResponseError');
    expect(stderr).toContain('error: access_denied');
    expect(stderr).toMatch(/error_description: \S/);
    expect(code).toBe(1);
    // The browser tab.
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/^Sign-in did not complete: access_denied/);
  } finally {
    proc.kill();
  }
});

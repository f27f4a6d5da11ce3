// The govauth CLI against a real database: --json prints exactly one object, errors go to
// stderr with a non-zero exit and a message a person can act on, input is stored verbatim.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/govauth.js', import.meta.url));
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t?.stop());

describe('govauth CLI', () => {
  it('runs as a real process: --json prints exactly one JSON object on stdout', async () => {
    const { stdout, stderr } = await run(process.execPath, [bin, 'init', '--demo', '--json'], { env: { ...process.env, ...t.env } });
    expect(stderr).toBe('');
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const out = JSON.parse(stdout) as { created: string[] };
    expect(out.created).toContain('role data-scientist');
    const created = JSON.parse((await run(process.execPath, [bin, 'client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'auditor', '--json'], { env: { ...process.env, ...t.env } })).stdout) as Record<string, string>;
    expect(Object.keys(created).sort()).toEqual(['client_id', 'client_secret', 'propagation']); // where it is in force
    expect(created.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('exits non-zero with a readable message on stderr, never a stack trace', async () => {
    const cases: [string[], number, RegExp][] = [
      [['scope', 'create', 'bad name', '--description', 'x'], 1, /invalid scope name/],
      [['scope', 'create', 'x.y'], 2, /--description is required/],
      [['role', 'create', 'r', '--scopes', 'nope.scope'], 1, /unknown scope\(s\): nope\.scope/],
      [['client', 'create', '--name', 'x'], 1, /needs a grant/],
      [['client', 'create', '--name', 'x', '--grant', 'password'], 1, /unsupported grant/],
      [['client', 'rotate-secret', 'cl_missing'], 1, /no client cl_missing/],
      [['client', 'create', '--name', 'x', '--bogus'], 2, /Unknown option '--bogus'/],
      [['nonsense'], 2, /unknown command/],
      [['scope', 'create', 'ai.training.read', '--description', 'dup'], 1, /already exists/],
      [['resource', 'create', 'https://x.example#frag', '--name', 'x', '--scopes', 'ai.training.read'], 1, /without a fragment/],
      [['scope', 'create', 'a.b', '--description', 'x', '--max-ttl=-5'], 2, /--max-ttl must be a whole number/],
      [['scope', 'create', 'a.b', '--description', 'x', '--max-ttl', '999999'], 1, /between 1 and 86400/],
    ];
    for (const [args, code, message] of cases) {
      const r = await t.cli(...args, '--json');
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('refuses control characters and NUL bytes in names and descriptions', async () => {
    for (const args of [
      ['scope', 'create', 'a\u0000b', '--description', 'x'],
      ['scope', 'create', 'nul.desc', '--description', 'bad\u0000value'],
      ['role', 'create', 'Ünicode', '--scopes', 'ai.training.read'],
      ['client', 'create', '--name', 'bell\u0007', '--grant', 'client_credentials'],
    ]) {
      const r = await t.cli(...args);
      expect(r.code, JSON.stringify(args)).toBe(1);
    }
  });

  it('stores SQL-looking and unicode text verbatim', async () => {
    const description = "Robert'); DROP TABLE \"Scope\";-- ✓ データ";
    await t.cliJson('scope', 'create', 'odd.text', '--description', description);
    const { scopes } = await t.cliJson<{ scopes: { name: string; description: string }[] }>('scope', 'list');
    expect(scopes.find((s) => s.name === 'odd.text')?.description).toBe(description);
  });

  it('lists clients for people and for tools', async () => {
    const human = await t.cli('client', 'list');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/CLIENT_ID\s+NAME/);
    const { clients } = await t.cliJson<{ clients: { name: string; roles: { role: string }[] }[] }>('client', 'list');
    expect(clients.find((c) => c.name === 'bot')?.roles).toEqual([{ role: 'auditor', expires_at: null }]);
  });

  it('reports every invalid setting at once, with exit code 78', async () => {
    const r = await run(process.execPath, [bin, 'scope', 'list'], {
      env: { ...process.env, ...t.env, GOVAUTH_PORT: 'eighty', DATABASE_URL: 'mysql://x', GOVAUTH_ACCESS_TOKEN_TTL: '0' },
    }).catch((err: { code: number; stderr: string }) => err);
    expect(r).toMatchObject({ code: 78 });
    const stderr = (r as { stderr: string }).stderr;
    expect(stderr).toMatch(/GOVAUTH_PORT=.*whole number/);
    expect(stderr).toMatch(/DATABASE_URL=.*must start with file: .* or postgresql:\/\//);
    expect(stderr).toMatch(/GOVAUTH_ACCESS_TOKEN_TTL=.*between 1 and 86400/);
  });
});

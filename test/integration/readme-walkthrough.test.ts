// The README is run, top to bottom, as a new user would: every shell command in its ```sh
// blocks, in order, in one bash session (so variables one command sets are there for the next),
// against a real server process and its database. Each must exit 0. What it runs is whatever
// the README says: nothing here names a section or a command.
//
// Not run: `npm …` lines (installing, starting the server, the tests, the benchmarks and the
// interactive demo app: the test starts the server itself, as `npm start` does) and blocks
// preceded by `<!-- readme-test: skip … -->` (the PostgreSQL set-up, which needs a server of
// its own). `npx govauth` runs this checkout's bin/govauth.js; curl fails on an HTTP error
// status; http://localhost:3000 is the test server's address. Where the README asks a person to
// sign in with a browser, `<!-- readme-test: browser-sign-in VAR email password scope -->` marks
// the place: the test signs in as that person with the demo app's client (test/helpers/
// readme-sign-in.ts, the same login and consent pages) and exports the access token as VAR.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const bin = fileURLToPath(new URL('../../bin/govauth.js', import.meta.url));
const signIn = fileURLToPath(new URL('../helpers/readme-sign-in.ts', import.meta.url));

/** The README's shell commands in order: continuation lines joined, comments and blank lines dropped. */
export function readmeCommands(markdown: string): { commands: string[]; skipped: string[] } {
  const commands: string[] = [];
  const skipped: string[] = [];
  for (const block of markdown.matchAll(/(<!--\s*readme-test:\s*skip[^>]*-->\s*\n)?```sh\n([\s\S]*?)```|<!--\s*readme-test:\s*browser-sign-in\s+(\w+)\s+(.*?)\s*-->/g)) {
    if (block[3]) {
      commands.push(`${block[3]}=$("$GOVAUTH_NODE" "$GOVAUTH_SIGN_IN" ${block[4] ?? ''}) && export ${block[3]}`);
      continue;
    }
    const lines = (block[2] ?? '').replace(/\\\n/g, ' ').split('\n').map((l) => l.trim());
    for (const line of lines) {
      if (!line || line.startsWith('#')) continue;
      if (block[1] || /^(\w+=\S*\s+)*npm\b/.test(line)) skipped.push(line);
      else commands.push(line);
    }
  }
  return { commands, skipped };
}

interface Step {
  command: string;
  status: number | undefined;
  output: string;
}

/** Runs the commands in one bash session; each step's exit status and what it printed. */
function runInBash(commands: string[], env: Record<string, string>, cwd: string, serverUrl: string): Promise<Step[]> {
  const script = [
    'set -o pipefail',
    // `npx govauth` is this checkout's CLI; anything else through npx is not part of the README test.
    'npx() { if [ "$1" = govauth ]; then shift; "$GOVAUTH_NODE" "$GOVAUTH_BIN" "$@"; else echo "npx $1: not run by the README test" >&2; return 127; fi; }',
    'curl() { command curl --fail-with-body --show-error "$@"; }',
    ...commands.flatMap((command, i) => [`echo "@@step ${i}"; echo "@@step ${i}" >&2`, command.replaceAll('http://localhost:3000', serverUrl), `echo "${i} $?" >&3`]),
  ].join('\n');
  return new Promise((resolve) => {
    const bash = spawn('bash', ['-c', script], { cwd, env: { ...process.env, ...env, GOVAUTH_NODE: process.execPath, GOVAUTH_BIN: bin, GOVAUTH_SIGN_IN: signIn, GOVAUTH_URL: serverUrl }, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let out = '';
    let statuses = '';
    bash.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    bash.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    (bash.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => (statuses += d.toString()));
    bash.on('close', () => {
      const status = new Map(statuses.trim().split('\n').filter(Boolean).map((l) => l.split(' ').map(Number) as [number, number]));
      const outputs = new Map<number, string>();
      for (const part of out.split(/^@@step /m).slice(1)) {
        const n = Number.parseInt(part, 10);
        outputs.set(n, (outputs.get(n) ?? '') + part.slice(part.indexOf('\n') + 1));
      }
      resolve(commands.map((command, i) => ({ command, status: status.get(i), output: (outputs.get(i) ?? '').trim() })));
    });
  });
}

let db: TestDatabase;
let server: ServerProcess;
let cwd: string;
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase();
  cwd = mkdtempSync(join(tmpdir(), 'govauth-readme-'));
  env = {
    DATABASE_URL: db.url,
    GOVAUTH_DATA_DIR: db.dataDir,
    GOVAUTH_MASTER_KEY: randomBytes(32).toString('base64'),
    GOVAUTH_POLICY_POLL_MS: '20',
    GOVAUTH_RATE_LIMIT_CLIENT_AUTH_FAILURES: '1000000',
  };
  server = await startServerProcess({ ...env, GOVAUTH_PORT: '0' }); // what `npm start` does
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
  rmSync(cwd, { recursive: true, force: true });
});

describe('the README, run top to bottom', () => {
  it('finds the commands to run (and only the npm lines and marked blocks are left out)', () => {
    const { commands, skipped } = readmeCommands(readme);
    expect(commands.length).toBeGreaterThan(30);
    expect(commands.some((c) => c.includes('npx govauth init'))).toBe(true);
    for (const line of skipped) expect(line, 'a skipped line').toMatch(/\bnpm\b|postgresql:\/\/|createdb/);
  });

  it('every command exits 0, in order', async () => {
    const steps = await runInBash(readmeCommands(readme).commands, env, cwd, server.url);
    const failed = steps.filter((s) => s.status !== 0);
    const report = failed.map((s) => `exit ${s.status ?? 'none'}: ${s.command}\n${s.output.slice(0, 600)}`).join('\n\n');
    expect(failed, report).toEqual([]);
  }, 240_000);
});

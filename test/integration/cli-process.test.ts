// The govauth command as an operator runs it: a real process (bin/govauth.js), started from
// wherever the operator happens to be. It must find the server's database from any directory,
// never create an empty one by accident, and fail with the exit status and the one JSON error
// object the README's table promises.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/test-database.ts';

const bin = fileURLToPath(new URL('../../bin/govauth.js', import.meta.url));
/** The project directory (package.json), found here rather than taken from the code under test. */
const PROJECT_DIR = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const readme = readFileSync(join(PROJECT_DIR, 'README.md'), 'utf8');
const version = (JSON.parse(readFileSync(join(PROJECT_DIR, 'package.json'), 'utf8')) as { version: string }).version;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function govauth(env: Record<string, string>, cwd: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, env: { ...process.env, GOVAUTH_LOG_LEVEL: 'error', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/**
 * Exit 75: the change is committed, so stdout holds the command's result and stderr exactly one
 * JSON object that also names the laggards.
 */
function committedError(r: Run): { error: string; message: string } {
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  const out = JSON.parse(r.stderr) as { error: string; message: string; laggards: unknown[] };
  expect(Object.keys(out)).toEqual(['error', 'message', 'laggards']);
  expect(JSON.stringify(out.laggards)).toContain('lagging-instance');
  return out;
}

/** With --json, an error is exactly one JSON object {"error", "message"} on stderr, nothing on stdout. */
function jsonError(r: Run): { error: string; message: string } {
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  const out = JSON.parse(r.stderr) as { error: string; message: string };
  expect(Object.keys(out)).toEqual(['error', 'message']);
  expect(out.message).toMatch(/^\S.{8,}/);
  return out;
}

describe('the data directory does not depend on where the CLI is run', () => {
  // A relative GOVAUTH_DATA_DIR, as .env.example shows it: relative to the project directory.
  const relative = `test-results/cli-data-${randomBytes(4).toString('hex')}`;
  const absolute = join(PROJECT_DIR, relative);
  const env = { GOVAUTH_DATA_DIR: relative, DATABASE_URL: '', GOVAUTH_MASTER_KEY: randomBytes(32).toString('base64') };
  afterAll(() => rmSync(absolute, { recursive: true, force: true }));

  it('a database created by init from the project is the one the CLI uses from a subfolder and from /tmp', async () => {
    expect((await govauth(env, PROJECT_DIR, 'init', '--demo')).code).toBe(0);
    expect(existsSync(join(absolute, 'govauth.db'))).toBe(true);
    const created = await govauth(env, join(PROJECT_DIR, 'src', 'cli'), 'client', 'create', '--name', 'from-a-subfolder', '--grant', 'client_credentials', '--json');
    expect(created.code, created.stderr).toBe(0);
    const id = (JSON.parse(created.stdout) as { client_id: string }).client_id;
    for (const cwd of [PROJECT_DIR, join(PROJECT_DIR, 'test'), tmpdir()]) {
      const listed = await govauth(env, cwd, 'client', 'list', '--json');
      expect(listed.code, `${cwd}: ${listed.stderr}`).toBe(0);
      expect((JSON.parse(listed.stdout) as { clients: { client_id: string }[] }).clients.map((c) => c.client_id), cwd).toContain(id);
    }
    expect(existsSync(join(tmpdir(), relative))).toBe(false);
    expect(existsSync(join(PROJECT_DIR, 'src', 'cli', relative))).toBe(false);
  });

  it('a command other than init on a missing database exits 78 naming the path, and creates nothing', async () => {
    const missing = `test-results/cli-missing-${randomBytes(4).toString('hex')}`;
    for (const cwd of [PROJECT_DIR, tmpdir()]) {
      const r = await govauth({ ...env, GOVAUTH_DATA_DIR: missing }, cwd, 'client', 'list');
      expect(r.code).toBe(78);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`no govauth database at ${join(PROJECT_DIR, missing, 'govauth.db')}: run \`govauth init\``);
      const json = jsonError(await govauth({ ...env, GOVAUTH_DATA_DIR: missing }, cwd, 'user', 'list', '--json'));
      expect(json.error).toBe('no_database');
      expect(json.message).toContain(join(PROJECT_DIR, missing, 'govauth.db'));
    }
    expect(existsSync(join(PROJECT_DIR, missing))).toBe(false);
    // A SQLite URL names the file itself: the same rule.
    const file = join(tmpdir(), `govauth-missing-${randomBytes(4).toString('hex')}.db`);
    const r = await govauth({ DATABASE_URL: `file:${file}` }, tmpdir(), 'scope', 'list', '--json');
    expect(r.code).toBe(78);
    expect(jsonError(r)).toEqual({ error: 'no_database', message: expect.stringContaining(`no govauth database at ${file}`) as string });
    expect(existsSync(file)).toBe(false);
  });

  it('by default uses data/ in the project directory, never one beside wherever it was run', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'govauth-cwd-'));
    try {
      const r = await govauth({ DATABASE_URL: '', GOVAUTH_DATA_DIR: '' }, elsewhere, 'client', 'list', '--json');
      // This checkout may or may not have run a server (data/ exists or not): either way the
      // CLI looked in the project, and the directory it was run from is untouched.
      if (r.code !== 0) expect(jsonError(r)).toEqual({ error: 'no_database', message: expect.stringContaining(`no govauth database at ${join(PROJECT_DIR, 'data', 'govauth.db')}:`) as string });
      expect(readdirSync(elsewhere)).toEqual([]);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it.runIf(onPostgres())('PostgreSQL: a database govauth never set up is refused too, its password not shown', async () => {
    const db = await createTestDatabase();
    try {
      const url = new URL(db.url);
      url.password = 'hunter2-not-shown';
      const r = await govauth({ DATABASE_URL: db.url }, tmpdir(), 'client', 'list', '--json');
      expect(r.code).toBe(78);
      expect(jsonError(r).error).toBe('no_database');
      expect(r.stderr).toContain(url.pathname);
    } finally {
      await db.drop();
    }
  });
});

/** The README's exit-status table: status → the `error` codes its row lists. */
function exitTable(): Map<number, string[]> {
  const section = readme.slice(readme.indexOf('| exit status |'));
  const table = section.slice(0, section.indexOf('\n\n'));
  const rows = [...table.matchAll(/^\| (\d+) \|[^|]*\|([^\n]*)\|$/gm)];
  return new Map(rows.map((m) => [Number(m[1]), [...(m[2] ?? '').matchAll(/`([a-z_]+)`/g)].map((c) => c[1] ?? '')]));
}

describe('exit statuses and --json errors follow the README table, row by row', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url, GOVAUTH_DATA_DIR: db.dataDir, GOVAUTH_MASTER_KEY: randomBytes(32).toString('base64') };
    expect((await govauth(env, tmpdir(), 'init', '--demo')).code).toBe(0);
  });
  afterAll(() => db?.drop());

  /** One real case per row: what to run, and the `error` code it must give. */
  const cases: Record<number, { args: string[]; env?: () => Record<string, string>; prepare?: () => Promise<void>; error?: string; stdout?: RegExp; committed?: boolean }> = {
    0: { args: ['--version'], stdout: new RegExp(`^govauth ${version.replaceAll('.', '\\.')}\\n$`) },
    1: { args: ['revoke', '--grant', 'NoSuchGrant_1'], error: 'not_found' },
    2: { args: ['clent', 'list'], error: 'unknown_command' },
    3: {
      args: ['audit', 'verify'],
      error: 'audit_chain_broken',
      async prepare() {
        await withDatabase(async (d) => {
          const first = await d.prisma.auditEvent.findFirstOrThrow({ orderBy: { seq: 'asc' } });
          await d.prisma.auditEvent.update({ where: { seq: first.seq }, data: { outcome: first.outcome === 'success' ? 'failure' : 'success' } });
        });
      },
    },
    // A damaged database (a table gone) is nothing the CLI can explain: an internal error.
    // PostgreSQL refuses to drop a table others reference (scope grants, policies…) without CASCADE.
    70: {
      args: ['scope', 'list'],
      error: 'internal_error',
      prepare: () => withDatabase(async (d) => void (await d.prisma.$executeRawUnsafe('DROP TABLE "ScopeUsage"'), await d.prisma.$executeRawUnsafe('DROP TABLE "ResourceScope"'), await d.prisma.$executeRawUnsafe('DROP TABLE "RoleScope"'), await d.prisma.$executeRawUnsafe(`DROP TABLE "Scope"${d.kind === 'postgresql' ? ' CASCADE' : ''}`))),
    },
    // A live instance that never applies the change: a registry row with a fresh heartbeat
    // (an hour ahead, so it stays live through both runs) and nothing applied. The change is
    // committed, so stdout still carries the command's result.
    75: {
      args: ['client', 'create', '--name', 'lag-probe', '--grant', 'client_credentials', '--wait', '200ms'],
      error: 'propagation_incomplete',
      committed: true,
      prepare: () =>
        withDatabase(async (d) => {
          await d.prisma.serverInstance.create({ data: { id: 'lagging-instance', host: 'test', pid: 1, heartbeatAt: new Date(Date.now() + 3_600_000), appliedChange: 0 } });
        }),
    },
    78: { args: ['client', 'list'], env: () => ({ GOVAUTH_PORT: 'not-a-port' }), error: 'invalid_configuration' },
  };

  async function withDatabase(work: (d: Awaited<ReturnType<typeof openDatabase>>) => Promise<void>): Promise<void> {
    const d = await openDatabase(loadConfig(env).database, { now: Date.now });
    try {
      await work(d);
    } finally {
      await d.close();
    }
  }

  it('the table lists 0, 1, 2, 3, 70, 75 and 78, and every row has a case here', () => {
    expect([...exitTable().keys()].sort((a, b) => a - b)).toEqual(Object.keys(cases).map(Number).sort((a, b) => a - b));
  });

  // In the order of the table: the damaging cases (3, 70) come after the ones needing a sound database.
  for (const [status, c] of Object.entries(cases).sort(([a], [b]) => Number(a) - Number(b))) {
    it(`exit ${status}: ${c.args.join(' ')}${c.error ? ` → ${c.error}` : ''}`, async () => {
      await c.prepare?.();
      const runEnv = { ...env, ...c.env?.() };
      const human = await govauth(runEnv, tmpdir(), ...c.args);
      expect(human.code, human.stderr).toBe(Number(status));
      expect(human.stderr).not.toMatch(/^\s+at |Error:/m); // never a stack trace
      const json = await govauth(runEnv, tmpdir(), ...c.args, '--json');
      expect(json.code).toBe(Number(status));
      if (c.stdout) {
        expect(human).toMatchObject({ stdout: expect.stringMatching(c.stdout) as string, stderr: '' });
        expect(JSON.parse(json.stdout)).toEqual({ version });
        return;
      }
      if (c.committed) {
        expect(human.stdout).toMatch(/not in force|in force on/); // the result, with the propagation line
        expect(JSON.parse(json.stdout)).toHaveProperty('propagation.complete', false);
      } else expect(human.stdout).toBe('');
      expect(human.stderr).toMatch(/^govauth[a-z -]*: \S/);
      const error = c.committed ? committedError(json) : jsonError(json);
      expect(error.error).toBe(c.error);
      expect(exitTable().get(Number(status)), `README row ${status} lists ${error.error}`).toContain(error.error);
    });
  }

  it('exit 2 also for a bad option, with the usage line for people and only the JSON object for tools', async () => {
    const human = await govauth(env, tmpdir(), 'client', 'create', '--name', 'x', '--bogus');
    expect(human.code).toBe(2);
    expect(human.stderr).toMatch(/^govauth client create: Unknown option '--bogus'[\s\S]*\nusage: govauth client create /);
    const json = await govauth(env, tmpdir(), 'client', 'create', '--name', 'x', '--bogus', '--json');
    expect(json.code).toBe(2);
    expect(jsonError(json)).toEqual({ error: 'usage_error', message: expect.stringMatching(/^Unknown option '--bogus'/) as string });
  });

  it('suggests the nearest command for a typo, and nothing for a word that is not one', async () => {
    expect(jsonError(await govauth(env, tmpdir(), 'clent', 'list', '--json')).message).toBe('unknown command "clent list"; did you mean `govauth client list`?');
    expect(jsonError(await govauth(env, tmpdir(), 'user', 'mfa', 'enrol', 'a@b.example', '--json')).message).toMatch(/did you mean `govauth user mfa enroll`\?$/);
    expect((await govauth(env, tmpdir(), 'revok', '--user', 'a@b.example')).stderr).toMatch(/^govauth: unknown command "revok"; did you mean `govauth revoke`\?\n/);
    const unrelated = await govauth(env, tmpdir(), 'frobnicate', '--json');
    expect(jsonError(unrelated).message).toBe('unknown command "frobnicate"');
  });
});

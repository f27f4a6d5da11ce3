// `govauth backup` and `govauth restore` as an operator runs them: real CLI processes against a
// real server that is issuing tokens the whole time, then a second server on the restored copy.
// Runs on SQLite (VACUUM INTO) and, with DATABASE_URL=postgresql://…, on PostgreSQL (pg_dump /
// pg_restore; the restored copy goes into a database the test creates empty).
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, migrationsDir } from '../../src/db/migrate.ts';
import { basic, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { API } from '../helpers/people.ts';
import { cliProcess, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/test-database.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
interface Head {
  seq: number;
  hash: string;
  at: string;
}

const masterKey = randomBytes(32).toString('base64');
const work = mkdtempSync(join(tmpdir(), 'govauth-backup-'));
const dropAfter: (() => Promise<void>)[] = [];

/** Where a restore goes: a new data directory, or (PostgreSQL) a new, empty database. */
async function freshTarget(): Promise<Record<string, string>> {
  const dataDir = mkdtempSync(join(work, 'restored-'));
  if (!onPostgres()) return { DATABASE_URL: `file:${join(dataDir, 'govauth.db')}`, GOVAUTH_DATA_DIR: dataDir };
  const name = `govauth_r_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  dropAfter.push(async () => {
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  const url = new URL(process.env.DATABASE_URL ?? '');
  url.pathname = `/${name}`;
  return { DATABASE_URL: url.href, GOVAUTH_DATA_DIR: dataDir };
}

// One issuer for both servers, as in production (tokens name it in `iss`).
const common = { NODE_ENV: 'test', GOVAUTH_ISSUER: 'http://auth.example', GOVAUTH_MASTER_KEY: masterKey, GOVAUTH_RATE_LIMIT_TOKEN: '1000000' };
const json = <T>(r: Run): T => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};
/** A refusal: exit 1 and exactly one JSON error object on stderr. */
const refusal = (r: Run): { error: string; message: string } => {
  expect(r.code, r.stdout + r.stderr).toBe(1);
  expect(r.stdout).toBe('');
  return JSON.parse(r.stderr) as { error: string; message: string };
};

async function token(url: string, creds: ClientCreds): Promise<string> {
  const res = await tokenRequest(url, { grant_type: 'client_credentials', resource: API }, { basic: creds });
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${JSON.stringify(res.body)}`);
  return String(res.body.access_token);
}

async function active(url: string, rs: ClientCreds, accessToken: string): Promise<boolean> {
  const res = await fetch(`${url}/token/introspection`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs) },
    body: new URLSearchParams({ token: accessToken }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { active: boolean }).active;
}

let tdb: TestDatabase;
let env: Record<string, string>;
let source: ServerProcess | undefined;
let restored: ServerProcess | undefined;

beforeAll(async () => {
  tdb = await createTestDatabase();
  env = { ...common, DATABASE_URL: tdb.url, GOVAUTH_DATA_DIR: tdb.dataDir, GOVAUTH_PORT: '0' };
}, 30_000);
afterAll(async () => {
  await source?.stop('SIGKILL');
  await restored?.stop('SIGKILL');
  for (const drop of dropAfter) await drop();
  await tdb?.drop();
  rmSync(work, { recursive: true, force: true });
});

describe('backup while tokens are issued, restore into a new database, serve from it', () => {
  it('keeps every token issued before the backup and an intact audit chain', { timeout: 180_000 }, async () => {
    expect((await cliProcess(env, 'init', '--demo')).code).toBe(0);
    const create = async (name: string, ...args: string[]): Promise<ClientCreds> => json<ClientCreds>(await cliProcess(env, 'client', 'create', '--name', name, ...args, '--json'));
    const bot = await create('load-bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
    const revokedLater = await create('revoked-later', '--grant', 'client_credentials', '--roles', 'data-scientist');
    const rs = await create('model-api', '--resource', API, '--introspect');
    source = await startServerProcess(env);
    const srcUrl = source.url;

    const before = [await token(srcUrl, bot), await token(srcUrl, bot)];
    const revokedToken = await token(srcUrl, revokedLater);

    // Load: four loops issuing tokens (each one audited: the server group-commits the records).
    // A failed request is recorded, not thrown: the backup must not make the server refuse any.
    const issued: { token: string; at: number }[] = [];
    const failures: string[] = [];
    let stop = false;
    const loops = Array.from({ length: 4 }, async () => {
      while (!stop) {
        await token(srcUrl, bot).then(
          (t) => issued.push({ token: t, at: performance.now() }),
          (err: unknown) => failures.push(String(err)),
        );
        if (failures.length > 50) break;
      }
    });
    const file = join(work, onPostgres() ? 'govauth.dump' : 'govauth-backup.db');
    let backupStarted: number, backupEnded: number, backupRun: Run;
    try {
      while (issued.length < 20 && failures.length === 0) await new Promise((r) => setTimeout(r, 10));
      backupStarted = performance.now();
      backupRun = await cliProcess(env, 'backup', file, '--json');
      backupEnded = performance.now();
      await new Promise((r) => setTimeout(r, 200)); // the load goes on after the backup point
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    expect(failures).toEqual([]);
    const backup = json<{ file: string; bytes: number; format: string; head: Head; master_key: unknown }>(backupRun);

    // The copy was taken under load: tokens were issued (and audited) while `govauth backup` ran.
    const during = issued.filter((i) => i.at > backupStarted && i.at < backupEnded);
    expect(during.length).toBeGreaterThan(0);
    expect(backup).toMatchObject({ file, format: onPostgres() ? 'pg_dump' : 'sqlite', master_key: { env: 'GOVAUTH_MASTER_KEY' } });
    expect(backup.bytes).toBe(statSync(file).size);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(backup.head.seq).toBeGreaterThan(20);
    expect(readdirSync(work).filter((f) => f.endsWith('.partial'))).toEqual([]);
    const text = await cliProcess(env, 'backup', join(work, 'second-copy'));
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('this backup is useless without the master key, in the GOVAUTH_MASTER_KEY environment variable: back it up separately; never store them together');

    // An existing file is never replaced without --force.
    expect(refusal(await cliProcess(env, 'backup', file, '--json')).error).toBe('conflict');

    // After the backup point: a client is created and one is revoked (not in the backup).
    const lateClient = await create('created-after-backup', '--grant', 'client_credentials', '--roles', 'data-scientist');
    const lateClientToken = await token(srcUrl, lateClient);
    expect((await cliProcess(env, 'revoke', '--client', revokedLater.client_id)).code).toBe(0);
    expect(await active(srcUrl, rs, revokedToken)).toBe(false);
    const afterBackup = issued.filter((i) => i.at > backupEnded);
    expect(afterBackup.length).toBeGreaterThan(0);
    await source.stop();
    source = undefined;

    // Restore into a new database, with the same master key.
    const target = { ...common, ...(await freshTarget()), GOVAUTH_PORT: '0' };
    const restoreRun = json<{ audit: { ok: boolean; head: string }; master_key: string; migrations_applied: string[] }>(await cliProcess(target, 'restore', file, '--json'));
    expect(restoreRun).toMatchObject({ audit: { ok: true, head: `${backup.head.seq}:${backup.head.hash}` }, master_key: 'matches', migrations_applied: [] });
    // The head printed at backup time proves the restored trail is the one copied.
    expect(json<{ ok: boolean }>(await cliProcess(target, 'audit', 'verify', '--checkpoint', `${backup.head.seq}:${backup.head.hash}`, '--json')).ok).toBe(true);

    restored = await startServerProcess(target);
    const url = restored.url;
    // Tokens issued before the backup, including under load before it started, still introspect.
    for (const t of [...before, ...issued.filter((i) => i.at < backupStarted).slice(-10).map((i) => i.token)]) expect(await active(url, rs, t)).toBe(true);
    // A token issued after the backup point by a client the backup holds is still active: a JWT
    // access token is verified by the signing key (in the backup) and the live policy, and
    // govauth never stores access tokens (ENGINEERING.md §1), so nothing could tell it apart.
    for (const t of afterBackup.slice(-5)) expect(await active(url, rs, t.token)).toBe(true);
    // A client created after the backup does not exist here: its token is inactive.
    expect(await active(url, rs, lateClientToken)).toBe(false);
    // A revocation made after the backup is lost with it: the operator must re-apply it (the
    // restore says so, README "Backup and restore").
    expect(await active(url, rs, revokedToken)).toBe(true);
    // The restored server issues and audits on top of the restored chain.
    expect(await active(url, rs, await token(url, bot))).toBe(true);
    const verified = json<{ ok: boolean; last: number }>(await cliProcess(target, 'audit', 'verify', '--json'));
    expect(verified.ok).toBe(true);
    expect(verified.last).toBeGreaterThan(backup.head.seq);
    // Every column came across: the restored records still say which resource they concern.
    const byResource = json<{ events: { action: string; resource: string | null }[] }>(await cliProcess(target, 'audit', 'tail', '--resource', API, '--action', 'token.issued', '--limit', '1000', '--json'));
    expect(byResource.events.length).toBeGreaterThanOrEqual(20);
    expect(byResource.events.every((e) => e.resource === API)).toBe(true);

    // Never over a database in use: on SQLite --force is refused while the server runs; on
    // PostgreSQL a non-empty database is always refused.
    const again = refusal(await cliProcess(target, 'restore', file, '--force', '--json'));
    expect(again.error).toBe('conflict');
    expect(again.message).toMatch(onPostgres() ? /not empty/ : /a server is using the database/);
    await restored.stop();
    restored = undefined;
    // Once no server uses it, --force replaces a SQLite database with the backup (the chain is
    // the backup's again); a PostgreSQL database is still refused.
    const forced = await cliProcess(target, 'restore', file, '--force', '--json');
    if (onPostgres()) expect(refusal(forced).error).toBe('conflict');
    else expect(json<{ audit: { head: string } }>(forced).audit.head).toBe(`${backup.head.seq}:${backup.head.hash}`);
  });
});

describe('restore checks what it is given', () => {
  it('migrates a backup from an older version forward', { timeout: 60_000 }, async () => {
    // A database made by an older govauth: only its first migrations.
    const all = readdirSync(migrationsDir(tdb.kind)).filter((n) => /^\d/.test(n)).sort();
    const older = mkdtempSync(join(work, 'older-migrations-'));
    for (const name of all.slice(0, all.length - 3)) cpSync(join(migrationsDir(tdb.kind), name), join(older, name), { recursive: true });
    const oldTarget = await freshTarget();
    const old = { ...common, ...oldTarget };
    await migrate({ kind: tdb.kind, url: oldTarget.DATABASE_URL ?? '' }, `${older}/`);
    const file = join(work, `older-${randomBytes(3).toString('hex')}`);
    expect((await cliProcess(old, 'backup', file)).code).toBe(0);

    const target = { ...common, ...(await freshTarget()) };
    const run = json<{ migrations_applied: string[]; master_key: string }>(await cliProcess(target, 'restore', file, '--json'));
    expect(run.migrations_applied).toEqual(all.slice(all.length - 3));
    expect((await cliProcess(target, 'audit', 'verify')).code).toBe(0);
  });

  it('refuses a file that is not a backup, or is missing, and says where the master key must be', { timeout: 60_000 }, async () => {
    const junk = join(work, 'not-a-backup');
    writeFileSync(junk, 'hello');
    const target = { ...common, ...(await freshTarget()) };
    expect(refusal(await cliProcess(target, 'restore', junk, '--json'))).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(/not a govauth backup/) as unknown });
    expect(refusal(await cliProcess(target, 'restore', join(work, 'missing'), '--json')).error).toBe('not_found');
    expect(refusal(await cliProcess(env, 'backup', join(work, 'no-such-directory', 'copy'), '--json')).error).toBe('not_found');
    // Nothing was created by the refusals: the target is still empty (restore into it works).
    const file = join(work, `good-${randomBytes(3).toString('hex')}`);
    expect((await cliProcess(env, 'backup', file)).code).toBe(0);
    // No master key configured: the restore succeeds and says where the key must go.
    const keyless = { ...target, GOVAUTH_MASTER_KEY: '' };
    const run = await cliProcess(keyless, 'restore', file);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/master key: NONE in the file .*master\.key/);
  });
});

// A fresh database per test file: a SQLite file in a temp directory, or, when DATABASE_URL
// points at PostgreSQL (CI runs the suite on both), a new database on that server, dropped
// afterwards.
//
// A server under test starts on an already migrated copy (`migrated: true`): the run migrates
// one template database once (test/helpers/global-setup.ts) and each test server gets a copy
// (a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL), instead of applying every
// migration again at each of the suite's several hundred server starts. Tests of migrating
// itself ask for an empty database (the default).
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestDatabase {
  readonly kind: 'sqlite' | 'postgresql';
  readonly url: string;
  readonly dataDir: string;
  drop(): Promise<void>;
}

export const onPostgres = (): boolean => /^postgres(ql)?:/.test(process.env.DATABASE_URL ?? '');

/** Prefix of every PostgreSQL database this run creates, so the global teardown can find leftovers. */
export const pgDatabasePrefix = (runId: string): string => `govauth_t_${runId}_`;

function template(): { runId: string; sqlite?: string; postgresql?: string } {
  try {
    return inject('govauthTestTemplate') ?? { runId: 'x' };
  } catch {
    return { runId: 'x' }; // outside a vitest run (a script importing the helpers)
  }
}

export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'govauth-test-'));
  const base = process.env.DATABASE_URL;
  const tmpl = template();
  if (!base || !onPostgres()) {
    const file = join(dataDir, 'govauth.db');
    if (options.migrated && tmpl.sqlite) copyFileSync(tmpl.sqlite, file);
    return {
      kind: 'sqlite',
      url: `file:${file}`,
      dataDir,
      drop: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })),
    };
  }
  const name = `${pgDatabasePrefix(tmpl.runId)}${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(options.migrated && tmpl.postgresql ? `CREATE DATABASE ${name} TEMPLATE ${tmpl.postgresql}` : `CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    kind: 'postgresql',
    url: url.href,
    dataDir,
    drop() {
      rmSync(dataDir, { recursive: true, force: true });
      // Dropping takes PostgreSQL a checkpoint's worth of time; nothing waits for it, so it runs
      // while the next test does. The global teardown drops whatever is still there at the end.
      void dropDatabase(base, name).catch(() => undefined);
      return Promise.resolve();
    },
  };
}

export async function dropDatabase(base: string, name: string): Promise<void> {
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await c.end();
  }
}

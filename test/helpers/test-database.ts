// A fresh database per test file: a SQLite file in a temp directory, or, when DATABASE_URL
// points at PostgreSQL (CI runs the suite on both), a new database on that server, dropped
// afterwards.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestDatabase {
  readonly kind: 'sqlite' | 'postgresql';
  readonly url: string;
  readonly dataDir: string;
  drop(): Promise<void>;
}

export const onPostgres = (): boolean => /^postgres(ql)?:/.test(process.env.DATABASE_URL ?? '');

export async function createTestDatabase(): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'govauth-test-'));
  const base = process.env.DATABASE_URL;
  if (!base || !onPostgres()) {
    return {
      kind: 'sqlite',
      url: `file:${join(dataDir, 'govauth.db')}`,
      dataDir,
      drop: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })),
    };
  }
  const name = `govauth_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    kind: 'postgresql',
    url: url.href,
    dataDir,
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

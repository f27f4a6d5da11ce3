// Once per test run: a migrated template database that test servers start from
// (test-database.ts), and at the end the removal of every PostgreSQL database the run created.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate } from '../../src/db/migrate.ts';
import { dropDatabase, onPostgres, pgDatabasePrefix } from './test-database.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    govauthTestTemplate: { runId: string; sqlite?: string; postgresql?: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = randomBytes(4).toString('hex');
  const base = process.env.DATABASE_URL;
  if (base && onPostgres()) {
    const name = `govauth_tmpl_${runId}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(base);
    url.pathname = `/${name}`;
    await migrate({ kind: 'postgresql', url: url.href });
    project.provide('govauthTestTemplate', { runId, postgresql: name });
    return async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      const left = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${pgDatabasePrefix(runId)}%`]);
      await c.end();
      for (const { datname } of left.rows) await dropDatabase(base, datname).catch(() => undefined);
      await dropDatabase(base, name);
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'govauth-template-'));
  const file = join(dir, 'govauth.db');
  await migrate({ kind: 'sqlite', url: `file:${file}` });
  project.provide('govauthTestTemplate', { runId, sqlite: file });
  return () => Promise.resolve(rmSync(dir, { recursive: true, force: true }));
}

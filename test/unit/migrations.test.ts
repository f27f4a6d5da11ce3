import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { migrate, migrationsDir, readMigrations } from '../../src/db/migrate.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('schemas and migrations', () => {
  it('keeps both provider schemas rendered from prisma/models.prisma', () => {
    // Exits 1 and names the stale file when someone edited a rendered schema or forgot to render.
    expect(() => execFileSync(process.execPath, [join(root, 'scripts/db-schema.ts'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('ships the same migrations for both providers', () => {
    const names = (kind: 'sqlite' | 'postgresql') => readMigrations(migrationsDir(kind)).map((m) => m.name);
    expect(names('sqlite')).toEqual(names('postgresql'));
  });

  it('applies once, is idempotent, and refuses an edited migration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'govauth-mig-'));
    const migrations = join(dir, 'migrations/');
    mkdirSync(join(migrations, '001_a'), { recursive: true });
    writeFileSync(join(migrations, '001_a/migration.sql'), 'CREATE TABLE a (x INTEGER);');
    const target = { kind: 'sqlite' as const, url: `file:${join(dir, 'db.sqlite')}` };
    expect(await migrate(target, migrations)).toEqual(['001_a']);
    expect(await migrate(target, migrations)).toEqual([]);
    writeFileSync(join(migrations, '001_a/migration.sql'), 'CREATE TABLE a (y INTEGER);');
    await expect(migrate(target, migrations)).rejects.toThrow(/was modified after it was applied/);
  });

  it('rolls back a failing migration and reports it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'govauth-mig-'));
    const migrations = join(dir, 'migrations/');
    mkdirSync(join(migrations, '001_bad'), { recursive: true });
    writeFileSync(join(migrations, '001_bad/migration.sql'), 'CREATE TABLE ok (x INTEGER); THIS IS NOT SQL;');
    const target = { kind: 'sqlite' as const, url: `file:${join(dir, 'db.sqlite')}` };
    await expect(migrate(target, migrations)).rejects.toThrow();
    writeFileSync(join(migrations, '001_bad/migration.sql'), 'CREATE TABLE ok (x INTEGER);');
    expect(await migrate(target, migrations)).toEqual(['001_bad']); // nothing half-applied
  });
});

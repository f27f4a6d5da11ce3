// Upgrading to the explicit admin-API allowance (Client.adminAccess): bots an administrator had
// already given a role carrying an admin-API scope keep working; apps for people, which got
// admin tokens only through the hole this flag closes, and public clients are not allowed.
import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { migrate, migrationsDir } from '../../src/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

const FLAG_MIGRATION = /_client_admin_access$/;
let tdb: TestDatabase | undefined;
afterAll(() => tdb?.drop());

it('backfills admin access for confidential clients holding an admin-API role, and nothing else', async () => {
  tdb = await createTestDatabase();
  const target = { kind: tdb.kind, url: tdb.url };
  const source = migrationsDir(tdb.kind);
  const all = readdirSync(source, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const flagAt = all.findIndex((n) => FLAG_MIGRATION.test(n));
  expect(flagAt).toBeGreaterThan(0);
  // The database as it was before the flag existed.
  const before = mkdtempSync(join(tmpdir(), 'govauth-mig-'));
  for (const name of all.slice(0, flagAt)) cpSync(join(source, name), join(before, name), { recursive: true });
  await migrate(target, `${before}/`);

  const db = await openDatabase(target, { now: Date.now });
  try {
    const run = (sql: string) => db.prisma.$executeRawUnsafe(sql);
    await run(`INSERT INTO "Scope" ("name","description","sensitivity","updatedAt") VALUES ('govauth.admin','a','high',CURRENT_TIMESTAMP), ('ai.read','b','low',CURRENT_TIMESTAMP)`);
    await run(`INSERT INTO "Resource" ("audience","name","updatedAt") VALUES ('urn:govauth:admin','admin',CURRENT_TIMESTAMP), ('https://models.example','models',CURRENT_TIMESTAMP)`);
    await run(`INSERT INTO "ResourceScope" ("audience","scopeName") VALUES ('urn:govauth:admin','govauth.admin'), ('https://models.example','ai.read')`);
    // A renamed role still counts: what matters is that it carries a scope of the admin resource.
    await run(`INSERT INTO "Role" ("name","updatedAt") VALUES ('ops',CURRENT_TIMESTAMP), ('reader',CURRENT_TIMESTAMP)`);
    await run(`INSERT INTO "RoleScope" ("roleName","scopeName") VALUES ('ops','govauth.admin'), ('reader','ai.read')`);
    const client = (id: string, secret: string | null, grants: string) =>
      run(`INSERT INTO "Client" ("id","name","secretHash","grantTypes","updatedAt") VALUES ('${id}','${id}',${secret === null ? 'NULL' : `'${secret}'`},'${grants}',CURRENT_TIMESTAMP)`);
    await client('cl_ops', 'h', '["client_credentials"]');
    await client('cl_reader', 'h', '["client_credentials"]');
    await client('cl_app', 'h', '["authorization_code","refresh_token"]');
    await client('cl_spa', null, '["authorization_code","refresh_token"]');
    await run(`INSERT INTO "ClientRole" ("clientId","roleName") VALUES ('cl_ops','ops'), ('cl_reader','reader')`);

    expect(await migrate(target)).toEqual(all.slice(flagAt)); // this migration and any after it
    const rows = await db.prisma.client.findMany({ select: { id: true, adminAccess: true }, orderBy: { id: 'asc' } });
    expect(rows).toEqual([
      { id: 'cl_app', adminAccess: false },
      { id: 'cl_ops', adminAccess: true },
      { id: 'cl_reader', adminAccess: false },
      { id: 'cl_spa', adminAccess: false },
    ]);
    // Adding the column keeps what hangs off Client (a table rebuild could cascade).
    expect(await db.prisma.clientRole.count()).toBe(2);
  } finally {
    await db.close();
  }
});

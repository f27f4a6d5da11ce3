// The request path's plain-SQL client on SQLite (src/db/sqlite-raw.ts): failed statements must
// not leave a transaction or a lock behind, and another process's write lock is waited out
// (asynchronously) up to the deadline, then reported.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteRawSql } from '../../src/db/sqlite-raw.ts';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'govauth-sqlite-raw-'));
  path = join(dir, 't.db');
  const setup = new Database(path);
  setup.prepare('PRAGMA journal_mode = WAL').get();
  setup.exec('CREATE TABLE "T" ("id" INTEGER PRIMARY KEY, "v" TEXT NOT NULL)');
  setup.close();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('plain SQL on SQLite', () => {
  it('rolls back a transaction whose statement fails, and the next one commits', async () => {
    const sql = createSqliteRawSql(path, { busyTimeoutMs: 2, retryDeadlineMs: 1000 });
    await sql.execute('INSERT INTO "T" ("id", "v") VALUES (?, ?)', [1, 'one']);
    await expect(
      sql.transaction(async (tx) => {
        await tx.execute('INSERT INTO "T" ("id", "v") VALUES (?, ?)', [2, 'two']);
        await tx.execute('INSERT INTO "T" ("id", "v") VALUES (?, ?)', [1, 'duplicate']); // primary key
      }),
    ).rejects.toThrow(/UNIQUE|constraint/i);
    expect(await sql.query('SELECT "id" FROM "T" ORDER BY "id"')).toEqual([{ id: 1 }]);
    await sql.transaction((tx) => tx.execute('INSERT INTO "T" ("id", "v") VALUES (?, ?)', [3, 'three']));
    expect(await sql.query('SELECT "id", "v" FROM "T" ORDER BY "id"')).toEqual([
      { id: 1, v: 'one' },
      { id: 3, v: 'three' },
    ]);
    // Nothing is held: another connection can write at once.
    const other = new Database(path);
    other.prepare('INSERT INTO "T" ("id", "v") VALUES (4, \'four\')').run();
    other.close();
    await sql.close();
  });

  it('rolls back when the work itself throws', async () => {
    const sql = createSqliteRawSql(path, { busyTimeoutMs: 2, retryDeadlineMs: 1000 });
    await expect(
      sql.transaction(async (tx) => {
        await tx.execute('INSERT INTO "T" ("id", "v") VALUES (?, ?)', [5, 'five']);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await sql.query('SELECT count(*) AS "n" FROM "T"')).toEqual([{ n: 0 }]);
    await sql.close();
  });

  it("waits out another process's write lock, and gives up at the deadline", async () => {
    const holder = new Database(path);
    holder.prepare('BEGIN IMMEDIATE').run();
    const patient = createSqliteRawSql(path, { busyTimeoutMs: 2, retryDeadlineMs: 5000 });
    const waiting = patient.transaction((tx) => tx.execute('INSERT INTO "T" ("id", "v") VALUES (?, ?)', [6, 'six']));
    const hasty = createSqliteRawSql(path, { busyTimeoutMs: 2, retryDeadlineMs: 50 });
    await expect(hasty.execute('INSERT INTO "T" ("id", "v") VALUES (?, ?)', [7, 'seven'])).rejects.toThrow(/BUSY|locked/i);
    setTimeout(() => holder.prepare('COMMIT').run(), 200);
    await expect(waiting).resolves.toBe(1);
    expect(await hasty.query('SELECT "id" FROM "T"')).toEqual([{ id: 6 }]);
    // Both keep working after a BUSY, the one that gave up included (a statement left active by
    // BUSY would make their next COMMIT fail).
    await expect(hasty.transaction((tx) => tx.execute('INSERT INTO "T" ("id", "v") VALUES (?, ?)', [7, 'seven']))).resolves.toBe(1);
    await expect(patient.transaction((tx) => tx.execute('INSERT INTO "T" ("id", "v") VALUES (?, ?)', [8, 'eight']))).resolves.toBe(1);
    holder.close();
    await patient.close();
    await hasty.close();
  });

  it('refuses values SQLite cannot hold instead of storing something else', async () => {
    const sql = createSqliteRawSql(path, { busyTimeoutMs: 2, retryDeadlineMs: 1000 });
    await expect(sql.execute('INSERT INTO "T" ("id", "v") VALUES (?, ?)', [8, undefined])).rejects.toThrow(/undefined/);
    await expect(sql.execute('INSERT INTO "T" ("id", "v") VALUES (?, ?)', [Number.NaN, 'x'])).rejects.toThrow(/finite/);
    // Many distinct statements: the statement cache stays bounded and correct.
    for (let i = 0; i < 100; i++) await sql.execute(`INSERT INTO "T" ("id", "v") VALUES (?, ?) -- ${i}`, [100 + i, `v${i}`]);
    expect(await sql.query('SELECT count(*) AS "n" FROM "T"')).toEqual([{ n: 100 }]);
    await sql.close();
  });
});

// The request path's plain-SQL client on SQLite (src/db/sqlite-raw.ts): failed statements must
// not leave a transaction or a lock behind, and another process's write lock is waited out
// (asynchronously) up to the deadline, then reported. Writes outside a transaction share one
// commit (group commit) yet each caller keeps its own outcome.
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

  describe('writes outside a transaction (group commit)', () => {
    const insert = 'INSERT INTO "T" ("id", "v") VALUES (?, ?)';

    it('gives each caller its own row count and its own error, and keeps the others', async () => {
      const sql = createSqliteRawSql(path, { busyTimeoutMs: 2, retryDeadlineMs: 1000 });
      await sql.execute(insert, [1, 'one']);
      const consume = 'UPDATE "T" SET "v" = \'used\' WHERE "id" = ? AND "v" <> \'used\''; // compare-and-set, as the adapter's consume
      const outcomes = await Promise.allSettled([
        sql.execute(insert, [2, 'two']),
        sql.execute(consume, [1]),
        sql.execute(insert, [1, 'duplicate']), // primary key: this caller alone is refused
        sql.execute(consume, [1]), // the second consume of the same row changes nothing
        sql.execute(insert, [3, undefined]), // refused before it runs
        sql.execute(insert, [4, 'four']),
      ]);
      expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : 'refused'))).toEqual([1, 1, 'refused', 0, 'refused', 1]);
      expect(String((outcomes[2] as PromiseRejectedResult).reason)).toMatch(/UNIQUE|constraint/i);
      await sql.close();
      // What was acknowledged is on disk, seen from another connection.
      const other = new Database(path);
      expect(other.prepare('SELECT "id", "v" FROM "T" ORDER BY "id"').all()).toEqual([
        { id: 1, v: 'used' },
        { id: 2, v: 'two' },
        { id: 4, v: 'four' },
      ]);
      other.close();
    });

    it('shares one transaction: a statement that ends it fails every write in it, and none is kept', async () => {
      const setup = new Database(path);
      setup.exec('CREATE TRIGGER "abort" BEFORE INSERT ON "T" WHEN NEW."v" = \'abort\' BEGIN SELECT RAISE(ROLLBACK, \'aborted by trigger\'); END');
      setup.close();
      const sql = createSqliteRawSql(path, { busyTimeoutMs: 2, retryDeadlineMs: 1000 });
      const outcomes = await Promise.allSettled([sql.execute(insert, [1, 'one']), sql.execute(insert, [2, 'abort']), sql.execute(insert, [3, 'three'])]);
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(await sql.query('SELECT count(*) AS "n" FROM "T"')).toEqual([{ n: 0 }]);
      // The connection is clean afterwards: the next writes commit.
      await expect(Promise.all([sql.execute(insert, [5, 'five']), sql.execute(insert, [6, 'six'])])).resolves.toEqual([1, 1]);
      expect(await sql.query('SELECT count(*) AS "n" FROM "T"')).toEqual([{ n: 2 }]);
      await sql.close();
    });

    it("waits out another process's write lock as one batch, and lands what was issued before close", async () => {
      const holder = new Database(path);
      holder.prepare('BEGIN IMMEDIATE').run();
      const sql = createSqliteRawSql(path, { busyTimeoutMs: 2, retryDeadlineMs: 5000 });
      const pending = [1, 2, 3].map((id) => sql.execute(insert, [id, `v${id}`]));
      setTimeout(() => holder.prepare('COMMIT').run(), 100);
      await expect(Promise.all(pending)).resolves.toEqual([1, 1, 1]);
      const late = sql.execute(insert, [4, 'issued, then closed']);
      await sql.close();
      await expect(late).resolves.toBe(1);
      expect(holder.prepare('SELECT count(*) AS "n" FROM "T"').get()).toEqual({ n: 4 });
      holder.close();
    });
  });
});

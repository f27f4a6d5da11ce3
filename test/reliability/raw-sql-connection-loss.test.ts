// A PostgreSQL connection dies while a raw-SQL transaction holds it (the audit writer's batches
// do): the transaction must fail as a rejected promise, never as an uncaught 'error' event
// that takes the whole process down (node-postgres emits one on a checked-out client whose
// socket ends), and the broken connection must not go back into the pool.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRawSql, type RawSql } from '../../src/db/raw-sql.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/test-database.ts';

let db: TestDatabase;
let proxy: TcpProxy;
let sql: RawSql;
const uncaught: unknown[] = [];
const record = (err: unknown): void => void uncaught.push(err);

describe.skipIf(!onPostgres())('raw SQL on PostgreSQL losing its connection', () => {
  beforeAll(async () => {
    db = await createTestDatabase();
    const direct = new URL(db.url);
    proxy = new TcpProxy(direct.hostname, Number(direct.port || 5432));
    direct.host = `127.0.0.1:${await proxy.start()}`;
    sql = createRawSql({ kind: 'postgresql', url: direct.href }, { poolSize: 2 });
    process.on('uncaughtException', record);
  });
  afterAll(async () => {
    process.off('uncaughtException', record);
    await sql?.close();
    await proxy?.close();
    await db?.drop();
  });

  it('rejects the transaction, raises nothing uncaught, and works again once the database is back', async () => {
    expect(await sql.query<{ n: number }>('SELECT 1 AS n')).toEqual([{ n: 1 }]);
    const tx = sql.transaction(async (t) => {
      await t.query('SELECT 1');
      await proxy.cut();
      // Let the socket's end reach the client while it is checked out and idle.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await t.query('SELECT 2');
    });
    await expect(tx).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(uncaught).toEqual([]);

    await proxy.restore();
    // Both pool slots: neither may hand out the dead connection.
    const again = await Promise.all([sql.query<{ n: number }>('SELECT 3 AS n'), sql.transaction((t) => t.query<{ n: number }>('SELECT 4 AS n'))]);
    expect(again).toEqual([[{ n: 3 }], [{ n: 4 }]]);
  });
});

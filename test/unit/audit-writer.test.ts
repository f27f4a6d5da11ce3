// The audit writer's group commit, against an in-memory stand-in for the database: every record
// is written without waiting for another one to arrive.
import { describe, expect, it } from 'vitest';
import { createAuditWriter } from '../../src/audit/audit-writer.ts';
import { dialectOf } from '../../src/db/dialect.ts';
import type { RawSql, RawTx } from '../../src/db/raw-sql.ts';
import { silentLogger } from '../../src/log/logger.ts';

function memoryLog(): { sql: RawSql; rows: unknown[][] } {
  const rows: unknown[][] = [];
  const tx: RawTx = {
    query: <T>(text: string, params: readonly unknown[] = []) => {
      if (text.startsWith('INSERT')) rows.push([...params]);
      return Promise.resolve([] as T[]);
    },
    execute: () => Promise.resolve(0),
    time: (date) => date.toISOString(),
  };
  return {
    rows,
    sql: { ...tx, dialect: dialectOf('sqlite'), transaction: (work) => work(tx), poolStats: () => ({ total: 1, idle: 1, waiting: 0 }), close: () => Promise.resolve() },
  };
}

const within = <T>(ms: number, work: Promise<T>): Promise<T> =>
  Promise.race([work, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not written within ${ms} ms`)), ms).unref())]);

describe('audit writer', () => {
  // Found by test/integration/delegation-audit.test.ts: a record made just as the previous
  // batch's promise settled found the finishing drain still marked running, started none, and
  // waited for the next record to arrive (58 s there; on a quiet server, a held token response).
  it('writes a record made right after the previous one resolved, without waiting for another', async () => {
    const { sql, rows } = memoryLog();
    const writer = createAuditWriter(sql, silentLogger, { now: Date.now });
    // However many steps the caller's own continuation takes before its next record, one of
    // them lands exactly while the drain is finishing.
    for (let ticks = 0; ticks < 12; ticks++) {
      for (let i = 0; i < 2; i++) {
        await within(1000, writer.record({ action: 'test.sequential', actorType: 'system', detail: { ticks, i } }));
        for (let k = 0; k < ticks; k++) await Promise.resolve();
      }
    }
    expect(rows).toHaveLength(24);
    await writer.close();
  });
});

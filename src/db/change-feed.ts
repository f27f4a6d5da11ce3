// The change feed: every write to hot-path data (scopes, resources, roles, clients, ...)
// appends rows to `Change` in the same transaction, and every server instance tails the
// feed to keep its in-memory state current (src/governance/policy-store.ts).
// Readers advance a cursor over `id`, which is only safe if ids become visible in order. On
// PostgreSQL a sequence value can commit after a larger one, so writers take one transaction-
// scoped advisory lock first: change-producing transactions are administrative and rare, and
// serializing them costs nothing that matters. SQLite has a single writer anyway.
import { AsyncLocalStorage } from 'node:async_hooks';
import { SpanKind } from '@opentelemetry/api';
import { appendAuditEvents } from './audit-log.ts';
import type { AuditInput } from './audit-record.ts';
import type { Database, Tx } from './database.ts';
import { dialectOf } from './dialect.ts';
import { rawTxOf } from './prisma-tx.ts';

export interface ChangeRef {
  readonly kind: string;
  readonly key: string;
}

export interface ChangeRow extends ChangeRef {
  readonly id: number;
}

const CHANGE_LOCK = 0x67617531; // "gau1": an arbitrary constant shared by every govauth process
export const CHANGE_CHANNEL = 'govauth_change';

// The highest change id each tracked unit of work (a CLI command, an admin API request) has
// written, so it can wait until every instance applied it (src/cli/propagation.ts).
const written = new AsyncLocalStorage<{ changeId: number }>();

/** Runs `work` and reports the highest change id it wrote through writeWithChanges (0: none). */
export async function trackChanges<T>(work: () => Promise<T>): Promise<{ result: T; changeId: number }> {
  const box = { changeId: 0 };
  const result = await written.run(box, work);
  return { result, changeId: box.changeId };
}

/**
 * Runs `work` in a transaction and, before committing, appends the change rows it reports and
 * its audit records: a change and the record of who made it commit together or not at all.
 */
export async function writeWithChanges<T>(
  db: Database,
  work: (tx: Tx) => Promise<{ result: T; changes: readonly ChangeRef[]; audit?: readonly AuditInput[] }>,
): Promise<T> {
  let last = 0;
  const dialect = dialectOf(db.kind);
  const transaction = (): Promise<T> => db.prisma.$transaction(async (tx) => {
    const raw = rawTxOf(tx, dialect);
    await raw.lock(CHANGE_LOCK);
    const { result, changes, audit } = await work(tx);
    if (changes.length) {
      await tx.change.createMany({ data: changes.map((c) => ({ kind: c.kind, key: c.key })) });
      // Ours are the newest rows: writers are serialized (advisory lock, or SQLite's one writer).
      const rows = await tx.$queryRaw<{ id: number | bigint | null }[]>`SELECT MAX("id") AS "id" FROM "Change"`;
      last = Number(rows[0]?.id ?? 0);
      // Delivered at commit; lets other instances refresh at once instead of at the next poll.
      if (dialect.notifyStatement !== undefined) await raw.execute(dialect.notifyStatement, [CHANGE_CHANNEL, '']);
    }
    if (audit?.length) await appendAuditEvents(db, tx, audit);
    return result;
  });
  // Every administrative write goes through here: one span for its Prisma transaction.
  const result = db.tracing?.enabled
    ? await db.tracing.inSpan('transaction', { kind: SpanKind.CLIENT, onlyWithParent: true, attributes: { 'db.system.name': dialect.systemName, 'db.operation.name': 'transaction' } }, transaction)
    : await transaction();
  if (last) {
    const box = written.getStore();
    if (box) box.changeId = Math.max(box.changeId, last);
    // Where no notify travels with the commit (SQLite), one follows it.
    await dialect.notifyAfterCommit(db.url, String(last));
  }
  return result;
}

// The feed is polled several times a second on every instance, so these two reads use raw
// SQL: Prisma's query compiler costs ~0.7 ms per findMany here against ~0.25 ms raw.
export async function latestChangeId(db: Database): Promise<number> {
  const rows = await db.prisma.$queryRaw<{ id: number | bigint | null }[]>`SELECT MAX("id") AS "id" FROM "Change"`;
  return Number(rows[0]?.id ?? 0);
}

export async function changesSince(db: Database, cursor: number, limit = 1000): Promise<ChangeRow[]> {
  const rows = await db.prisma.$queryRaw<{ id: number | bigint; kind: string; key: string }[]>`
    SELECT "id", "kind", "key" FROM "Change" WHERE "id" > ${cursor} ORDER BY "id" LIMIT ${limit}`;
  return rows.map((r) => ({ id: Number(r.id), kind: r.kind, key: r.key }));
}

/** Drops feed rows older than `olderThanMs`; instances that were down longer reload fully at start. */
export async function pruneChanges(db: Database, olderThanMs: number, now: number): Promise<number> {
  const { count } = await db.prisma.change.deleteMany({ where: { createdAt: { lt: new Date(now - olderThanMs) } } });
  return count;
}

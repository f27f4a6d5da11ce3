// The change feed: every write to hot-path data (scopes, resources, roles, clients, ...)
// appends rows to `Change` in the same transaction, and every server instance tails the
// feed to keep its in-memory state current (src/governance/policy-store.ts).
// Readers advance a cursor over `id`, which is only safe if ids become visible in order. On
// PostgreSQL a sequence value can commit after a larger one, so writers take one transaction-
// scoped advisory lock first: change-producing transactions are administrative and rare, and
// serializing them costs nothing that matters. SQLite has a single writer anyway.
import { appendAuditEvents, type AuditInput } from '../audit/audit-chain.ts';
import type { Database, Tx } from './database.ts';

export interface ChangeRef {
  readonly kind: string;
  readonly key: string;
}

export interface ChangeRow extends ChangeRef {
  readonly id: number;
}

const CHANGE_LOCK = 0x67617531; // "gau1": an arbitrary constant shared by every govauth process
export const CHANGE_CHANNEL = 'govauth_change';

/**
 * Runs `work` in a transaction and, before committing, appends the change rows it reports and
 * its audit records: a change and the record of who made it commit together or not at all.
 */
export async function writeWithChanges<T>(
  db: Database,
  work: (tx: Tx) => Promise<{ result: T; changes: readonly ChangeRef[]; audit?: readonly AuditInput[] }>,
): Promise<T> {
  return db.prisma.$transaction(async (tx) => {
    if (db.kind === 'postgresql') await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock($1::bigint)', CHANGE_LOCK);
    const { result, changes, audit } = await work(tx);
    if (changes.length) {
      await tx.change.createMany({ data: changes.map((c) => ({ kind: c.kind, key: c.key })) });
      // Delivered at commit; lets other instances refresh at once instead of at the next poll.
      if (db.kind === 'postgresql') await tx.$executeRawUnsafe('SELECT pg_notify($1, $2)', CHANGE_CHANNEL, '');
    }
    if (audit?.length) await appendAuditEvents(db, tx, audit);
    return result;
  });
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
export async function pruneChanges(db: Database, olderThanMs: number, now = Date.now()): Promise<number> {
  const { count } = await db.prisma.change.deleteMany({ where: { createdAt: { lt: new Date(now - olderThanMs) } } });
  return count;
}

// What the access review reads besides the policy: when each principal last used each scope
// (ScopeUsage, written beside the audit trail) and when each person and client was created.
import type { Database } from './database.ts';

interface ScopeUsageRow {
  readonly principalType: string;
  readonly principalId: string;
  readonly scope: string;
  readonly lastUsedAt: Date;
}

export interface ReviewRows {
  readonly usage: readonly ScopeUsageRow[];
  /** People's and clients' creation instants, by id. */
  readonly created: readonly { id: string; createdAt: Date }[];
}

export async function loadReviewRows(db: Database): Promise<ReviewRows> {
  const [usage, users, clients] = await Promise.all([
    db.prisma.scopeUsage.findMany(),
    db.prisma.user.findMany({ select: { id: true, createdAt: true } }),
    db.prisma.client.findMany({ select: { id: true, createdAt: true } }),
  ]);
  return { usage, created: [...users, ...clients] };
}

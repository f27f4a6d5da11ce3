// What the access review reads besides the policy: when each principal last used each scope
// (ScopeUsage, written beside the audit trail). When each person and client was created comes
// with the policy (UserDef.createdAt, ClientDef.createdAt).
import type { Database } from './database.ts';

interface ScopeUsageRow {
  readonly principalType: string;
  readonly principalId: string;
  readonly scope: string;
  readonly lastUsedAt: Date;
}

export const loadScopeUsage = (db: Database): Promise<readonly ScopeUsageRow[]> => db.prisma.scopeUsage.findMany();

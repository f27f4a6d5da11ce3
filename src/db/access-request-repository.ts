// Access requests, their decisions and the policies that govern them (AccessPolicy per role,
// ScopeAccessPolicy per resource and scope, AccessRequest, AccessDecision). The rules are src/governance/access-request-rules.ts; the lifecycle and its
// audit records src/governance/access-requests.ts.
import { prismaOf, type Reader, type Tx } from './database.ts';

export interface AccessPolicyRow {
  readonly roleName: string;
  readonly requireApproval: boolean;
  readonly approvals: number;
  readonly approverRole: string;
  readonly maxDuration: number;
  readonly lapseAfter: number;
  readonly updatedAt: Date;
}

export interface ScopeAccessPolicyRow extends Omit<AccessPolicyRow, 'roleName'> {
  readonly audience: string;
  readonly scopeName: string;
}

export interface AccessDecisionRow {
  readonly approverId: string;
  readonly approverEmail: string;
  readonly decision: string;
  readonly reason: string | null;
  readonly recordedBy: string;
  readonly at: Date;
}

export interface AccessRequestRow {
  readonly id: string;
  readonly holderType: string;
  readonly holderId: string;
  readonly holderLabel: string;
  /** A role request; null when one scope on one resource is asked for (audience, scopeName). */
  readonly roleName: string | null;
  readonly audience: string | null;
  readonly scopeName: string | null;
  readonly duration: number;
  readonly justification: string;
  readonly requestedByType: string;
  readonly requestedBy: string;
  readonly state: string;
  readonly createdAt: Date;
  readonly lapsesAt: Date;
  readonly decidedAt: Date | null;
  readonly grantExpiresAt: Date | null;
  readonly decisions: readonly AccessDecisionRow[];
}

const withDecisions = { decisions: { orderBy: [{ at: 'asc' as const }, { approverId: 'asc' as const }] } };

export const findAccessPolicy = (h: Reader, roleName: string): Promise<AccessPolicyRow | null> => prismaOf(h).accessPolicy.findUnique({ where: { roleName } });

export const listAccessPolicies = (h: Reader): Promise<AccessPolicyRow[]> => prismaOf(h).accessPolicy.findMany({ orderBy: { roleName: 'asc' } });

export const upsertAccessPolicy = (tx: Tx, row: Omit<AccessPolicyRow, 'updatedAt'>): Promise<AccessPolicyRow> => {
  const { roleName, ...terms } = row;
  return tx.accessPolicy.upsert({ where: { roleName }, create: row, update: terms });
};

export async function deleteAccessPolicy(tx: Tx, roleName: string): Promise<void> {
  await tx.accessPolicy.delete({ where: { roleName } });
}

export const findScopeAccessPolicy = (h: Reader, audience: string, scopeName: string): Promise<ScopeAccessPolicyRow | null> =>
  prismaOf(h).scopeAccessPolicy.findUnique({ where: { audience_scopeName: { audience, scopeName } } });

export const listScopeAccessPolicies = (h: Reader): Promise<ScopeAccessPolicyRow[]> =>
  prismaOf(h).scopeAccessPolicy.findMany({ orderBy: [{ audience: 'asc' }, { scopeName: 'asc' }] });

export const upsertScopeAccessPolicy = (tx: Tx, row: Omit<ScopeAccessPolicyRow, 'updatedAt'>): Promise<ScopeAccessPolicyRow> => {
  const { audience, scopeName, ...terms } = row;
  return tx.scopeAccessPolicy.upsert({ where: { audience_scopeName: { audience, scopeName } }, create: row, update: terms });
};

export async function deleteScopeAccessPolicy(tx: Tx, audience: string, scopeName: string): Promise<void> {
  await tx.scopeAccessPolicy.delete({ where: { audience_scopeName: { audience, scopeName } } });
}

export const findAccessRequest = (h: Reader, id: string): Promise<AccessRequestRow | null> => prismaOf(h).accessRequest.findUnique({ where: { id }, include: withDecisions });

export interface AccessRequestFilter {
  readonly states?: readonly string[];
  readonly holderId?: string;
  readonly roleName?: string;
  readonly roleNames?: readonly string[];
  /** Scope requests on these (audience, scope) pairs; with roleNames: either. */
  readonly scopeTargets?: readonly { audience: string; scopeName: string }[];
}

/** Oldest first; at most `take`. */
export const listAccessRequests = (h: Reader, f: AccessRequestFilter, take: number): Promise<AccessRequestRow[]> =>
  prismaOf(h).accessRequest.findMany({
    where: {
      ...(f.states && { state: { in: [...f.states] } }),
      ...(f.holderId !== undefined && { holderId: f.holderId }),
      ...(f.roleNames || f.scopeTargets
        ? { OR: [...(f.roleNames?.length ? [{ roleName: { in: [...f.roleNames] } }] : []), ...(f.scopeTargets ?? []).map((t) => ({ audience: t.audience, scopeName: t.scopeName }))] }
        : f.roleName !== undefined && { roleName: f.roleName }),
    },
    include: withDecisions,
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take,
  });

export const insertAccessRequest = (tx: Tx, row: Omit<AccessRequestRow, 'decisions' | 'decidedAt' | 'grantExpiresAt'>): Promise<AccessRequestRow> =>
  tx.accessRequest.create({ data: row, include: withDecisions });

/**
 * Moves a pending request to its final state. Conditional on it still being pending (compare
 * and set): with the write lock held this always holds, and a caller that lost a race anyway
 * gets false instead of overwriting a decision.
 */
export async function closeAccessRequest(tx: Tx, id: string, data: { state: string; decidedAt: Date; grantExpiresAt?: Date | null }): Promise<boolean> {
  const { count } = await tx.accessRequest.updateMany({ where: { id, state: 'pending' }, data });
  return count === 1;
}

export async function insertAccessDecision(tx: Tx, requestId: string, d: AccessDecisionRow): Promise<void> {
  await tx.accessDecision.create({ data: { requestId, ...d } });
}

/** Pending requests whose time to be answered has passed at `now`. */
export const lapsedRequests = (tx: Tx, now: Date): Promise<AccessRequestRow[]> =>
  tx.accessRequest.findMany({ where: { state: 'pending', lapsesAt: { lte: now } }, include: withDecisions, orderBy: { lapsesAt: 'asc' }, take: 500 });

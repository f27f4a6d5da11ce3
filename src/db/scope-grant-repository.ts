// Time-boxed grants of one scope on one resource to people (UserScopeGrant) and clients
// (ClientScopeGrant). The rules and audit records are src/governance/scope-grants.ts.
import { prismaOf, type Reader, type Tx } from './database.ts';
import type { GrantHolder } from './role-grant-repository.ts';

export interface ScopeGrantRow {
  readonly audience: string;
  readonly scopeName: string;
  readonly expiresAt: Date;
  readonly requestId: string | null;
  readonly reason: string | null;
  readonly createdAt: Date;
}

export interface ExpiredScopeGrant extends ScopeGrantRow {
  readonly holder: GrantHolder;
  readonly holderId: string;
}

const order = [{ audience: 'asc' as const }, { scopeName: 'asc' as const }];

export function scopeGrantRows(h: Reader, holder: GrantHolder, id: string): Promise<ScopeGrantRow[]> {
  const q = prismaOf(h);
  return holder === 'user' ? q.userScopeGrant.findMany({ where: { userId: id }, orderBy: order }) : q.clientScopeGrant.findMany({ where: { clientId: id }, orderBy: order });
}

type GrantData = { expiresAt: Date; requestId: string | null; reason: string | null };

/** Creates the grant, or replaces its expiry, request and reason. */
export async function upsertScopeGrant(tx: Tx, holder: GrantHolder, id: string, audience: string, scopeName: string, data: GrantData): Promise<void> {
  if (holder === 'user') {
    const key = { userId: id, audience, scopeName };
    await tx.userScopeGrant.upsert({ where: { userId_audience_scopeName: key }, create: { ...key, ...data }, update: data });
  } else {
    const key = { clientId: id, audience, scopeName };
    await tx.clientScopeGrant.upsert({ where: { clientId_audience_scopeName: key }, create: { ...key, ...data }, update: data });
  }
}

/** Whether a grant was there to delete. */
export async function deleteScopeGrant(tx: Tx, holder: GrantHolder, id: string, audience: string, scopeName: string): Promise<boolean> {
  const { count } =
    holder === 'user'
      ? await tx.userScopeGrant.deleteMany({ where: { userId: id, audience, scopeName } })
      : await tx.clientScopeGrant.deleteMany({ where: { clientId: id, audience, scopeName } });
  return count > 0;
}

/** Deletes every grant expired at `now` and returns them: people's first, then clients'. */
export async function deleteExpiredScopeGrants(tx: Tx, now: Date): Promise<ExpiredScopeGrant[]> {
  const users = await tx.userScopeGrant.findMany({ where: { expiresAt: { lte: now } } });
  const clients = await tx.clientScopeGrant.findMany({ where: { expiresAt: { lte: now } } });
  if (users.length) await tx.userScopeGrant.deleteMany({ where: { expiresAt: { lte: now } } });
  if (clients.length) await tx.clientScopeGrant.deleteMany({ where: { expiresAt: { lte: now } } });
  return [
    ...users.map(({ userId, ...g }): ExpiredScopeGrant => ({ holder: 'user', holderId: userId, ...g })),
    ...clients.map(({ clientId, ...g }): ExpiredScopeGrant => ({ holder: 'client', holderId: clientId, ...g })),
  ];
}

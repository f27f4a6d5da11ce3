// Role grants to people (UserRole) and clients (ClientRole), optionally time-boxed. The rules
// (never shorten a grant by accident, audit records) are in src/governance/role-grants.ts.
import { prismaOf, type Reader, type Tx } from './database.ts';

/** Who holds a grant: a person (UserRole) or a client (ClientRole). */
export type GrantHolder = 'user' | 'client';

export interface GrantRow {
  readonly roleName: string;
  readonly expiresAt: Date | null;
  readonly reason: string | null;
  readonly createdAt: Date;
}

export interface ExpiredGrant extends GrantRow {
  readonly holder: GrantHolder;
  readonly holderId: string;
}

/** The grants `id` holds, by role name. */
export function grantRows(h: Reader, holder: GrantHolder, id: string): Promise<GrantRow[]> {
  const q = prismaOf(h);
  return holder === 'user'
    ? q.userRole.findMany({ where: { userId: id }, orderBy: { roleName: 'asc' } })
    : q.clientRole.findMany({ where: { clientId: id }, orderBy: { roleName: 'asc' } });
}

/** Creates the grant, or replaces its expiry and reason. */
export async function upsertGrant(tx: Tx, holder: GrantHolder, id: string, roleName: string, data: { expiresAt: Date | null; reason: string | null }): Promise<void> {
  if (holder === 'user') {
    await tx.userRole.upsert({ where: { userId_roleName: { userId: id, roleName } }, create: { userId: id, roleName, ...data }, update: data });
  } else {
    await tx.clientRole.upsert({ where: { clientId_roleName: { clientId: id, roleName } }, create: { clientId: id, roleName, ...data }, update: data });
  }
}

export async function deleteGrant(tx: Tx, holder: GrantHolder, id: string, roleName: string): Promise<void> {
  if (holder === 'user') await tx.userRole.delete({ where: { userId_roleName: { userId: id, roleName } } });
  else await tx.clientRole.delete({ where: { clientId_roleName: { clientId: id, roleName } } });
}

/** Deletes every grant expired at `now` and returns them: people's first, then clients'. */
export async function deleteExpiredGrants(tx: Tx, now: Date): Promise<ExpiredGrant[]> {
  const users = await tx.userRole.findMany({ where: { expiresAt: { lte: now } } });
  const clients = await tx.clientRole.findMany({ where: { expiresAt: { lte: now } } });
  for (const g of users) await tx.userRole.delete({ where: { userId_roleName: { userId: g.userId, roleName: g.roleName } } });
  for (const g of clients) await tx.clientRole.delete({ where: { clientId_roleName: { clientId: g.clientId, roleName: g.roleName } } });
  return [
    ...users.map((g): ExpiredGrant => ({ holder: 'user', holderId: g.userId, roleName: g.roleName, expiresAt: g.expiresAt, reason: g.reason, createdAt: g.createdAt })),
    ...clients.map((g): ExpiredGrant => ({ holder: 'client', holderId: g.clientId, roleName: g.roleName, expiresAt: g.expiresAt, reason: g.reason, createdAt: g.createdAt })),
  ];
}

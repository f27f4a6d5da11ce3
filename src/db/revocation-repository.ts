// Revocation entries (the Revocation table) and the stored oidc-provider state a principal
// revocation ends (sessions, grants, codes, refresh tokens in OidcPayload). The rules (cutoffs,
// how long an entry stays, audit records) are in src/governance/revocations.ts.
import type { Database, Tx } from './database.ts';

export interface RevocationRow {
  readonly id: number;
  readonly kind: string;
  readonly key: string;
  readonly cutoff: Date;
  readonly expiresAt: Date;
  readonly reason: string | null;
  readonly actor: string | null;
}

/** Whose stored state a revocation also deletes. */
export interface StoredStateOwner {
  readonly accountId?: string | undefined;
  readonly clientId?: string | undefined;
  readonly grantId?: string | undefined;
  /** With accountId: this browser session (by uid) is kept, the person's others end. */
  readonly exceptSessionUid?: string | undefined;
}

/** Live rows of each kind a revocation deleted. */
export interface EndedCounts {
  readonly sessions: number;
  readonly grants: number;
  readonly refreshTokens: number;
}

type PayloadWhere = NonNullable<NonNullable<Parameters<Tx['oidcPayload']['count']>[0]>['where']>;

const kindKey = (kind: string, key: string) => ({ kind_key: { kind, key } });

export const findRevocationIn = (tx: Tx, kind: string, key: string): Promise<RevocationRow | null> => tx.revocation.findUnique({ where: kindKey(kind, key) });

export const findRevocation = (db: Database, kind: string, key: string): Promise<RevocationRow | null> => db.prisma.revocation.findUnique({ where: kindKey(kind, key) });

export const upsertRevocation = (tx: Tx, r: { kind: string; key: string; cutoff: Date; expiresAt: Date; reason: string | null; actor: string }): Promise<RevocationRow> =>
  tx.revocation.upsert({
    where: kindKey(r.kind, r.key),
    create: { kind: r.kind, key: r.key, cutoff: r.cutoff, expiresAt: r.expiresAt, reason: r.reason, actor: r.actor },
    update: { cutoff: r.cutoff, expiresAt: r.expiresAt, reason: r.reason, actor: r.actor },
  });

/** Counts the live rows of each kind that `where` is about to delete. */
async function countEnded(tx: Tx, where: PayloadWhere, now: Date): Promise<EndedCounts> {
  const live = { AND: [where, { OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] }] };
  const count = (model: string, extra: PayloadWhere = {}) => tx.oidcPayload.count({ where: { AND: [live, { model }, extra] } });
  const [sessions, grants, refreshTokens] = await Promise.all([count('Session'), count('Grant'), count('RefreshToken', { consumedAt: null })]);
  return { sessions, grants, refreshTokens };
}

/**
 * Deletes the stored state of `owner` (a grant, an account, a client's), counting first what
 * was still live at `liveAt`. Undefined when `owner` names nobody (nothing was touched).
 */
export async function endStoredState(tx: Tx, owner: StoredStateOwner | undefined, liveAt: Date): Promise<EndedCounts | undefined> {
  const where: PayloadWhere[] = [];
  if (owner?.grantId) where.push({ OR: [{ grantId: owner.grantId }, { model: 'Grant', id: owner.grantId }] });
  if (owner?.accountId) {
    where.push(owner.exceptSessionUid ? { accountId: owner.accountId, NOT: { model: 'Session', uid: owner.exceptSessionUid } } : { accountId: owner.accountId });
  }
  if (owner?.clientId) where.push({ clientId: owner.clientId, model: { not: 'Client' } });
  if (!where.length) return undefined;
  const ended = await countEnded(tx, { OR: where }, liveAt);
  await tx.oidcPayload.deleteMany({ where: { OR: where } });
  return ended;
}

/** Whether govauth knows the grant: stored state of it, or a revocation of it. */
export async function grantKnown(db: Database, grantId: string): Promise<boolean> {
  const known =
    (await db.prisma.oidcPayload.findFirst({ where: { OR: [{ model: 'Grant', id: grantId }, { grantId }] }, select: { id: true } })) ??
    (await db.prisma.revocation.findUnique({ where: kindKey('grant', grantId), select: { id: true } }));
  return known !== null;
}

/** Entries still in force at `now`, oldest first. */
export const revocationsInForce = (db: Database, now: Date): Promise<RevocationRow[]> =>
  db.prisma.revocation.findMany({ where: { expiresAt: { gt: now } }, orderBy: { id: 'asc' } });

export async function deleteRevocationsEndedBy(db: Database, now: Date): Promise<number> {
  const { count } = await db.prisma.revocation.deleteMany({ where: { expiresAt: { lte: now } } });
  return count;
}

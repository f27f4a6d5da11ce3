// A person's second factors as stored: the pending self-service TOTP enrolment (User columns),
// recovery codes (RecoveryCode), and the factor a role requires of the people holding it
// (Role.requireFactor) and a scope's required acr. The rules (sealing, digests, who may remove
// what, audit records) are in src/governance (totp-enrolment.ts, recovery-codes.ts,
// factor-rules.ts, factor-policy.ts); these are their queries.
import { prismaOf, type Database, type Reader, type Tx } from './database.ts';

export interface PendingTotp {
  readonly mfaPendingSecret: string | null;
  readonly mfaPendingUntil: Date | null;
}

export const findPendingTotp = (db: Database, userId: string): Promise<PendingTotp | null> =>
  db.prisma.user.findUnique({ where: { id: userId }, select: { mfaPendingSecret: true, mfaPendingUntil: true } });

export async function setPendingTotp(tx: Tx, userId: string, sealed: string | null, until: Date | null): Promise<void> {
  await tx.user.update({ where: { id: userId }, data: { mfaPendingSecret: sealed, mfaPendingUntil: until } });
}

/**
 * Makes the pending secret the active one if it is still the one `sealed` names and has not
 * lapsed (compare-and-set: a second confirmation, or one racing a new enrolment, changes nothing).
 */
export async function activatePendingTotp(tx: Tx, userId: string, sealed: string, step: number, now: Date): Promise<boolean> {
  const { count } = await tx.user.updateMany({
    where: { id: userId, mfaPendingSecret: sealed, mfaPendingUntil: { gt: now } },
    data: { mfaSecret: sealed, mfaEnrolledAt: now, mfaLastStep: step, mfaPendingSecret: null, mfaPendingUntil: null },
  });
  return count === 1;
}

export async function replaceRecoveryCodes(tx: Tx, userId: string, codes: readonly { id: string; codeHash: string }[]): Promise<number> {
  const { count } = await tx.recoveryCode.deleteMany({ where: { userId } });
  if (codes.length) await tx.recoveryCode.createMany({ data: codes.map((c) => ({ id: c.id, userId, codeHash: c.codeHash })) });
  return count;
}

/** Marks the code used unless it already was: true when this call used it (of two racing uses, one wins). */
export async function useRecoveryCode(tx: Tx, userId: string, codeHash: string, at: Date): Promise<boolean> {
  const { count } = await tx.recoveryCode.updateMany({ where: { userId, codeHash, usedAt: null }, data: { usedAt: at } });
  return count === 1;
}

export const unusedRecoveryCodes = (h: Reader, userId: string): Promise<number> => prismaOf(h).recoveryCode.count({ where: { userId, usedAt: null } });

/** Unused recovery codes per person, for listings (user list, access review). */
export async function unusedRecoveryCodesByUser(db: Database): Promise<Map<string, number>> {
  const rows = await db.prisma.recoveryCode.groupBy({ by: ['userId'], where: { usedAt: null }, _count: { _all: true } });
  return new Map(rows.map((r) => [r.userId, r._count._all]));
}

/** When the person's TOTP became active, or null (not enrolled). */
export async function totpEnrolledAt(h: Reader, userId: string): Promise<Date | null> {
  const row = await prismaOf(h).user.findUnique({ where: { id: userId }, select: { mfaEnrolledAt: true } });
  return row?.mfaEnrolledAt ?? null;
}


export const findRoleFactor = (h: Reader, name: string): Promise<{ name: string; requireFactor: string | null } | null> =>
  prismaOf(h).role.findUnique({ where: { name }, select: { name: true, requireFactor: true } });

export async function setRoleFactor(tx: Tx, name: string, requireFactor: string | null): Promise<void> {
  await tx.role.update({ where: { name }, data: { requireFactor } });
}

/** Every role that requires a factor. */
export const rolesRequiringFactors = (h: Reader): Promise<{ name: string; requireFactor: string | null }[]> =>
  prismaOf(h).role.findMany({ where: { requireFactor: { not: null } }, select: { name: true, requireFactor: true } });

export const findScopeAcr = (h: Reader, name: string): Promise<{ name: string; requireAcr: string | null } | null> =>
  prismaOf(h).scope.findUnique({ where: { name }, select: { name: true, requireAcr: true } });

export async function setScopeAcr(tx: Tx, name: string, requireAcr: string | null): Promise<void> {
  await tx.scope.update({ where: { name }, data: { requireAcr } });
}

// The factor a role requires of the people holding it (Role.requireFactor) and a person's
// factors as stored (TOTP enrolment, passkey count). Rules: src/governance/factor-policy.ts.
import { prismaOf, type Database, type Reader, type Tx } from './database.ts';

export const findRoleFactor = (h: Reader, name: string): Promise<{ name: string; requireFactor: string | null } | null> =>
  prismaOf(h).role.findUnique({ where: { name }, select: { name: true, requireFactor: true } });

export async function setRoleFactor(tx: Tx, name: string, requireFactor: string | null): Promise<void> {
  await tx.role.update({ where: { name }, data: { requireFactor } });
}

/** Every role that requires a factor. */
export const rolesRequiringFactors = (db: Database): Promise<{ name: string; requireFactor: string | null }[]> =>
  db.prisma.role.findMany({ where: { requireFactor: { not: null } }, select: { name: true, requireFactor: true } });

export const factorRow = (db: Database, userId: string): Promise<{ mfaEnrolledAt: Date | null; _count: { passkeys: number } } | null> =>
  db.prisma.user.findUnique({ where: { id: userId }, select: { mfaEnrolledAt: true, _count: { select: { passkeys: true } } } });

export const findScopeAcr = (h: Reader, name: string): Promise<{ name: string; requireAcr: string | null } | null> =>
  prismaOf(h).scope.findUnique({ where: { name }, select: { name: true, requireAcr: true } });

export async function setScopeAcr(tx: Tx, name: string, requireAcr: string | null): Promise<void> {
  await tx.scope.update({ where: { name }, data: { requireAcr } });
}

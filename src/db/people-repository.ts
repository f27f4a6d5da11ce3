// People's rows: accounts, password hashes, TOTP state and role assignments. The rules
// (normalised emails, password policy, sealing, audit records) are in
// src/governance/user-registry.ts; these are its queries.
import { prismaOf, type Reader, type Database, type Tx } from './database.ts';

export interface UserRow {
  readonly id: string;
  readonly email: string;
  readonly disabled: boolean;
  readonly mfaEnrolledAt: Date | null;
  readonly createdAt: Date;
  readonly roles: readonly { roleName: string; expiresAt: Date | null }[];
}

/** The columns an administrative change to a person may set. */
export interface UserWrite {
  readonly disabled?: boolean;
  readonly passwordHash?: string;
  readonly passwordChangedAt?: Date;
  readonly mfaSecret?: string | null;
  readonly mfaEnrolledAt?: Date | null;
  readonly mfaLastStep?: number | null;
  readonly mfaPendingSecret?: string | null;
  readonly mfaPendingUntil?: Date | null;
}

const withRoles = { roles: { orderBy: { roleName: 'asc' as const } } };

/** `email` as stored (normalised by the caller). */
export const findUserByEmail = (db: Database, email: string): Promise<UserRow | null> => db.prisma.user.findUnique({ where: { email }, include: withRoles });

/** Whether a person exists (the whole row, no roles). */
export const findUser = (db: Database, email: string): Promise<{ id: string } | null> => db.prisma.user.findUnique({ where: { email } });

export const findUserId = (h: Reader, email: string): Promise<{ id: string } | null> => prismaOf(h).user.findUnique({ where: { email }, select: { id: true } });

/** A person by id or by email (as stored), with their role grants (access-requests.ts reads them under its write lock). */
export const findPersonWithRoles = (h: Reader, where: { id: string } | { email: string }): Promise<UserRow | null> =>
  prismaOf(h).user.findUnique({ where, include: withRoles });

export const insertUser = (tx: Tx, u: { id: string; email: string; passwordHash: string; roles: readonly string[] }): Promise<UserRow> =>
  tx.user.create({ data: { id: u.id, email: u.email, passwordHash: u.passwordHash, roles: { create: u.roles.map((roleName) => ({ roleName })) } }, include: withRoles });

export const listUserRows = (db: Database): Promise<UserRow[]> => db.prisma.user.findMany({ orderBy: { email: 'asc' }, include: withRoles });

/** Inside a write, a person known to exist (read under the write lock). */
export const readUser = (tx: Tx, id: string): Promise<UserRow> => tx.user.findUniqueOrThrow({ where: { id }, include: withRoles });

export const updateUserRow = (tx: Tx, id: string, data: UserWrite): Promise<UserRow> => tx.user.update({ where: { id }, data, include: withRoles });

export async function replaceUserRoles(tx: Tx, userId: string, roles: readonly string[]): Promise<void> {
  await tx.userRole.deleteMany({ where: { userId } });
  await tx.userRole.createMany({ data: roles.map((roleName) => ({ userId, roleName })) });
}

/** Emails of the people among `ids`. */
export const userEmails = (db: Database, ids: readonly string[]): Promise<{ id: string; email: string }[]> =>
  db.prisma.user.findMany({ where: { id: { in: [...ids] } }, select: { id: true, email: true } });

export const findCredentials = (db: Database, email: string): Promise<{ id: string; passwordHash: string; disabled: boolean } | null> =>
  db.prisma.user.findUnique({ where: { email }, select: { id: true, passwordHash: true, disabled: true } });

export async function setPasswordHash(db: Database, id: string, passwordHash: string): Promise<void> {
  await db.prisma.user.update({ where: { id }, data: { passwordHash } });
}

export const findTotpState = (db: Database, id: string): Promise<{ mfaSecret: string | null; mfaLastStep: number | null } | null> =>
  db.prisma.user.findUnique({ where: { id }, select: { mfaSecret: true, mfaLastStep: true } });

/** Records `step` as the last accepted one unless a step at or after it was: true when this call did. */
export async function claimTotpStep(db: Database, id: string, step: number): Promise<boolean> {
  const { count } = await db.prisma.user.updateMany({
    where: { id, OR: [{ mfaLastStep: null }, { mfaLastStep: { lt: step } }] },
    data: { mfaLastStep: step },
  });
  return count === 1;
}

// Rows of self-registered clients (Client ID Metadata Documents, RFC 7591 registrations), the
// trust policy that caps them, and RFC 7591 §3 initial access tokens. The rules are in
// src/governance/self-registration.ts and registration-tokens.ts; JSON-in-text columns are
// parsed there.
import { prismaOf, type Database, type Reader, type Tx } from './database.ts';

export interface SelfRegisteredRow {
  readonly clientId: string;
  readonly kind: string;
  readonly host: string | null;
  readonly name: string;
  readonly redirectUris: string;
  readonly trust: string;
  readonly scopeCeiling: string | null;
  readonly resourceCeiling: string | null;
  readonly createdAt: Date;
  readonly reviewedAt: Date | null;
}

export interface TrustPolicyRow {
  readonly trustedHosts: string;
  readonly allowUnknownHosts: boolean;
  readonly scopeCeiling: string | null;
  readonly resourceCeiling: string | null;
}

/** The one policy row's id (a singleton). */
const POLICY_ID = 1;

export const listSelfRegisteredRows = (h: Reader): Promise<SelfRegisteredRow[]> => prismaOf(h).selfRegisteredClient.findMany({ orderBy: { createdAt: 'asc' } });

export const findSelfRegisteredRow = (h: Reader, clientId: string): Promise<SelfRegisteredRow | null> => prismaOf(h).selfRegisteredClient.findUnique({ where: { clientId } });

export async function insertSelfRegisteredRow(tx: Tx, row: Omit<SelfRegisteredRow, 'createdAt' | 'reviewedAt' | 'trust' | 'scopeCeiling' | 'resourceCeiling'>): Promise<void> {
  await tx.selfRegisteredClient.create({ data: row });
}

export async function updateSelfRegisteredRow(tx: Tx, clientId: string, data: Partial<Pick<SelfRegisteredRow, 'name' | 'redirectUris' | 'trust' | 'scopeCeiling' | 'resourceCeiling' | 'reviewedAt'>>): Promise<void> {
  await tx.selfRegisteredClient.update({ where: { clientId }, data });
}

export const findTrustPolicyRow = (h: Reader): Promise<TrustPolicyRow | null> => prismaOf(h).selfRegistrationPolicy.findUnique({ where: { id: POLICY_ID } });

export async function saveTrustPolicyRow(tx: Tx, row: TrustPolicyRow): Promise<void> {
  await tx.selfRegistrationPolicy.upsert({ where: { id: POLICY_ID }, create: { id: POLICY_ID, ...row }, update: row });
}

export interface RegistrationTokenRow {
  readonly id: string;
  readonly expiresAt: Date;
  readonly maxUses: number;
  readonly uses: number;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

const tokenColumns = { id: true, expiresAt: true, maxUses: true, uses: true, createdAt: true, revokedAt: true } as const;

export async function insertRegistrationToken(tx: Tx, row: { id: string; tokenHash: string; expiresAt: Date; maxUses: number }): Promise<void> {
  await tx.registrationToken.create({ data: row });
}

export const listRegistrationTokenRows = (db: Database): Promise<RegistrationTokenRow[]> => db.prisma.registrationToken.findMany({ select: tokenColumns, orderBy: { createdAt: 'asc' } });

export const findRegistrationTokenRow = (h: Reader, id: string): Promise<RegistrationTokenRow | null> => prismaOf(h).registrationToken.findUnique({ where: { id }, select: tokenColumns });

export async function revokeRegistrationTokenRow(tx: Tx, id: string, at: Date): Promise<void> {
  await tx.registrationToken.update({ where: { id }, data: { revokedAt: at } });
}

/**
 * Spends one use of the token with this digest if it is live (not revoked, not expired, uses
 * left), in one conditional statement so concurrent registrations cannot overspend it. The
 * token's id when spent, undefined otherwise.
 */
export async function spendRegistrationToken(db: Database, tokenHash: string, now: Date): Promise<string | undefined> {
  const row = await db.prisma.registrationToken.findUnique({ where: { tokenHash }, select: { id: true, uses: true } });
  if (!row) return undefined;
  const { count } = await db.prisma.registrationToken.updateMany({
    where: { id: row.id, uses: row.uses, revokedAt: null, expiresAt: { gt: now }, maxUses: { gt: row.uses } },
    data: { uses: { increment: 1 } },
  });
  if (count === 1) return row.id;
  // Lost a race with another registration: try again with the count it left.
  const again = await db.prisma.registrationToken.findUnique({ where: { tokenHash }, select: { uses: true } });
  return again && again.uses !== row.uses ? spendRegistrationToken(db, tokenHash, now) : undefined;
}

/** Gives back a use spent on a registration that was then refused (its metadata was invalid). */
export async function refundRegistrationToken(db: Database, id: string): Promise<void> {
  await db.prisma.registrationToken.updateMany({ where: { id, uses: { gt: 0 } }, data: { uses: { decrement: 1 } } });
}

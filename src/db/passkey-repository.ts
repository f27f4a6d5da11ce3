// People's passkeys (WebAuthn credentials) and the outstanding ceremony challenges. The rules
// (who may register or remove one, counters, audit records) are in src/governance/passkeys.ts.
import { prismaOf, type Database, type Reader, type Tx } from './database.ts';

export interface PasskeyRow {
  readonly id: string;
  readonly userId: string;
  readonly credentialId: string;
  readonly publicKey: string;
  readonly counter: bigint;
  readonly transports: string;
  readonly aaguid: string;
  readonly backupEligible: boolean;
  readonly backedUp: boolean;
  readonly name: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
}

export const passkeysOf = (h: Reader, userId: string): Promise<PasskeyRow[]> =>
  prismaOf(h).passkey.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } });

export const findPasskeyByCredentialId = (db: Database, credentialId: string): Promise<PasskeyRow | null> =>
  db.prisma.passkey.findUnique({ where: { credentialId } });

export const findPasskey = (h: Reader, id: string): Promise<PasskeyRow | null> => prismaOf(h).passkey.findUnique({ where: { id } });

export const insertPasskey = (tx: Tx, row: Omit<PasskeyRow, 'createdAt' | 'lastUsedAt'>): Promise<PasskeyRow> => tx.passkey.create({ data: row });

export async function deletePasskey(tx: Tx, id: string): Promise<void> {
  await tx.passkey.delete({ where: { id } });
}

export const renamePasskeyRow = (tx: Tx, id: string, name: string): Promise<PasskeyRow> => tx.passkey.update({ where: { id }, data: { name } });

/**
 * Records a use: the new counter, only if the stored one is still `expected` (compare-and-set,
 * so of two concurrent uses of the same response or of a cloned key only one counts), the
 * backup state the authenticator now reports, and when. True when this call did.
 */
export async function recordPasskeyUse(db: Database, id: string, expected: bigint, use: { counter: bigint; backedUp: boolean; at: Date }): Promise<boolean> {
  const { count } = await db.prisma.passkey.updateMany({ where: { id, counter: expected }, data: { counter: use.counter, backedUp: use.backedUp, lastUsedAt: use.at } });
  return count === 1;
}

/**
 * Issues the challenge of a ceremony, replacing any earlier one of the same binding (one
 * outstanding ceremony per sign-in request or browser session, so the table stays bounded), and
 * clears expired ones.
 */
export async function putChallenge(db: Database, c: { binding: string; challenge: string; userId: string | null; expiresAt: Date }, now: Date): Promise<void> {
  await db.prisma.webauthnChallenge.deleteMany({ where: { expiresAt: { lte: now } } });
  await db.prisma.webauthnChallenge.upsert({ where: { binding: c.binding }, create: c, update: { challenge: c.challenge, userId: c.userId, expiresAt: c.expiresAt } });
}

/**
 * Takes the outstanding challenge of `binding` if it is still valid: deleted in the same
 * statement that finds it, so a challenge is answered at most once (WebAuthn L3 §13.4.3).
 */
export async function takeChallenge(db: Database, binding: string, now: Date): Promise<{ challenge: string; userId: string | null } | undefined> {
  const row = await db.prisma.webauthnChallenge.findUnique({ where: { binding } });
  if (!row) return undefined;
  const { count } = await db.prisma.webauthnChallenge.deleteMany({ where: { binding, challenge: row.challenge } });
  if (count !== 1 || row.expiresAt.getTime() <= now.getTime()) return undefined;
  return { challenge: row.challenge, userId: row.userId };
}

export const countPasskeys = (h: Reader, userId: string): Promise<number> => prismaOf(h).passkey.count({ where: { userId } });

/** An administrator's factor reset: every passkey of the person and their outstanding ceremonies. */
export async function deletePasskeysOf(tx: Tx, userId: string): Promise<{ passkeys: number; challenges: number }> {
  const passkeys = await tx.passkey.deleteMany({ where: { userId } });
  const challenges = await tx.webauthnChallenge.deleteMany({ where: { userId } });
  return { passkeys: passkeys.count, challenges: challenges.count };
}

// Where keys are kept: token signing keys (the SigningKey table), and small values in Meta
// (the master key's fingerprint, the audit signing keys). Sealing, states and rotation policy
// are src/keys'; this file only reads and writes rows.
import type { Database, Tx } from './database.ts';
import { dialectOf } from './dialect.ts';
import { rawTxOf } from './prisma-tx.ts';

const KEY_LOCK = 0x67617532; // "gau2": serializes first-key creation across processes

export interface SigningKeyRow {
  readonly kid: string;
  readonly alg: string;
  readonly publicJwk: string;
  readonly sealedJwk: string;
  readonly createdAt: Date;
  readonly activateAt: Date;
  readonly retireAt: Date | null;
  readonly expireAt: Date | null;
}

export type NewSigningKeyRow = Pick<SigningKeyRow, 'kid' | 'alg' | 'publicJwk' | 'sealedJwk' | 'activateAt'>;

/** Every signing key, oldest first. */
export function listSigningKeyRows(db: Database): Promise<SigningKeyRow[]> {
  return db.prisma.signingKey.findMany({ orderBy: { createdAt: 'asc' } });
}

/**
 * Inserts a key; with `unlessActiveAt`, only when no key is active at that instant, checked and
 * inserted under a lock so two instances starting at once create one key between them.
 */
export async function insertSigningKeyRow(db: Database, row: NewSigningKeyRow, unlessActiveAt?: Date): Promise<boolean> {
  return db.prisma.$transaction(async (tx) => {
    await rawTxOf(tx, dialectOf(db.kind)).lock(KEY_LOCK);
    if (unlessActiveAt) {
      const active = await tx.signingKey.count({
        where: { activateAt: { lte: unlessActiveAt }, OR: [{ retireAt: null }, { retireAt: { gt: unlessActiveAt } }] },
      });
      if (active > 0) return false;
    }
    await tx.signingKey.create({ data: row });
    return true;
  });
}

/** The signing keys inside a change-feed transaction (writeWithChanges), for rotation and withdrawal. */
export interface SigningKeysTx {
  list(): Promise<SigningKeyRow[]>;
  /** Sets when `kid` stops signing and leaves JWKS. */
  retire(kid: string, retireAt: Date, expireAt: Date): Promise<void>;
  insert(row: NewSigningKeyRow): Promise<void>;
}

export function signingKeysIn(tx: Tx): SigningKeysTx {
  return {
    list: () => tx.signingKey.findMany(),
    retire: async (kid, retireAt, expireAt) => void (await tx.signingKey.update({ where: { kid }, data: { retireAt, expireAt } })),
    insert: async (row) => void (await tx.signingKey.create({ data: row })),
  };
}

/** A value kept in Meta, if any. */
export async function readMeta(db: Database, key: string): Promise<string | undefined> {
  return (await db.prisma.meta.findUnique({ where: { key } }))?.value;
}

/** Stores `value` unless `key` already holds one (the first writer wins; read back to learn which). */
export async function createMetaIfAbsent(db: Database, key: string, value: string): Promise<void> {
  await db.prisma.meta.upsert({ where: { key }, create: { key, value }, update: {} });
}

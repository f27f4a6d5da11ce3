// Token signing keys, persisted in the database so every instance signs with the same key and a
// restart keeps the same `kid` (tokens issued before a restart keep verifying). Private JWKs are
// sealed with a subkey of the master key. A key's state follows from its timestamps:
// pending (published, not yet signing) → active (signing) → retired (published, verifying
// tokens already issued) → expired (gone from JWKS).
import { exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose';
import type { Database } from '../db/database.ts';
import { createMetaIfAbsent, insertSigningKeyRow, listSigningKeyRows, readMeta } from '../db/key-store.ts';
import type { MasterKey } from './master-key.ts';
import { seal, unseal } from './sealed-box.ts';

export const SIGNING_ALG = 'RS256';
const FINGERPRINT_META = 'master_key_fingerprint';

export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly publicJwk: JWK;
  readonly privateJwk: JWK;
  readonly createdAt: number;
  readonly activateAt: number;
  readonly retireAt: number | null;
  readonly expireAt: number | null;
}

export type KeyState = 'pending' | 'active' | 'retired' | 'expired';

export function keyState(key: SigningKey, now: number): KeyState {
  if (key.expireAt !== null && key.expireAt <= now) return 'expired';
  if (key.retireAt !== null && key.retireAt <= now) return 'retired';
  return key.activateAt <= now ? 'active' : 'pending';
}

/** The key that signs now: the most recently activated active key. */
export function currentSigningKey(keys: readonly SigningKey[], now: number): SigningKey | undefined {
  return keys.filter((k) => keyState(k, now) === 'active').sort((a, b) => b.activateAt - a.activateAt || (a.kid < b.kid ? -1 : 1))[0];
}

export function publishedKeys(keys: readonly SigningKey[], now: number): SigningKey[] {
  return keys.filter((k) => keyState(k, now) !== 'expired');
}

export class KeyStoreError extends Error {}

/** Refuses to start with a master key other than the one the database was set up with. */
export async function checkMasterKey(db: Database, master: MasterKey): Promise<void> {
  const fingerprint = master.fingerprint();
  const stored = await readMeta(db, FINGERPRINT_META);
  if (stored !== undefined && stored !== fingerprint) {
    throw new KeyStoreError(
      'the master key does not match the one this database was set up with, so its signing keys cannot be decrypted. ' +
        'Restore the original GOVAUTH_MASTER_KEY (or data/master.key).',
    );
  }
  if (stored === undefined) {
    await createMetaIfAbsent(db, FINGERPRINT_META, fingerprint);
    await checkMasterKey(db, master); // another instance may have won the race with a different key
  }
}

export async function newSigningKeyMaterial(): Promise<{ kid: string; publicJwk: JWK; privateJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { modulusLength: 2048, extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk); // RFC 7638: stable, derived from the key
  const meta = { kid, alg: SIGNING_ALG, use: 'sig' };
  return { kid, publicJwk: { ...publicJwk, ...meta }, privateJwk: { ...(await exportJWK(privateKey)), ...meta } };
}

export async function loadSigningKeys(db: Database, master: MasterKey): Promise<SigningKey[]> {
  const sealKey = master.derive('signing-key-seal');
  const rows = await listSigningKeyRows(db);
  return rows.map((r) => {
    let privateJwk: JWK;
    try {
      privateJwk = JSON.parse(unseal(sealKey, r.sealedJwk, r.kid)) as JWK;
    } catch {
      throw new KeyStoreError(`signing key ${r.kid} cannot be decrypted with this master key`);
    }
    return {
      kid: r.kid,
      alg: r.alg,
      publicJwk: JSON.parse(r.publicJwk) as JWK,
      privateJwk,
      createdAt: r.createdAt.getTime(),
      activateAt: r.activateAt.getTime(),
      retireAt: r.retireAt?.getTime() ?? null,
      expireAt: r.expireAt?.getTime() ?? null,
    };
  });
}

async function insertSigningKey(
  db: Database,
  master: MasterKey,
  material: { kid: string; publicJwk: JWK; privateJwk: JWK },
  activateAt: Date,
  /** Only when no key is active at this instant (first start); else unconditionally. */
  unlessActiveAt?: Date,
): Promise<boolean> {
  const sealedJwk = seal(master.derive('signing-key-seal'), JSON.stringify(material.privateJwk), material.kid);
  return insertSigningKeyRow(db, { kid: material.kid, alg: SIGNING_ALG, publicJwk: JSON.stringify(material.publicJwk), sealedJwk, activateAt }, unlessActiveAt);
}

/** First start: create the signing key. Later starts: load the existing ones. */
export async function ensureSigningKeys(db: Database, master: MasterKey, now: number): Promise<{ keys: SigningKey[]; created: string | undefined }> {
  let keys = await loadSigningKeys(db, master);
  if (currentSigningKey(keys, now)) return { keys, created: undefined };
  const material = await newSigningKeyMaterial();
  // Nothing can have cached a key that never existed, so the first key signs at once.
  const inserted = await insertSigningKey(db, master, material, new Date(now), new Date(now));
  keys = await loadSigningKeys(db, master);
  return { keys, created: inserted ? material.kid : undefined };
}

// The audit signing key: signs checkpoints of the audit chain (src/audit/audit-checkpoint.ts) and
// nothing else. It is deliberately not a token signing key: it never enters the provider's
// keystore or the token JWKS (/jwks), so no resource server that trusts govauth's tokens can be
// handed a JWS made with it as a token, and a checkpoint can never pass as a token (different
// alg, kid, typ). ES256 (RFC 7518 §3.4): small signatures, fast, supported by every JOSE library
// a third party may verify with. Kept in Meta as a list (the newest signs; older ones stay
// published so checkpoints they signed keep verifying), each private JWK sealed with its own
// subkey of the master key, bound to its kid (sealed-box.ts): back it up with the master key.
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { auditLogTransaction } from '../db/audit-log.ts';
import type { Database } from '../db/database.ts';
import { createMetaIfAbsent, readMeta } from '../db/key-store.ts';
import type { MasterKey } from './master-key.ts';
import { seal, unseal } from './sealed-box.ts';
import { KeyStoreError } from './signing-keys.ts';

export const AUDIT_KEY_ALG = 'ES256';
const AUDIT_KEYS_META = 'audit_signing_keys';
const SEAL_PURPOSE = 'audit-key-seal';

interface StoredAuditKey {
  readonly kid: string;
  readonly publicJwk: JWK;
  readonly sealedJwk: string;
  readonly createdAt: string;
}

export interface AuditKey {
  readonly kid: string;
  readonly publicJwk: JWK;
  readonly privateJwk: JWK;
  readonly createdAt: string;
}

function parseStored(value: string): StoredAuditKey[] {
  let list: unknown;
  try {
    list = JSON.parse(value);
  } catch {
    list = undefined;
  }
  const ok = Array.isArray(list) && list.length > 0 && list.every((k: Partial<StoredAuditKey> | null) => typeof k?.kid === 'string' && typeof k.sealedJwk === 'string' && typeof k.publicJwk === 'object');
  if (!ok) throw new KeyStoreError('the audit signing keys stored in Meta are malformed');
  return list as StoredAuditKey[];
}

async function newStoredKey(master: MasterKey, now: number): Promise<StoredAuditKey> {
  const { publicKey, privateKey } = await generateKeyPair(AUDIT_KEY_ALG, { extractable: true });
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub); // RFC 7638
  const meta = { kid, alg: AUDIT_KEY_ALG, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), ...meta };
  return { kid, publicJwk: { ...pub, ...meta }, sealedJwk: seal(master.derive(SEAL_PURPOSE), JSON.stringify(privateJwk), kid), createdAt: new Date(now).toISOString() };
}

async function readStored(db: Database): Promise<StoredAuditKey[] | undefined> {
  const value = await readMeta(db, AUDIT_KEYS_META);
  return value === undefined ? undefined : parseStored(value);
}

/** The published keys (public JWKs, oldest first), or none before the first checkpoint key exists. */
export async function auditPublicKeys(db: Database): Promise<JWK[]> {
  return ((await readStored(db)) ?? []).map((k) => ({ ...k.publicJwk }));
}

/**
 * The key that signs checkpoints now, created on first use. Two instances creating it at once:
 * the insert is create-only, and both read back the one that won.
 */
export async function currentAuditKey(db: Database, master: MasterKey, now: number): Promise<AuditKey> {
  let stored = await readStored(db);
  if (!stored) {
    const fresh = await newStoredKey(master, now);
    await createMetaIfAbsent(db, AUDIT_KEYS_META, JSON.stringify([fresh]));
    stored = await readStored(db);
  }
  const latest = stored?.at(-1);
  if (!latest) throw new KeyStoreError('no audit signing key');
  let privateJwk: JWK;
  try {
    privateJwk = JSON.parse(unseal(master.derive(SEAL_PURPOSE), latest.sealedJwk, latest.kid)) as JWK;
  } catch {
    throw new KeyStoreError(`audit signing key ${latest.kid} cannot be decrypted with this master key`);
  }
  return { kid: latest.kid, publicJwk: latest.publicJwk, privateJwk, createdAt: latest.createdAt };
}

/**
 * A new audit key signs from now; earlier ones stay published (their checkpoints keep verifying).
 * Recorded in the chain, in the transaction that stores it; the chain's lock also serializes
 * concurrent rotations, so none is lost.
 */
export async function rotateAuditKey(db: Database, master: MasterKey, by: Actor, now: number): Promise<string> {
  const fresh = await newStoredKey(master, now);
  await auditLogTransaction(db, async (log) => {
    const value = await log.readMeta(AUDIT_KEYS_META);
    const before = value === undefined ? [] : parseStored(value);
    await log.writeMeta(AUDIT_KEYS_META, JSON.stringify([...before, fresh]));
    await log.append([adminEvent(by, 'audit.key_rotate', fresh.kid, { signing: before.at(-1)?.kid ?? null }, { signing: fresh.kid }, { published: [...before.map((k) => k.kid), fresh.kid] })], new Date(now));
  });
  return fresh.kid;
}

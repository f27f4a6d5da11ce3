// Signing-key rotation without downtime (the staged recipe: publish, then sign, then retire):
// 1. a new key is published in JWKS at once but signs only from `activateAt` = now + the
//    pre-publication delay, so resource servers with cached JWKS have it before any token does;
// 2. at that instant the previous key stops signing (retireAt) but stays published until every
//    token it signed has expired (expireAt = retireAt + the longest token lifetime);
// 3. then it leaves JWKS.
// Every instance learns of the new key through the change feed and rebuilds its provider at
// each transition (keyring-store.ts). Scheduled rotation uses the same path.
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import type { Database } from '../db/database.ts';
import { signingKeysIn } from '../db/key-store.ts';
import { AppError } from '../errors/app-error.ts';
import { MAX_TTL_SECONDS } from '../config/token-limits.ts';
import type { MasterKey } from './master-key.ts';
import { seal } from './sealed-box.ts';
import { keyState, loadSigningKeys, newSigningKeyMaterial, SIGNING_ALG, type KeyState } from './signing-keys.ts';

/** The longest any token signed by a key can live: access tokens (capped), ID tokens, leeway. */
const KEY_RETENTION_SECONDS = MAX_TTL_SECONDS + 600 + 300;

export interface KeyView {
  kid: string;
  alg: string;
  state: KeyState;
  created_at: string;
  activates_at: string;
  retires_at: string | null;
  expires_at: string | null;
}

export async function listKeys(db: Database, master: MasterKey, now: number): Promise<KeyView[]> {
  const keys = await loadSigningKeys(db, master);
  return keys.map((k) => ({
    kid: k.kid,
    alg: k.alg,
    state: keyState(k, now),
    created_at: new Date(k.createdAt).toISOString(),
    activates_at: new Date(k.activateAt).toISOString(),
    retires_at: k.retireAt === null ? null : new Date(k.retireAt).toISOString(),
    expires_at: k.expireAt === null ? null : new Date(k.expireAt).toISOString(),
  }));
}

/** Longest pre-publication delay (GOVAUTH_KEY_PREPUBLISH, --prepublish, the admin API). */
export const MAX_PREPUBLISH_SECONDS = 30 * 86_400;

export interface RotateOptions {
  readonly prepublishSeconds: number;
  readonly now: number;
  /** Only rotate when the newest key is at least this old and nothing is pending (scheduler). */
  readonly onlyIfOlderThanMs?: number;
}

/** Rotates; returns the new kid, or undefined when a scheduled rotation was not due. */
export async function rotateSigningKey(db: Database, master: MasterKey, options: RotateOptions, by: Actor): Promise<string | undefined> {
  if (!Number.isSafeInteger(options.prepublishSeconds) || options.prepublishSeconds < 0 || options.prepublishSeconds > MAX_PREPUBLISH_SECONDS) {
    throw new AppError('invalid_request', `the pre-publication delay must be a whole number of seconds from 0 to ${MAX_PREPUBLISH_SECONDS}`);
  }
  const { now } = options;
  const material = await newSigningKeyMaterial();
  const activateAt = new Date(now + options.prepublishSeconds * 1000);
  const retireAt = activateAt;
  const expireAt = new Date(activateAt.getTime() + KEY_RETENTION_SECONDS * 1000);
  const sealedJwk = seal(master.derive('signing-key-seal'), JSON.stringify(material.privateJwk), material.kid);
  return writeWithChanges(db, async (tx) => {
    // The change-feed lock (taken first by writeWithChanges) also serializes rotations.
    const store = signingKeysIn(tx);
    const keys = await store.list();
    const signing = keys.filter((k) => k.activateAt.getTime() <= now && (k.retireAt === null || k.retireAt.getTime() > now));
    if (options.onlyIfOlderThanMs !== undefined) {
      const pending = keys.some((k) => k.activateAt.getTime() > now);
      const newest = Math.max(...keys.map((k) => k.createdAt.getTime()));
      if (pending || now - newest < options.onlyIfOlderThanMs) return { result: undefined, changes: [] };
    }
    for (const k of signing) {
      // Retire when the new key takes over; keep publishing until its tokens have expired.
      await store.retire(k.kid, retireAt, expireAt);
    }
    // A key still pending from an earlier rotation is superseded: it never signs.
    for (const k of keys.filter((x) => x.activateAt.getTime() > now)) {
      await store.retire(k.kid, new Date(now), new Date(now));
    }
    await store.insert({ kid: material.kid, alg: SIGNING_ALG, publicJwk: JSON.stringify(material.publicJwk), sealedJwk, activateAt });
    return {
      result: material.kid,
      changes: [{ kind: 'key', key: material.kid }],
      audit: [
        adminEvent(by, 'key.rotate', material.kid, { signing: signing.map((k) => k.kid) }, { kid: material.kid, activates_at: activateAt.toISOString() }, {
          retiring: signing.map((k) => ({ kid: k.kid, retires_at: retireAt.toISOString(), expires_at: expireAt.toISOString() })),
          prepublish_seconds: options.prepublishSeconds,
        }),
      ],
    };
  });
}

/**
 * Emergency: stop trusting a (possibly compromised) key now. It leaves JWKS at once, so tokens it
 * signed stop verifying; a new key must already sign (rotate with --prepublish 0 first).
 */
export async function withdrawSigningKey(db: Database, kid: string, by: Actor, now: number): Promise<void> {
  await writeWithChanges(db, async (tx) => {
    const store = signingKeysIn(tx);
    const keys = await store.list();
    const key = keys.find((k) => k.kid === kid);
    if (!key) throw new AppError('not_found', `no signing key ${kid}`);
    const others = keys.filter((k) => k.kid !== kid && k.activateAt.getTime() <= now && (k.retireAt === null || k.retireAt.getTime() > now));
    if (!others.length) {
      throw new AppError('conflict', `key ${kid} is the only one signing: run govauth keys rotate --prepublish 0 first (admin API: POST /admin/v1/keys/rotate with {"prepublish":0})`);
    }
    await store.retire(kid, new Date(now), new Date(now));
    return { result: undefined, changes: [{ kind: 'key', key: kid }], audit: [adminEvent(by, 'key.withdraw', kid, { state: 'published' }, { state: 'expired' })] };
  });
}

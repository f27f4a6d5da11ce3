// The issuer's signing keys, by kid, as node KeyObjects (verified synchronously by node:crypto:
// ~3× the throughput of WebCrypto's asynchronous verify, which jose uses).
//
// Timing follows jose's createRemoteJWKSet (a 10 min cache, a refetch on an unknown kid at most
// once per 30 s cooldown) with two differences that matter to a resource server when govauth is
// away: a stale set keeps serving while a refetch runs in the background (jose awaits it), and
// a failed fetch is not retried for a second, so an outage costs each request nothing.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { invalidToken, unavailable } from './errors.ts';
import { parseObject, request, type Fetch } from './http.ts';

export interface KeyStoreOptions {
  readonly jwksUri: () => Promise<string>;
  readonly fetch: Fetch;
  readonly now: () => number;
  /** Refetch after this long (ms); the old set serves meanwhile. jose: 10 min. */
  readonly cacheMaxAge: number;
  /** At most one refetch for an unknown kid per this long (ms). jose: 30 s. */
  readonly cooldown: number;
  readonly timeoutMs: number;
  readonly onError: (error: unknown) => void;
}

export interface KeyStore {
  /** The key for `kid`, or a Refused: invalid_token (no such key), temporarily_unavailable. */
  get(kid: string): Promise<KeyObject>;
}

const FAILURE_BACKOFF = 1000;
const MAX_KEYS = 100;

/** RSA signing keys of 2048 bits or more (RFC 7518 §3.3); any other key is left out. */
function parseJwks(text: string): Map<string, KeyObject> {
  const doc = parseObject(text, 'JWKS');
  if (!Array.isArray(doc.keys)) throw new Error('JWKS without keys');
  const keys = new Map<string, KeyObject>();
  for (const jwk of (doc.keys as unknown[]).slice(0, MAX_KEYS)) {
    if (typeof jwk !== 'object' || jwk === null) continue;
    const { kty, kid, use, alg, n, e } = jwk as Record<string, unknown>;
    if (kty !== 'RSA' || typeof kid !== 'string' || typeof n !== 'string' || typeof e !== 'string') continue;
    if ((use !== undefined && use !== 'sig') || (alg !== undefined && alg !== 'RS256') || keys.has(kid)) continue;
    try {
      const key = createPublicKey({ key: { kty, n, e }, format: 'jwk' });
      if ((key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) keys.set(kid, key);
    } catch {
      // Not a usable RSA key: skipped like any other unusable entry.
    }
  }
  return keys;
}

export function createKeyStore(options: KeyStoreOptions): KeyStore {
  let keys: Map<string, KeyObject> | undefined;
  let loadedAt = -Infinity;
  let attemptedAt = -Infinity;
  let failedAt = -Infinity;
  let pending: Promise<void> | undefined;

  const refresh = (): Promise<void> => {
    pending ??= (async () => {
      attemptedAt = options.now();
      try {
        const url = await options.jwksUri();
        const res = await request(options.fetch, url, { headers: { accept: 'application/jwk-set+json, application/json' }, timeoutMs: options.timeoutMs, maxBytes: 512_000 });
        if (res.status !== 200) throw new Error(`JWKS ${url} answered ${res.status}`);
        keys = parseJwks(res.body);
        loadedAt = options.now();
      } catch (err) {
        failedAt = options.now();
        throw err;
      }
    })().finally(() => {
      pending = undefined;
    });
    return pending;
  };

  const refreshNow = async (): Promise<void> => {
    if (options.now() - failedAt < FAILURE_BACKOFF) throw unavailable('The issuer keys cannot be fetched');
    try {
      await refresh();
    } catch (err) {
      options.onError(err);
      throw unavailable('The issuer keys cannot be fetched');
    }
  };

  return {
    async get(kid) {
      if (!keys) await refreshNow();
      const now = options.now();
      if (now - loadedAt > options.cacheMaxAge && !pending && now - failedAt >= FAILURE_BACKOFF) refresh().catch(options.onError);
      const key = keys?.get(kid);
      if (key) return key;
      // An unknown kid: a rotated-in key, or a forged token. Refetch at most once per cooldown.
      if (options.now() - attemptedAt >= options.cooldown) {
        await refreshNow();
        const fresh = keys?.get(kid);
        if (fresh) return fresh;
      } else if (pending) {
        await pending.catch(() => undefined);
        const fresh = keys?.get(kid);
        if (fresh) return fresh;
      }
      throw invalidToken('The access token is signed with an unknown key');
    },
  };
}

// Offline revocation with Token Status Lists (draft-ietf-oauth-status-list §8): a token names its
// list (status.status_list.uri) and its index; the kit fetches the signed list, keeps it for its
// `ttl`, and answers each request from memory in O(1).
//
// Freshness: a list is refetched in the background once 3/4 of its ttl has passed, and a request
// after the whole ttl waits for the new list, so a revocation is seen within one ttl. When the
// list cannot be fetched, the last list keeps serving until its `exp` plus `grace`, then requests
// with tokens on that list are refused (503): closed, not open.
import { jwtVerify } from 'jose';
import { invalidToken, unavailable } from './errors.ts';
import { request, type Fetch } from './http.ts';
import type { KeyStore } from './jwks.ts';
import { decodeStatusList, isStatusIndex, statusAt, type StatusList } from './status-list-token.ts';

export interface StatusListOptions {
  readonly issuer: string;
  readonly keys: KeyStore;
  readonly fetch: Fetch;
  readonly now: () => number;
  /** Origins besides the issuer's that may serve lists (https only). */
  readonly allowedOrigins: readonly string[];
  /** Seconds after a list's `exp` it may still serve while no new one can be fetched. */
  readonly grace: number;
  /** Seconds to keep a list that carries no `ttl`. */
  readonly defaultTtl: number;
  readonly clockTolerance: number;
  readonly timeoutMs: number;
  readonly maxLists: number;
  readonly onError: (error: unknown) => void;
}

export interface StatusListClient {
  /** Resolves when the referenced status is VALID (0x00); otherwise a Refused. */
  check(reference: unknown): Promise<void>;
}

interface Entry {
  readonly list: StatusList;
  readonly refreshAt: number;
  readonly staleAt: number;
  readonly expiresAt: number;
}

const FAILURE_BACKOFF = 1000;
const MIN_TTL = 1;
const MAX_TTL = 3600;
const STATUS_NAMES: Record<number, string> = { 1: 'revoked', 2: 'suspended' };

export function createStatusListClient(options: StatusListOptions): StatusListClient {
  const lists = new Map<string, Entry>();
  const failedAt = new Map<string, number>();
  const pending = new Map<string, Promise<Entry>>();
  const issuerOrigin = new URL(options.issuer).origin;

  function allowed(uri: string): boolean {
    const url = URL.parse(uri);
    if (!url || url.username || url.password) return false;
    if (url.origin === issuerOrigin) return true;
    return url.protocol === 'https:' && options.allowedOrigins.includes(url.origin);
  }

  async function load(uri: string): Promise<Entry> {
    const res = await request(options.fetch, uri, { headers: { accept: 'application/statuslist+jwt' }, timeoutMs: options.timeoutMs, maxBytes: 8_000_000 });
    if (res.status !== 200) throw new Error(`status list ${uri} answered ${res.status}`);
    // §5.1: typ statuslist+jwt, signed by the issuer (§5.1 iss equals the token's iss), sub is the uri.
    const { payload } = await jwtVerify(res.body.trim(), (header) => options.keys.get(String(header.kid)), {
      typ: 'statuslist+jwt',
      algorithms: ['RS256'],
      issuer: options.issuer,
      subject: uri,
      requiredClaims: ['iat'],
      clockTolerance: options.clockTolerance,
      currentDate: new Date(options.now()),
    });
    const list = await decodeStatusList(payload.status_list);
    const { ttl, exp } = payload;
    if (ttl !== undefined && (typeof ttl !== 'number' || !(ttl > 0))) throw new Error('status list ttl must be a positive number');
    const now = options.now();
    const keep = Math.min(Math.max(ttl ?? options.defaultTtl, MIN_TTL), MAX_TTL) * 1000;
    const expiresAt = typeof exp === 'number' ? exp * 1000 : now + keep;
    const staleAt = Math.min(now + keep, expiresAt);
    return { list, refreshAt: now + (staleAt - now) * 0.75, staleAt, expiresAt };
  }

  function refresh(uri: string): Promise<Entry> {
    let p = pending.get(uri);
    if (!p) {
      p = load(uri)
        .then((entry) => {
          lists.delete(uri);
          lists.set(uri, entry);
          failedAt.delete(uri);
          // Bounded: the least recently refreshed list leaves first.
          for (const key of lists.keys()) {
            if (lists.size <= options.maxLists) break;
            lists.delete(key);
          }
          return entry;
        })
        .catch((err: unknown) => {
          failedAt.set(uri, options.now());
          if (failedAt.size > options.maxLists) failedAt.delete(failedAt.keys().next().value as string);
          throw err;
        })
        .finally(() => pending.delete(uri));
      pending.set(uri, p);
    }
    return p;
  }

  async function current(uri: string): Promise<Entry> {
    const now = options.now();
    const entry = lists.get(uri);
    if (entry && now < entry.staleAt) {
      if (now >= entry.refreshAt && !pending.has(uri)) refresh(uri).catch(options.onError);
      return entry;
    }
    if (now - (failedAt.get(uri) ?? -Infinity) >= FAILURE_BACKOFF) {
      try {
        return await refresh(uri);
      } catch (err) {
        options.onError(err);
      }
    }
    const last = lists.get(uri);
    if (last && options.now() < last.expiresAt + options.grace * 1000) return last;
    throw unavailable('The token status list cannot be fetched');
  }

  return {
    async check(reference) {
      if (typeof reference !== 'object' || reference === null) throw invalidToken('The access token status claim is malformed');
      const { idx, uri } = reference as Record<string, unknown>;
      if (!isStatusIndex(idx) || typeof uri !== 'string') throw invalidToken('The access token status claim is malformed');
      if (!allowed(uri)) throw invalidToken('The access token names a status list at an origin that is not trusted');
      const status = statusAt((await current(uri)).list, idx);
      if (status === undefined) throw invalidToken('The access token status index is outside its status list');
      if (status !== 0) throw invalidToken(`The access token has been ${STATUS_NAMES[status] ?? 'invalidated'}`);
    },
  };
}

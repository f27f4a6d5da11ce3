// Token Status Lists (draft-ietf-oauth-status-list-20): every access token carries
// `status.status_list {idx, uri}`, and GET <uri> answers a signed list of 1-bit statuses in
// which bit idx is 1 when introspection would call the token inactive (status-bits.ts). A
// resource server caches the list for its `ttl` and checks revocation offline.
// - List n holds indices [n·listSize, (n+1)·listSize); a new list starts when one is used up
//   (blocks are reserved in order, status-index-allocator.ts). Every list always has its full
//   size: an index out of bounds must be rejected (§8.3), and an unused index reads as valid,
//   which hides how many tokens a list holds (§13.3).
// - Each instance computes every list from the audit records (token-record-tail.ts), so any
//   instance answers for tokens any other minted. It answers 503 until it has read the records
//   of every token that can still be live.
// - A list is served until no token in it can be live, then 404 (§13.1): its last block was
//   reserved long enough ago that no token can still join it, and every token in it expired.
import type { Database } from '../db/database.ts';
import { reserveStatusIndices, statusIndexHighWater } from '../db/status-list-indices.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import { MAX_TTL_SECONDS } from '../config/token-limits.ts';
import type { Keyring } from '../keys/keyring.ts';
import { createJwtSigner } from '../keys/jwt-signer.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../time/clock.ts';
import { LiveTokens, type MintedToken } from './live-tokens.ts';
import { createStatusBits } from './status-bits.ts';
import { createStatusIndexAllocator } from './status-index-allocator.ts';
import { signStatusList } from './status-list-token.ts';
import { mintedTokenOf } from './token-facts.ts';
import { startTokenRecordTail } from './token-record-tail.ts';

export const STATUS_LIST_PATH = '/statuslists';

/** Internal sizes (tests shrink them); the defaults suit production. */
export interface StatusListOptions {
  /** Indices per list: a power of two, at least 8. Default 2^17 (16 KiB of bits). */
  readonly listSize?: number;
  /** Indices a process reserves at a time: a power of two dividing listSize. Default 1024. */
  readonly blockSize?: number;
  /** How long a reserved block may be used. Default 60 s. */
  readonly blockMaxAgeMs?: number;
}

export interface StatusListsDeps {
  readonly db: Database;
  readonly policy: PolicyStore;
  readonly keyring: Keyring;
  readonly issuer: string;
  /** Seconds a resource server may cache a list (GOVAUTH_STATUS_LIST_TTL). */
  readonly ttlSeconds: number;
  /** Seconds: the access-token lifetime when neither resource nor scope sets one. */
  readonly accessTokenTtl: number;
  readonly log: Logger;
  readonly now: Clock;
  readonly options?: StatusListOptions;
}

type ServedList = { readonly kind: 'list'; readonly jwt: string; readonly maxAge: number } | { readonly kind: 'not_found' } | { readonly kind: 'unavailable' };

/** A live token this instance knows, for the usage reports (resource-usage.ts). */
export interface KnownToken {
  readonly sub: string;
  readonly clientId: string;
  readonly audience: string | undefined;
  readonly scopes: readonly string[];
}

/** A token's place in the status lists: list n, index idx in it (the claim's idx), and n's URI. */
interface StatusClaim {
  readonly list: number;
  readonly idx: number;
  readonly uri: string;
}

export interface StatusLists {
  /** The `status` claim of a token being minted (draft §6.2). */
  claim(): StatusClaim | Promise<StatusClaim>;
  /** A minted token's audit record committed here: know it now rather than at the next poll. */
  recorded(detail: Record<string, unknown>): void;
  /** The unexpired token with this jti, if this instance knows it. */
  knownToken(jti: string): KnownToken | undefined;
  serve(list: number): Promise<ServedList>;
  /** URIs of every list served now (the aggregation, draft §9). */
  served(): Promise<string[] | undefined>;
  /** Resolves once every known change has been applied to the bits (tests). */
  settled(): Promise<void>;
  readonly stats: () => { tokens: number; chunks: number; lists: number };
  close(): void;
}

const DEFAULTS = { listSize: 2 ** 17, blockSize: 1024, blockMaxAgeMs: 60_000 };
// Beyond the block age: the audit commit and tail of the last token that joined, and clock skew.
const RETIRE_MARGIN_MS = 60_000;
const PRUNE_MS = 10_000;
const FULL_PASS_MS = 5 * 60_000;
const MIN_REBUILD_MS = 100;
const HIGH_WATER_REFRESH_MS = 1000;

export async function createStatusLists(deps: StatusListsDeps): Promise<StatusLists> {
  const { listSize, blockSize, blockMaxAgeMs } = { ...DEFAULTS, ...deps.options };
  if (!Number.isInteger(Math.log2(listSize)) || listSize < 8 || !Number.isInteger(Math.log2(blockSize)) || listSize % blockSize !== 0) {
    throw new TypeError('status list sizes must be powers of two, the block dividing the list');
  }
  const { db, policy, now, ttlSeconds } = deps;
  const nowSec = (): number => Math.floor(now() / 1000);
  const listOf = (idx: number): number => Math.floor(idx / listSize);
  const uri = (list: number): string => `${deps.issuer}${STATUS_LIST_PATH}/${list}`;
  const tokens = new LiveTokens(Math.min(1024, listSize), (id) => policy.user(id)?.id);
  const versions = new Map<number, number>();
  const bits = createStatusBits(tokens, { policy, now, onFlip: (idx) => versions.set(listOf(idx), (versions.get(listOf(idx)) ?? 0) + 1) });

  // Which lists exist: every list up to the highest reserved index. `seen` keeps when this
  // instance first knew of each list it learned of after starting; the lists before were known
  // at start.
  const startedAt = now();
  const highWater = await statusIndexHighWater(db);
  let highest = highWater > 0 ? listOf(highWater - 1) : -1;
  const startHighest = highest;
  const seen = new Map<number, number>();
  const discover = (list: number): void => {
    if (list <= highest) return;
    highest = list;
    seen.set(list, now());
  };
  let refreshing: Promise<void> | undefined;
  let refreshedAt = 0;
  const refreshHighest = (): Promise<void> => {
    if (now() - refreshedAt < HIGH_WATER_REFRESH_MS) return refreshing ?? Promise.resolve();
    refreshedAt = now();
    refreshing ??= statusIndexHighWater(db)
      .then((hw) => void (hw > 0 && discover(listOf(hw - 1))))
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  };

  /** An upper bound on when list n was closed: when this instance first knew of a later list. */
  const closedBy = (list: number): number | undefined => {
    if (list >= highest) return undefined;
    if (list + 1 <= startHighest) return startedAt;
    let earliest: number | undefined;
    for (const [l, at] of seen) if (l > list && (earliest === undefined || at < earliest)) earliest = at;
    return earliest;
  };
  const chunksPerList = listSize / tokens.chunkSize;
  const holdsLive = (list: number): boolean => {
    for (let c = list * chunksPerList; c < (list + 1) * chunksPerList; c++) if ((tokens.chunk(c)?.maxExp ?? 0) > nowSec()) return true;
    return false;
  };
  // Lists below this are retired for good (the pruner moves it up; their `seen` entries go).
  let retiredBelow = 0;
  const retired = (list: number): boolean => {
    if (list < retiredBelow) return true;
    const closed = closedBy(list);
    return closed !== undefined && now() - closed > blockMaxAgeMs + RETIRE_MARGIN_MS && !holdsLive(list);
  };

  const add = (token: MintedToken): void => {
    const added = tokens.add(token, nowSec());
    if (added.result === 'added' && added.chunk && added.at !== undefined) {
      bits.judge(added.chunk, added.at);
      discover(listOf(token.idx));
    } else if (added.result === 'conflict') {
      deps.log.error('status list: two tokens claim one index', { idx: token.idx, jti: token.jti });
    }
  };

  // The longest an access token can live under the current policy (resources, the default).
  const lookbackSeconds = (): number => Math.min(MAX_TTL_SECONDS, Math.max(deps.accessTokenTtl, ...[...policy.snapshot().resources.values()].map((r) => r.tokenTtl ?? 0)));
  const tail = startTokenRecordTail({ db, lookbackSeconds, intervalMs: Math.min(1000, ttlSeconds * 500), onToken: add, listSize, log: deps.log, now });
  policy.onChange((changes) => bits.changed(changes));
  const allocator = createStatusIndexAllocator({ reserve: () => reserveStatusIndices(db, blockSize, listSize), blockSize, maxAgeMs: blockMaxAgeMs, now });

  const sign = createJwtSigner(deps.keyring);
  const cache = new Map<number, { jwt: string; builtAt: number; version: number }>();
  const building = new Map<number, Promise<{ jwt: string; builtAt: number; version: number }>>();
  const build = async (list: number): Promise<{ jwt: string; builtAt: number; version: number }> => {
    const version = versions.get(list) ?? 0;
    const builtAt = now();
    const array = new Uint8Array(listSize / 8);
    for (let c = list * chunksPerList; c < (list + 1) * chunksPerList; c++) {
      const chunk = tokens.chunk(c);
      if (chunk) array.set(chunk.bits, (chunk.base - list * listSize) / 8);
    }
    const iat = Math.floor(builtAt / 1000);
    // exp: how long a resource server may rely on this copy if it cannot fetch a fresh one
    // (govauth unreachable); ttl: when it should fetch again (draft §13.7).
    const jwt = await signStatusList(sign, { issuer: deps.issuer, uri: uri(list), bits: array, iat, exp: iat + Math.max(300, 2 * ttlSeconds), ttl: ttlSeconds });
    return { jwt, builtAt, version };
  };
  const current = async (list: number): Promise<{ jwt: string; builtAt: number }> => {
    const cached = cache.get(list);
    const age = cached ? now() - cached.builtAt : Infinity;
    const changed = cached?.version !== (versions.get(list) ?? 0);
    if (cached && age < ttlSeconds * 500 && (!changed || age < MIN_REBUILD_MS)) return cached;
    let pending = building.get(list);
    if (!pending) {
      pending = build(list).finally(() => building.delete(list));
      building.set(list, pending);
    }
    const built = await pending;
    cache.set(list, built);
    return built;
  };

  const pruner = setInterval(() => {
    tokens.prune(nowSec());
    while (retiredBelow < highest && retired(retiredBelow)) retiredBelow++;
    for (const list of seen.keys()) if (list < retiredBelow) seen.delete(list);
    for (const list of [...cache.keys(), ...versions.keys()]) {
      if (list >= retiredBelow) continue;
      cache.delete(list);
      versions.delete(list);
    }
  }, PRUNE_MS);
  pruner.unref();
  const fullPass = setInterval(() => bits.judgeAll(), FULL_PASS_MS);
  fullPass.unref();

  return {
    claim() {
      const idx = allocator.next();
      const claimOf = (i: number): StatusClaim => {
        const list = listOf(i);
        discover(list);
        return { list, idx: i - list * listSize, uri: uri(list) };
      };
      return typeof idx === 'number' ? claimOf(idx) : idx.then(claimOf);
    },
    recorded(detail) {
      const token = mintedTokenOf(detail, listSize);
      if (token) add(token);
    },
    knownToken(jti) {
      const found = tokens.findJti(jti);
      if (!found) return undefined;
      const s = tokens.summaryOf(found.chunk, found.at);
      return s.exp > nowSec() ? { sub: s.sub, clientId: s.clientId, audience: s.audience, scopes: s.scopes } : undefined;
    },
    async serve(list) {
      if (!tail.caughtUp()) return { kind: 'unavailable' };
      if (list > highest) await refreshHighest();
      if (list > highest || retired(list)) return { kind: 'not_found' };
      const { jwt, builtAt } = await current(list);
      return { kind: 'list', jwt, maxAge: Math.max(0, ttlSeconds - Math.floor((now() - builtAt) / 1000)) };
    },
    async served() {
      if (!tail.caughtUp()) return undefined;
      await refreshHighest();
      // The lists a resource server may need now: those holding a live token, and the newest.
      const lists = new Set(tokens.chunks().filter((c) => c.maxExp > nowSec()).map((c) => listOf(c.base)));
      if (highest >= 0) lists.add(highest);
      return [...lists].filter((list) => !retired(list)).sort((a, b) => a - b).map(uri);
    },
    async settled() {
      await tail.poll();
      await bits.settled();
    },
    stats: () => ({ tokens: tokens.size, chunks: tokens.chunkCount, lists: highest + 1 }),
    close() {
      tail.close();
      clearInterval(pruner);
      clearInterval(fullPass);
    },
  };
}

// The live access tokens this instance knows (from their audit records, token-record-tail.ts),
// by status-list index, with just what introspection's liveness rule reads (token-liveness.ts)
// and their status bit. Memory is the point: at 2,000 tokens/s and 5-minute tokens an instance
// holds 600,000 of them under a 192 MB heap. So nothing is kept per token as a JavaScript object:
// - columns of typed arrays per chunk of consecutive indices (off the V8 heap): iat, exp,
//   source_iat, a person's auth_time, and the ids of interned values (interned.ts) for subject,
//   client, resource, scope set, role set, act chain and the rest of the policy step's context
//   (amr, binding, CIBA approval: few distinct values), shared by all tokens that name the same
//   value;
// - an exchanged token's exchanged_from list, interned with an index from each jti to the lists
//   naming it (exchanged-from-lists.ts), in a column only chunks holding such a token have;
// - the jti and grant_id as their 43 bytes (oidc-provider's ids, lib/helpers/nanoid.js), with a
//   small open-addressing index per chunk to find a jti (the usage reports name tokens by jti);
// - a chunk goes as a whole once its last token has expired. Indices are never reused, so a
//   slot is written once and nothing inside a chunk is ever deleted.
// bench/status-list-memory.ts measures the cost per token.
import type { ChainHop } from '../governance/delegation.ts';
import { isUserSubject, type IssuanceContext, type LiveTokenFacts } from '../introspection/token-liveness.ts';
import { ExchangedFromLists } from './exchanged-from-lists.ts';
import { Interned } from './interned.ts';
import { ATOMS, AUDIENCE, CHAIN, Chunk, CLIENT, COMPACT_ID, CONTEXT, hashId, ID_BYTES, ROLES, SCOPES, USER } from './token-chunk.ts';

export type { Chunk } from './token-chunk.ts';

/** What an access token's audit record says, as far as the status list needs it (token-facts.ts). */
export interface MintedToken {
  readonly idx: number;
  readonly jti: string;
  /** Seconds. */
  readonly iat: number;
  /** Seconds. */
  readonly exp: number;
  readonly sourceIat: number | undefined;
  readonly grantId: string | undefined;
  readonly sub: string;
  readonly clientId: string;
  readonly audience: string;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  /** A delegated token's actors, current first (RFC 8693 §4.1). */
  readonly chain: readonly ChainHop[] | undefined;
  /** The jtis it was exchanged from (its exchanged_from claim); undefined: none, or a record from before they were recorded. */
  readonly exchangedFrom: readonly string[] | undefined;
  /** The context the policy step judges it in (token-liveness.ts issuanceContextOf). */
  readonly context: IssuanceContext;
}

/** The context of a token whose record names none: a bearer token of no sign-in (interned id 0). */
const NO_CONTEXT: Omit<IssuanceContext, 'authTime'> = Object.freeze({ amr: undefined, binding: 'bearer', cibaRequest: undefined });

/**
 * The interned part of a context: its auth_time is a column of its own, as it differs from one
 * sign-in to the next while amr, binding and CIBA approval take few values (a person's tokens of
 * one sign-in would share it, but tokens of different people would not).
 */
function contextKey(c: IssuanceContext): string | undefined {
  if (c.binding === 'bearer' && c.amr === undefined && c.cibaRequest === undefined) return undefined;
  return JSON.stringify([c.binding, c.cibaRequest ?? null, c.amr ?? null]);
}

export type AddResult = 'added' | 'known' | 'expired' | 'conflict';

export class LiveTokens {
  readonly chunkSize: number;
  readonly #chunks = new Map<number, Chunk>();
  readonly users = new Interned<string>();
  readonly clients = new Interned<string>();
  readonly audiences = new Interned<readonly string[]>();
  readonly scopeSets = new Interned<readonly string[]>();
  readonly roleSets = new Interned<readonly string[]>();
  readonly chains = new Interned<readonly ChainHop[]>();
  readonly contexts = new Interned<Omit<IssuanceContext, 'authTime'>>();
  readonly exchangedFrom = new ExchangedFromLists();
  #tokens = 0;
  readonly #personId: (id: string) => string | undefined;

  /**
   * `chunkSize`: a power of two from 8 to 32,768 (the jti index holds slot + 1 in 16 bits).
   * `personId`: the copy of a person's id the process already holds (the policy store's), so
   * each person's id is in memory once, however many tokens name them.
   */
  constructor(chunkSize: number, personId: (id: string) => string | undefined = () => undefined) {
    if (!Number.isInteger(Math.log2(chunkSize)) || chunkSize < 8 || chunkSize > 32_768) throw new TypeError('chunk size must be a power of two from 8 to 32768');
    this.chunkSize = chunkSize;
    this.#personId = personId;
  }

  /** Tokens held (expired ones included until their chunk goes). */
  get size(): number {
    return this.#tokens;
  }

  get chunkCount(): number {
    return this.#chunks.size;
  }

  chunk(no: number): Chunk | undefined {
    return this.#chunks.get(no);
  }

  add(t: MintedToken, nowSec: number): { result: AddResult; chunk?: Chunk; at?: number } {
    if (t.exp <= nowSec) return { result: 'expired' };
    const no = Math.floor(t.idx / this.chunkSize);
    const at = t.idx - no * this.chunkSize;
    let chunk = this.#chunks.get(no);
    if (!chunk) {
      chunk = new Chunk(no * this.chunkSize, this.chunkSize);
      this.#chunks.set(no, chunk);
    }
    if (chunk.exp[at] !== 0) return { result: chunk.jtiAt(at) === t.jti ? 'known' : 'conflict', chunk, at };
    chunk.exp[at] = t.exp;
    chunk.iat[at] = t.iat;
    chunk.sourceIat[at] = t.sourceIat ?? 0;
    const atoms = at * ATOMS;
    const person = isUserSubject(t.sub) ? (this.#personId(t.sub) ?? t.sub) : undefined;
    chunk.atoms[atoms + USER] = person === undefined ? 0 : this.users.acquire(person, () => person);
    chunk.atoms[atoms + CLIENT] = this.clients.acquire(t.clientId, () => t.clientId);
    chunk.atoms[atoms + AUDIENCE] = this.audiences.acquire(t.audience, () => [t.audience]);
    chunk.atoms[atoms + SCOPES] = this.scopeSets.acquire(t.scopes.join(' '), () => Object.freeze([...t.scopes]));
    chunk.atoms[atoms + ROLES] = this.roleSets.acquire(t.roles.join(' '), () => Object.freeze([...t.roles]));
    chunk.atoms[atoms + CHAIN] = t.chain?.length ? this.chains.acquire(JSON.stringify(t.chain), () => Object.freeze(t.chain?.map((h) => ({ actor: h.actor, delegationId: h.delegationId })) ?? [])) : 0;
    const context = contextKey(t.context);
    const { amr, binding, cibaRequest, authTime } = t.context;
    chunk.atoms[atoms + CONTEXT] = context === undefined ? 0 : this.contexts.acquire(context, () => Object.freeze({ amr: amr && Object.freeze([...amr]), binding, cibaRequest }));
    if (authTime !== undefined && authTime > 0) (chunk.authTime ??= new Uint32Array(this.chunkSize))[at] = authTime;
    if (t.exchangedFrom?.length) (chunk.exchangedFrom ??= new Uint32Array(this.chunkSize))[at] = this.exchangedFrom.acquire(t.exchangedFrom);
    const compact = COMPACT_ID.test(t.jti) && (t.grantId === undefined || COMPACT_ID.test(t.grantId));
    if (compact) {
      chunk.jti.write(t.jti, at * ID_BYTES, 'latin1');
      if (t.grantId !== undefined) {
        chunk.grant ??= Buffer.alloc(this.chunkSize * ID_BYTES);
        chunk.grant.write(t.grantId, at * ID_BYTES, 'latin1');
      }
    } else {
      (chunk.odd ??= new Map()).set(at, { jti: t.jti, grant: t.grantId });
    }
    chunk.indexJti(at, hashId(t.jti));
    chunk.count++;
    chunk.maxExp = Math.max(chunk.maxExp, t.exp);
    this.#tokens++;
    return { result: 'added', chunk, at };
  }

  /** The token with this jti, if this instance holds it (expired or not). */
  findJti(jti: string): { chunk: Chunk; at: number } | undefined {
    const hash = hashId(jti);
    for (const chunk of this.#chunks.values()) {
      const at = chunk.findJti(jti, hash);
      if (at !== undefined) return { chunk, at };
    }
    return undefined;
  }

  /** What tokenLiveness judges (the same facts introspection reads from the token's claims). */
  factsOf(chunk: Chunk, at: number): LiveTokenFacts {
    const source = chunk.sourceIat[at] ?? 0;
    const chain = this.chains.value(chunk.atom(at, CHAIN));
    const userId = this.users.value(chunk.atom(at, USER));
    const exchangedFrom = this.exchangedFrom.value(chunk.exchangedFrom?.[at] ?? 0);
    return {
      jti: chunk.jtiAt(at),
      iat: chunk.iat[at] ?? 0,
      sourceIat: source === 0 ? undefined : source,
      grantId: chunk.grantAt(at),
      userId,
      clientId: this.clients.value(chunk.atom(at, CLIENT)) ?? '',
      roles: this.roleSets.value(chunk.atom(at, ROLES)) ?? [],
      audiences: this.audiences.value(chunk.atom(at, AUDIENCE)) ?? [],
      scopes: this.scopeSets.value(chunk.atom(at, SCOPES)) ?? [],
      scopeRule: 'all',
      ...(chain && { chain }),
      ...(exchangedFrom && { exchangedFrom }),
      ...(this.contexts.value(chunk.atom(at, CONTEXT)) ?? NO_CONTEXT),
      authTime: chunk.authTime?.[at] || undefined,
    };
  }

  /** The subject (`sub`: the person, else the client), client, audience and scopes of a held token. */
  summaryOf(chunk: Chunk, at: number): { sub: string; clientId: string; audience: string | undefined; scopes: readonly string[]; exp: number } {
    const clientId = this.clients.value(chunk.atom(at, CLIENT)) ?? '';
    return {
      sub: this.users.value(chunk.atom(at, USER)) ?? clientId,
      clientId,
      audience: this.audiences.value(chunk.atom(at, AUDIENCE))?.[0],
      scopes: this.scopeSets.value(chunk.atom(at, SCOPES)) ?? [],
      exp: chunk.exp[at] ?? 0,
    };
  }

  /** Calls `fn` for every held token, chunk by chunk. */
  forEachSlot(fn: (chunk: Chunk, at: number) => void): void {
    for (const chunk of this.#chunks.values()) {
      for (let at = 0; at < this.chunkSize; at++) if (chunk.exp[at] !== 0) fn(chunk, at);
    }
  }

  /** The held chunks (for work done a slice at a time). */
  chunks(): Chunk[] {
    return [...this.#chunks.values()];
  }

  /** Whether the slot's exchanged_from list is one of these (exchangedFrom.naming). */
  exchangedFromIn(chunk: Chunk, at: number, lists: ReadonlySet<number>): boolean {
    return chunk.exchangedFrom !== undefined && lists.has(chunk.exchangedFrom[at] ?? 0);
  }

  /** Whether the slot's interned values include one of these ids (any column may be absent). */
  names(
    chunk: Chunk,
    at: number,
    ids: { users?: ReadonlySet<number>; clients?: ReadonlySet<number>; audiences?: ReadonlySet<number>; scopeSets?: ReadonlySet<number>; roleSets?: ReadonlySet<number>; chains?: ReadonlySet<number> },
  ): boolean {
    return (
      (ids.users?.has(chunk.atom(at, USER)) ?? false) ||
      (ids.clients?.has(chunk.atom(at, CLIENT)) ?? false) ||
      (ids.audiences?.has(chunk.atom(at, AUDIENCE)) ?? false) ||
      (ids.scopeSets?.has(chunk.atom(at, SCOPES)) ?? false) ||
      (ids.roleSets?.has(chunk.atom(at, ROLES)) ?? false) ||
      (ids.chains?.has(chunk.atom(at, CHAIN)) ?? false)
    );
  }

  /**
   * The key of everything tokenLiveness reads but the jti and grant (status-bits.ts memoizes on
   * it), an exchanged token's exchanged_from list included: tokens exchanged from the same tokens
   * share whether one of those is revoked.
   */
  memoKey(chunk: Chunk, at: number): string {
    const o = at * ATOMS;
    const a = chunk.atoms;
    return `${a[o]},${a[o + 1]},${a[o + 2]},${a[o + 3]},${a[o + 4]},${a[o + 5]},${a[o + 6]},${chunk.iat[at]},${chunk.sourceIat[at]},${chunk.authTime?.[at] ?? 0},${chunk.exchangedFrom?.[at] ?? 0}`;
  }

  /** Drops every chunk whose tokens have all expired; returns how many tokens went. */
  prune(nowSec: number): number {
    let dropped = 0;
    for (const [no, chunk] of this.#chunks) {
      if (chunk.maxExp > nowSec) continue;
      for (let at = 0; at < this.chunkSize; at++) {
        if (chunk.exp[at] === 0) continue;
        this.users.release(chunk.atom(at, USER));
        this.clients.release(chunk.atom(at, CLIENT));
        this.audiences.release(chunk.atom(at, AUDIENCE));
        this.scopeSets.release(chunk.atom(at, SCOPES));
        this.roleSets.release(chunk.atom(at, ROLES));
        this.chains.release(chunk.atom(at, CHAIN));
        this.contexts.release(chunk.atom(at, CONTEXT));
        this.exchangedFrom.release(chunk.exchangedFrom?.[at] ?? 0);
      }
      dropped += chunk.count;
      this.#chunks.delete(no);
    }
    this.#tokens -= dropped;
    return dropped;
  }
}

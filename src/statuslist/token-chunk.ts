// A chunk of the table of live tokens (live-tokens.ts): consecutive status-list indices, one
// typed-array column per fact, the 43-byte jti and grant_id of each token, an open-addressing
// index to find a jti, and the status bits. Written once per slot, dropped whole.
export const ID_BYTES = 43;
/** oidc-provider's ids (lib/helpers/nanoid.js): stored as bytes; any other id goes to `odd`. */
export const COMPACT_ID = /^[\x21-\x7e]{43}$/;
// The interned values of a token (interned.ts ids), ATOMS columns per slot in `atoms`.
export const USER = 0;
export const CLIENT = 1;
export const AUDIENCE = 2;
export const SCOPES = 3;
export const ROLES = 4;
export const CHAIN = 5;
/** Its amr, binding and CIBA approval (token-liveness.ts IssuanceContext; auth_time is a column). */
export const CONTEXT = 6;
export const ATOMS = 7;

/** FNV-1a over the characters: the jti index's hash. */
export function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Consecutive indices [base, base + size): one column per fact, one byte per 8 status bits. */
export class Chunk {
  readonly base: number;
  readonly exp: Uint32Array;
  readonly iat: Uint32Array;
  readonly sourceIat: Uint32Array;
  readonly atoms: Uint32Array;
  /** A person's auth_time (0: none), made with the first token that has one: client tokens never do. */
  authTime: Uint32Array | undefined;
  /**
   * An exchanged token's exchanged_from list (an exchanged-from-lists.ts id; 0: none), made with
   * the first exchanged token in the chunk: a chunk holding none (bots, people signed in) has none.
   */
  exchangedFrom: Uint32Array | undefined;
  readonly jti: Buffer;
  grant: Buffer | undefined;
  readonly jtiIndex: Uint16Array;
  /** Status bits, index i at byte ⌊i/8⌋, bit i mod 8 (draft-ietf-oauth-status-list-20 §4.1). */
  readonly bits: Uint8Array;
  /** Ids that are not 43 printable characters, by slot (never seen from oidc-provider; kept correct anyway). */
  odd: Map<number, { jti: string; grant?: string | undefined }> | undefined;
  count = 0;
  maxExp = 0;

  constructor(base: number, size: number) {
    this.base = base;
    this.exp = new Uint32Array(size);
    this.iat = new Uint32Array(size);
    this.sourceIat = new Uint32Array(size);
    this.atoms = new Uint32Array(size * ATOMS);
    this.jti = Buffer.alloc(size * ID_BYTES);
    this.jtiIndex = new Uint16Array(size * 2);
    this.bits = new Uint8Array(size / 8);
  }

  jtiAt(at: number): string {
    return this.odd?.get(at)?.jti ?? this.jti.toString('latin1', at * ID_BYTES, (at + 1) * ID_BYTES);
  }

  grantAt(at: number): string | undefined {
    const odd = this.odd?.get(at);
    if (odd) return odd.grant;
    if (!this.grant || this.grant[at * ID_BYTES] === 0) return undefined;
    return this.grant.toString('latin1', at * ID_BYTES, (at + 1) * ID_BYTES);
  }

  invalid(at: number): boolean {
    return ((this.bits[at >> 3] ?? 0) & (1 << (at & 7))) !== 0;
  }

  /** Sets the bit; true when it changed. */
  setInvalid(at: number, invalid: boolean): boolean {
    if (this.invalid(at) === invalid) return false;
    this.bits[at >> 3] = (this.bits[at >> 3] ?? 0) ^ (1 << (at & 7));
    return true;
  }

  atom(at: number, column: number): number {
    return this.atoms[at * ATOMS + column] ?? 0;
  }

  /** Whether the slot's grant_id is `grant` (compared in place: no string per slot). */
  hasGrant(at: number, grant: string): boolean {
    const odd = this.odd?.get(at);
    if (odd) return odd.grant === grant;
    if (!this.grant || grant.length !== ID_BYTES) return false;
    const offset = at * ID_BYTES;
    for (let i = 0; i < ID_BYTES; i++) if (this.grant[offset + i] !== grant.charCodeAt(i)) return false;
    return true;
  }

  #sameJti(at: number, jti: string): boolean {
    const odd = this.odd?.get(at);
    if (odd) return odd.jti === jti;
    if (jti.length !== ID_BYTES) return false;
    const offset = at * ID_BYTES;
    for (let i = 0; i < ID_BYTES; i++) if (this.jti[offset + i] !== jti.charCodeAt(i)) return false;
    return true;
  }

  indexJti(at: number, hash: number): void {
    const mask = this.jtiIndex.length - 1;
    let i = hash & mask;
    while (this.jtiIndex[i] !== 0) i = (i + 1) & mask;
    this.jtiIndex[i] = at + 1;
  }

  findJti(jti: string, hash: number): number | undefined {
    const mask = this.jtiIndex.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const entry = this.jtiIndex[i] ?? 0;
      if (entry === 0) return undefined;
      if (this.#sameJti(entry - 1, jti)) return entry - 1;
    }
  }
}

// What is revoked, in memory, for the hot paths (introspection, token issuance). Access tokens
// are JWTs that are never stored, so a revocation is a rule about claims:
// - token  (jti):            that token;
// - grant  (grant_id):       every token issued from the grant;
// - user / client / role:    every token of that principal issued at or before the cutoff.
// Cutoffs compare with `iat` (whole seconds): a token is revoked if iat ≤ ⌊cutoff⌋. Issuance
// never signs a token inside the cutoff's second (see waitPastCutoff), so a token issued after
// a revocation is never caught by it.
export type RevocationKind = 'token' | 'grant' | 'user' | 'client' | 'role';
export const REVOCATION_KINDS: readonly RevocationKind[] = ['token', 'grant', 'user', 'client', 'role'];

export interface RevocationEntry {
  readonly id: number;
  readonly kind: RevocationKind;
  readonly key: string;
  /** Epoch ms. */
  readonly cutoff: number;
  /** Epoch ms: the entry can affect no live token after this. */
  readonly expiresAt: number;
  readonly reason: string | null;
  readonly actor: string | null;
}

/** The claims a revocation can match. */
export interface TokenFacts {
  readonly jti?: string | undefined;
  /** Seconds. */
  readonly iat: number;
  readonly grantId?: string | undefined;
  readonly userId?: string | undefined;
  readonly clientId?: string | undefined;
  readonly roles?: readonly string[] | undefined;
}

const id = (kind: RevocationKind, key: string): string => `${kind}\0${key}`;

export class RevocationState {
  readonly #entries = new Map<string, RevocationEntry>();

  set(entry: RevocationEntry): void {
    this.#entries.set(id(entry.kind, entry.key), entry);
  }

  delete(kind: RevocationKind, key: string): void {
    this.#entries.delete(id(kind, key));
  }

  get(kind: RevocationKind, key: string): RevocationEntry | undefined {
    return this.#entries.get(id(kind, key));
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Why the token is revoked, or undefined. Every lookup is made whatever the outcome. */
  check(t: TokenFacts): RevocationKind | undefined {
    const hits: (RevocationKind | undefined)[] = [
      t.jti !== undefined && this.#entries.has(id('token', t.jti)) ? 'token' : undefined,
      t.grantId !== undefined && this.#entries.has(id('grant', t.grantId)) ? 'grant' : undefined,
      this.#principal('user', t.userId, t.iat),
      this.#principal('client', t.clientId, t.iat),
      ...(t.roles ?? []).map((r) => this.#principal('role', r, t.iat)),
    ];
    return hits.find((h) => h !== undefined);
  }

  /** The latest cutoff (ms) among these principals, to keep issuance out of its second. */
  latestCutoff(principals: { userId?: string | undefined; clientId?: string | undefined; roles?: readonly string[] }): number | undefined {
    const cutoffs = [
      principals.userId && this.get('user', principals.userId)?.cutoff,
      principals.clientId && this.get('client', principals.clientId)?.cutoff,
      ...(principals.roles ?? []).map((r) => this.get('role', r)?.cutoff),
    ].filter((c): c is number => typeof c === 'number');
    return cutoffs.length ? Math.max(...cutoffs) : undefined;
  }

  prune(now: number): number {
    let removed = 0;
    for (const [k, e] of this.#entries) {
      if (e.expiresAt <= now) {
        this.#entries.delete(k);
        removed++;
      }
    }
    return removed;
  }

  #principal(kind: RevocationKind, key: string | undefined, iatSec: number): RevocationKind | undefined {
    if (key === undefined) return undefined;
    const entry = this.#entries.get(id(kind, key));
    return entry && iatSec <= Math.floor(entry.cutoff / 1000) ? kind : undefined;
  }
}

/** Milliseconds to wait so that a token signed now gets an iat after the cutoff's second. */
export function waitPastCutoff(cutoffMs: number | undefined, now: number): number {
  if (cutoffMs === undefined) return 0;
  const cutoffSecond = Math.floor(cutoffMs / 1000);
  return Math.floor(now / 1000) <= cutoffSecond ? (cutoffSecond + 1) * 1000 - now : 0;
}

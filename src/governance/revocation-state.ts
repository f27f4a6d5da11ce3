// What is revoked, in memory, for the hot paths (introspection, token issuance). Access tokens
// are JWTs that are never stored, so a revocation is a rule about claims:
// - token  (jti):            that token;
// - grant  (grant_id):       every token issued from the grant;
// - user / client / role:    every token of that principal issued at or before the cutoff,
//                            and every token minted from a source (authorization code,
//                            refresh-token chain) issued at or before it.
// Cutoffs compare with `iat` (whole seconds), inclusively: a token is revoked if
// min(iat, source iat) ≤ ⌊cutoff⌋. The source iat settles the refresh-vs-revoke race in favour of
// the revocation (RFC 9700 §4.14, §2.2.2): a refresh that passed its checks just before a
// revocation reached this instance signs its access token after the cutoff, but from a refresh
// token issued before it, so the token is covered whenever it was signed. Issuance never issues
// a code or signs a token inside the cutoff's second (see waitOutCutoff), so what is issued after
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
  /**
   * Seconds: when the authorization code or refresh-token chain the token was minted from was
   * issued (`source_iat` in access tokens, `iiat` of a refresh token). Absent: `iat`.
   */
  readonly sourceIat?: number | undefined;
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
    const issued = typeof t.sourceIat === 'number' ? Math.min(t.iat, t.sourceIat) : t.iat;
    const hits: (RevocationKind | undefined)[] = [
      t.jti !== undefined && this.#entries.has(id('token', t.jti)) ? 'token' : undefined,
      t.grantId !== undefined && this.#entries.has(id('grant', t.grantId)) ? 'grant' : undefined,
      this.#principal('user', t.userId, issued),
      this.#principal('client', t.clientId, issued),
      ...(t.roles ?? []).map((r) => this.#principal('role', r, issued)),
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

/**
 * Right after a revocation of one of these principals, holds issuance (of a code or a token)
 * until the next second, so what is issued now gets an iat after the cutoff's second and the
 * revocation does not catch it.
 */
export async function waitOutCutoff(state: RevocationState, principals: Parameters<RevocationState['latestCutoff']>[0], now: () => number): Promise<void> {
  const cutoff = state.latestCutoff(principals);
  // Re-checked after each sleep: a timer measures from the event loop's cached clock, which
  // lags wall time when the loop is busy, so it can fire before the wall-clock second turns.
  for (let ms = waitPastCutoff(cutoff, now()); ms > 0; ms = waitPastCutoff(cutoff, now())) {
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}

/** Milliseconds to wait so that a token signed now gets an iat after the cutoff's second. */
export function waitPastCutoff(cutoffMs: number | undefined, now: number): number {
  if (cutoffMs === undefined) return 0;
  const cutoffSecond = Math.floor(cutoffMs / 1000);
  return Math.floor(now / 1000) <= cutoffSecond ? (cutoffSecond + 1) * 1000 - now : 0;
}

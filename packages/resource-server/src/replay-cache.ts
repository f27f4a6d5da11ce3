// DPoP proof `jti`s seen within the acceptance window (RFC 9449 §11.1), in bounded memory.
// Entries leave when their window ends; when the cache is full the oldest leaves first. An
// evicted jti could be replayed until its own window ends, so size the cache above the number
// of proofs one process accepts in one window (RFC 9449 §11.1 accepts that a resource server
// keeps state only for a limited time).

export class ReplayCache {
  readonly #entries = new Map<string, number>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = Math.max(1, max);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Records `key` until `expiresAt` (ms); false when it is already recorded and not expired. */
  add(key: string, expiresAt: number, now: number): boolean {
    const seen = this.#entries.get(key);
    if (seen !== undefined) {
      if (seen > now) return false;
      this.#entries.delete(key);
    }
    // Insertion order is arrival order and windows have one length, so expired entries are at the front.
    for (const [k, exp] of this.#entries) {
      if (exp > now && this.#entries.size < this.#max) break;
      this.#entries.delete(k);
    }
    this.#entries.set(key, expiresAt);
    return true;
  }
}

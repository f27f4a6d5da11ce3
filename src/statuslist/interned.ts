// Values shared by many live tokens (a subject, a client, a resource, a set of scopes, a set of
// roles, an act chain), each kept once and named by a small integer, so the table of live tokens
// (live-tokens.ts) stores four bytes per value per token instead of a string or an array. Counted
// references: a value goes when the last token naming it does. Id 0 means "none".
export class Interned<T> {
  readonly #ids = new Map<string, number>();
  readonly #values: (T | undefined)[] = [undefined];
  readonly #keys: (string | undefined)[] = [undefined];
  readonly #refs: number[] = [0];
  readonly #free: number[] = [];

  /** The id of the value under `key` (made by `make` the first time), with one more reference. */
  acquire(key: string, make: () => T): number {
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = this.#free.pop() ?? this.#values.length;
      this.#ids.set(key, id);
      this.#values[id] = make();
      this.#keys[id] = key;
      this.#refs[id] = 0;
    }
    this.#refs[id] = (this.#refs[id] ?? 0) + 1;
    return id;
  }

  release(id: number): void {
    if (id === 0) return;
    const refs = (this.#refs[id] ?? 0) - 1;
    this.#refs[id] = refs;
    if (refs > 0) return;
    const key = this.#keys[id];
    if (key !== undefined) this.#ids.delete(key);
    this.#values[id] = undefined;
    this.#keys[id] = undefined;
    this.#free.push(id);
  }

  value(id: number): T | undefined {
    return this.#values[id];
  }

  /** The id under `key`, if a live token names it. */
  idOf(key: string): number | undefined {
    return this.#ids.get(key);
  }

  /** Ids of the live values `test` accepts. */
  idsWhere(test: (value: T) => boolean): Set<number> {
    const ids = new Set<number>();
    for (const id of this.#ids.values()) {
      const v = this.#values[id];
      if (v !== undefined && test(v)) ids.add(id);
    }
    return ids;
  }

  get size(): number {
    return this.#ids.size;
  }
}

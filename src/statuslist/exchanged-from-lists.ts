// The `exchanged_from` lists of the live exchanged tokens (act-claim.ts: the jti of every token a
// token was exchanged from, its subject token's first), each kept once and named by a small
// integer like the table's other values (interned.ts), with an index from each jti to the lists
// naming it. A revocation of one token (RFC 7009) ends every token exchanged from it, at any
// depth, at introspection (token-exchange.ts chainLiveness); the index finds the lists naming that
// jti at once, so the status list re-judges just the tokens holding them (status-bits.ts) instead
// of reading every live token's list.
// Memory: nearly every list is different (it names the token it was exchanged from, and a person's
// token is exchanged a few times at most), so a list costs what it must and nothing more: its
// jtis' strings, one index entry per jti (keyed by the list's own strings, so no second copy) and
// a slot. There is no key string per list (interned.ts keeps one): a list is found through the
// index entry of its first jti. A list of one jti, the usual case, is kept as that string.
// Entries follow the lists: made with a list's first token, gone with its last.

type Stored = string | readonly string[];

const jtisOf = (v: Stored): readonly string[] => (typeof v === 'string' ? [v] : v);

function sameList(v: Stored | undefined, jtis: readonly string[]): boolean {
  if (v === undefined) return false;
  if (typeof v === 'string') return jtis.length === 1 && jtis[0] === v;
  return v.length === jtis.length && v.every((jti, i) => jti === jtis[i]);
}

export class ExchangedFromLists {
  /** By id (0: none). */
  readonly #values: (Stored | undefined)[] = [undefined];
  readonly #refs: number[] = [0];
  readonly #free: number[] = [];
  /** jti → the ids of the lists naming it: one id (the usual case), or several. */
  readonly #byJti = new Map<string, number | number[]>();
  #size = 0;

  /** The id of this list (one to MAX_EXCHANGES jtis), with one more reference. */
  acquire(jtis: readonly string[]): number {
    let id = this.#find(jtis);
    if (id === undefined) {
      id = this.#free.pop() ?? this.#values.length;
      const value: Stored = jtis.length === 1 ? (jtis[0] ?? '') : Object.freeze([...jtis]);
      this.#values[id] = value;
      this.#refs[id] = 0;
      this.#size++;
      for (const jti of jtisOf(value)) this.#index(jti, id);
    }
    this.#refs[id] = (this.#refs[id] ?? 0) + 1;
    return id;
  }

  release(id: number): void {
    const value = this.#values[id];
    if (id === 0 || value === undefined) return;
    const refs = (this.#refs[id] ?? 0) - 1;
    this.#refs[id] = refs;
    if (refs > 0) return;
    for (const jti of jtisOf(value)) this.#unindex(jti, id);
    this.#values[id] = undefined;
    this.#free.push(id);
    this.#size--;
  }

  value(id: number): readonly string[] | undefined {
    const v = this.#values[id];
    return v === undefined ? undefined : jtisOf(v);
  }

  /** The ids of the live lists naming `jti` (none: undefined). */
  naming(jti: string): ReadonlySet<number> | undefined {
    const ids = this.#byJti.get(jti);
    if (ids === undefined) return undefined;
    return new Set(typeof ids === 'number' ? [ids] : ids);
  }

  /** Distinct lists held. */
  get size(): number {
    return this.#size;
  }

  /** Jtis indexed (each named by at least one live list). */
  get indexed(): number {
    return this.#byJti.size;
  }

  #find(jtis: readonly string[]): number | undefined {
    const first = jtis[0];
    const ids = first === undefined ? undefined : this.#byJti.get(first);
    if (ids === undefined) return undefined;
    if (typeof ids === 'number') return sameList(this.#values[ids], jtis) ? ids : undefined;
    return ids.find((id) => sameList(this.#values[id], jtis));
  }

  #index(jti: string, id: number): void {
    const ids = this.#byJti.get(jti);
    if (ids === undefined) this.#byJti.set(jti, id);
    else if (typeof ids === 'number') {
      if (ids !== id) this.#byJti.set(jti, [ids, id]);
    } else if (!ids.includes(id)) ids.push(id);
  }

  #unindex(jti: string, id: number): void {
    const ids = this.#byJti.get(jti);
    if (ids === id) this.#byJti.delete(jti);
    else if (Array.isArray(ids)) {
      const left = ids.filter((other) => other !== id);
      const [only] = left;
      this.#byJti.set(jti, left.length === 1 && only !== undefined ? only : left);
    }
  }
}

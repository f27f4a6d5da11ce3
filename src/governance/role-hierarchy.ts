// Role hierarchies, as pure rules over "role → roles it includes" (RoleInclusion rows). Holding
// a role means holding every role it reaches, so its scopes are its own ∪ those of every role
// it includes, transitively (NIST RBAC, ANSI INCITS 359-2004 §6.2: general role hierarchies,
// inheritance as a partial order). The graph must stay acyclic (a partial order): findCycle
// is asked before an edge is added. Graphs are small (a catalogue of roles), so a walk per
// question is cheap enough for the hot path (policy-model.ts heldScopes).

/** Role → the roles it includes directly. A role absent from the map includes none. */
export type Inclusions = ReadonlyMap<string, ReadonlySet<string>>;

const NONE: ReadonlySet<string> = new Set();

/**
 * `role` and every role it reaches through inclusions, in breadth-first order (`role` first).
 * Terminates on any graph, a cyclic one included (each role is visited once).
 */
export function reachableRoles(inclusions: Pick<Inclusions, 'get'>, role: string): string[] {
  const seen = new Set([role]);
  const order = [role];
  for (let i = 0; i < order.length; i++) {
    for (const next of inclusions.get(order[i] ?? '') ?? NONE) {
      if (seen.has(next)) continue;
      seen.add(next);
      order.push(next);
    }
  }
  return order;
}

/** Every role that reaches `role` (those whose holders gain it), `role` excluded, sorted. */
export function includersOf(inclusions: Inclusions, role: string): string[] {
  const out: string[] = [];
  for (const name of inclusions.keys()) if (name !== role && reachableRoles(inclusions, name).includes(role)) out.push(name);
  return out.sort();
}

/**
 * The cycle that adding `role` → `included` would close, as the path of role names from
 * `role` back to itself (e.g. [a, b, c, a]), or undefined when the edge keeps the graph acyclic.
 */
export function findCycle(inclusions: Inclusions, role: string, included: string): string[] | undefined {
  if (role === included) return [role, role];
  // A path included → … → role, found breadth-first so the reported cycle is a shortest one.
  const parent = new Map<string, string>([[included, included]]);
  const queue = [included];
  for (let i = 0; i < queue.length; i++) {
    const at = queue[i] ?? '';
    if (at === role) {
      const path = [role];
      for (let step = role; step !== included; ) {
        step = parent.get(step) ?? included;
        path.unshift(step);
      }
      return [role, ...path];
    }
    for (const next of inclusions.get(at) ?? NONE) {
      if (parent.has(next)) continue;
      parent.set(next, at);
      queue.push(next);
    }
  }
  return undefined;
}

/** The inclusions with one edge added (to ask "what if" before writing it). */
export function withInclusion(inclusions: Inclusions, role: string, included: string): Inclusions {
  const next = new Map(inclusions);
  next.set(role, new Set([...(inclusions.get(role) ?? NONE), included]));
  return next;
}

/** Builds the map from (role, included) rows. */
export function inclusionsFrom(rows: Iterable<{ roleName: string; includedName: string }>): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>();
  for (const r of rows) {
    const set = map.get(r.roleName) ?? new Set<string>();
    set.add(r.includedName);
    map.set(r.roleName, set);
  }
  return map;
}

/** One role under another in the tree `govauth role show` prints, depth first. */
export interface RoleTreeNode {
  name: string;
  /** The role that includes it (the root's name for depth 1). */
  parent: string;
  /** 1: included by the root directly. */
  depth: number;
  /** Its own scopes. */
  scopes: string[];
}

/**
 * The roles under `role`, depth first, siblings by name. A role reached along two paths is
 * listed under each; a role met again on the same path (only in a corrupt, cyclic graph) is not
 * expanded again.
 */
export function roleTree(inclusions: Inclusions, scopesOf: (role: string) => readonly string[], role: string): RoleTreeNode[] {
  const out: RoleTreeNode[] = [];
  const walk = (at: string, depth: number, path: ReadonlySet<string>): void => {
    for (const child of [...(inclusions.get(at) ?? NONE)].sort()) {
      if (path.has(child)) continue;
      out.push({ name: child, parent: at, depth, scopes: [...scopesOf(child)].sort() });
      walk(child, depth + 1, new Set([...path, child]));
    }
  };
  walk(role, 1, new Set([role]));
  return out;
}

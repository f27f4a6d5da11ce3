// Separation of duties as pure rules: sets of mutually exclusive roles, no two of which one
// principal may hold at once (NIST RBAC, ANSI INCITS 359-2004 §6.3.1 static separation of duty,
// applied to the roles a principal is authorized for: direct grants, time-boxed grants while in
// force, and every role reached through the hierarchy).
import { reachableRoles, type Inclusions } from './role-hierarchy.ts';

export interface ExclusiveSet {
  readonly name: string;
  readonly roles: ReadonlySet<string>;
  readonly reason: string | null;
}

/** Two roles of one set held together, and the granted role through which each is held. */
export interface SodConflict {
  readonly set: string;
  /** The set's members the principal holds, sorted (two or more). */
  readonly roles: readonly string[];
  /** Member → the granted roles that reach it (itself when granted directly). */
  readonly via: Readonly<Record<string, readonly string[]>>;
}

/** Every role `granted` reaches, each with the granted roles that reach it. */
function authorizedRoles(inclusions: Inclusions, granted: Iterable<string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const g of new Set(granted)) {
    for (const r of reachableRoles(inclusions, g)) {
      const via = out.get(r) ?? [];
      via.push(g);
      out.set(r, via);
    }
  }
  return out;
}

/** The sets whose roles `granted` (role names in force) reach two or more of. */
export function sodConflicts(inclusions: Inclusions, sets: Iterable<ExclusiveSet>, granted: Iterable<string>): SodConflict[] {
  const authorized = authorizedRoles(inclusions, granted);
  const out: SodConflict[] = [];
  for (const set of sets) {
    const held = [...set.roles].filter((r) => authorized.has(r)).sort();
    if (held.length < 2) continue;
    out.push({ set: set.name, roles: held, via: Object.fromEntries(held.map((r) => [r, [...(authorized.get(r) ?? [])].sort()])) });
  }
  return out.sort((a, b) => (a.set < b.set ? -1 : a.set > b.set ? 1 : 0));
}

const conflictKey = (c: SodConflict): string => `${c.set}\0${c.roles.join('\0')}`;

/** Conflicts in `after` that `before` did not have: what a change would newly cause. */
export function newConflicts(before: readonly SodConflict[], after: readonly SodConflict[]): SodConflict[] {
  const old = new Set(before.map(conflictKey));
  return after.filter((c) => !old.has(conflictKey(c)));
}

/** "model-approver and model-deployer (through ml-lead), which are mutually exclusive (set sod-deploy: reason)". */
export function describeConflict(c: SodConflict, reasons?: ReadonlyMap<string, string | null>): string {
  const held = c.roles.map((r) => {
    const via = (c.via[r] ?? []).filter((g) => g !== r);
    return via.length ? `${r} (through ${via.join(', ')})` : r;
  });
  const reason = reasons?.get(c.set);
  return `${held.join(' and ')}, which are mutually exclusive (set ${c.set}${reason ? `: ${reason}` : ''})`;
}

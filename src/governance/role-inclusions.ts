// Role hierarchies: a role may include other roles, and holding it holds theirs (their scopes,
// on their resources; policy-model.ts heldScopes). Adding an edge is refused when it would close
// a cycle (naming it) or make a role, or anyone holding it, reach two roles of an exclusive set
// (exclusive-roles.ts). Every change is audited and appended to the change feed as a change of
// the including role and of every role above it: those are the roles whose effective scopes
// changed, so every instance reloads its policy and the token-status sweep re-judges tokens
// naming them (src/statuslist/status-bits.ts), exactly as for `govauth role update`.
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import { findRole } from '../db/catalog-repository.ts';
import type { Database, Tx } from '../db/database.ts';
import { deleteInclusion, holdersOf, insertInclusion, roleScopeRows } from '../db/role-hierarchy-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { mustExist } from './catalog.ts';
import { listedNames, loadRoleConstraints, rolesInForce, type ExclusiveSetView, type RoleConstraints } from './exclusive-roles.ts';
import { findCycle, includersOf, reachableRoles, roleTree, withInclusion, type RoleTreeNode } from './role-hierarchy.ts';
import { describeConflict, newConflicts, sodConflicts } from './separation-of-duties.ts';
import { loadPolicySnapshot } from './policy-loader.ts';
import { heldScopes } from './policy-model.ts';
import { checkRoleName } from './validation.ts';

export interface RoleHierarchyView {
  name: string;
  description: string;
  /** Its own scopes. */
  scopes: string[];
  /** Its own scopes ∪ those of every role it includes, transitively. */
  effective_scopes: string[];
  /** The roles it includes, transitively, depth first, each with its own scopes. */
  includes: RoleTreeNode[];
  /** Roles that include it directly or indirectly (their holders hold it too). */
  included_by: string[];
  exclusive_sets: Pick<ExclusiveSetView, 'name' | 'roles' | 'reason'>[];
}

/** The roles whose effective scopes an edge under `role` changes: itself and everything above it. */
const affectedRoles = (c: RoleConstraints, role: string): string[] => [role, ...includersOf(c.inclusions, role)];

/** Refuses an edge that makes `role` itself, or anyone holding a role above it, reach two roles of one set. */
async function checkInclusionKeepsSod(tx: Tx, c: RoleConstraints, role: string, included: string, now: number): Promise<void> {
  if (!c.sets.length) return;
  const after: RoleConstraints = { ...c, inclusions: withInclusion(c.inclusions, role, included) };
  const own = newConflicts(sodConflicts(c.inclusions, c.sets, [role]), sodConflicts(after.inclusions, c.sets, [role]))[0];
  if (own) throw new AppError('conflict', `including ${included} in ${role} would make every holder of ${role} hold ${describeConflict(own, c.reasons)}`);
  const offenders: string[] = [];
  let example = '';
  for (const h of await holdersOf(tx, affectedRoles(c, role))) {
    const held = rolesInForce(h.grants, now);
    // The same roles, reaching more through the new edge: conflicts they did not have before.
    const added = newConflicts(sodConflicts(c.inclusions, c.sets, held), sodConflicts(after.inclusions, c.sets, held))[0];
    if (!added) continue;
    offenders.push(h.label);
    example ||= describeConflict(added, c.reasons);
  }
  if (offenders.length) throw new AppError('conflict', `including ${included} in ${role} would make ${listedNames(offenders)} hold ${example}`);
}

export async function includeRole(db: Database, input: { role: string; included: string }, by: Actor, now: number): Promise<RoleHierarchyView> {
  const role = checkRoleName(input.role);
  const included = checkRoleName(input.included);
  return writeWithChanges(db, async (tx) => {
    await mustExist(findRole(tx, role), `no role named ${role}`);
    await mustExist(findRole(tx, included), `no role named ${included}`);
    const c = await loadRoleConstraints(tx);
    if (c.inclusions.get(role)?.has(included)) throw new AppError('conflict', `role ${role} already includes ${included}`);
    const cycle = findCycle(c.inclusions, role, included);
    if (cycle) throw new AppError('conflict', `including ${included} in ${role} would make a cycle: ${cycle.join(' → ')} (role inclusions must not loop)`);
    await checkInclusionKeepsSod(tx, c, role, included, now);
    const before = [...(c.inclusions.get(role) ?? [])].sort();
    await insertInclusion(tx, role, included);
    const view = await hierarchyView(tx, role);
    return {
      result: view,
      changes: affectedRoles(c, role).map((key) => ({ kind: 'role', key })),
      audit: [adminEvent(by, 'admin.role.include', role, { includes: before }, { includes: [...before, included].sort() }, { included, effective_scopes: view.effective_scopes })],
    };
  });
}

export async function excludeRole(db: Database, input: { role: string; included: string }, by: Actor): Promise<RoleHierarchyView> {
  const role = checkRoleName(input.role);
  const included = checkRoleName(input.included);
  return writeWithChanges(db, async (tx) => {
    await mustExist(findRole(tx, role), `no role named ${role}`);
    const c = await loadRoleConstraints(tx);
    const before = [...(c.inclusions.get(role) ?? [])].sort();
    if (!(await deleteInclusion(tx, role, included))) throw new AppError('not_found', `role ${role} does not include ${included}`);
    const view = await hierarchyView(tx, role);
    return {
      result: view,
      changes: affectedRoles(c, role).map((key) => ({ kind: 'role', key })),
      audit: [adminEvent(by, 'admin.role.exclude', role, { includes: before }, { includes: before.filter((r) => r !== included) }, { excluded: included, effective_scopes: view.effective_scopes })],
    };
  });
}

async function hierarchyView(tx: Tx | Database, name: string): Promise<RoleHierarchyView> {
  const rows = await roleScopeRows(tx);
  const row = rows.find((r) => r.name === name);
  if (!row) throw new AppError('not_found', `no role named ${name}`);
  const c = await loadRoleConstraints(tx);
  const scopes = new Map(rows.map((r) => [r.name, r.scopes.map((s) => s.scopeName)]));
  const scopesOf = (r: string): readonly string[] => scopes.get(r) ?? [];
  const reached = reachableRoles(c.inclusions, name);
  return {
    name,
    description: row.description,
    scopes: [...scopesOf(name)].sort(),
    effective_scopes: [...new Set(reached.flatMap(scopesOf))].sort(),
    includes: roleTree(c.inclusions, scopesOf, name),
    included_by: includersOf(c.inclusions, name),
    exclusive_sets: c.sets.filter((s) => reached.some((r) => s.roles.has(r))).map((s) => ({ name: s.name, roles: [...s.roles].sort(), reason: s.reason })),
  };
}

/**
 * The scopes `roles` give now, through the one rule (policy-model.ts heldScopes, which follows
 * inclusions), each with the roles it comes through: what `govauth user show` prints.
 */
export async function effectiveScopesOf(db: Database, roles: readonly { role: string; expires_at: string | null }[], now: number): Promise<{ scope: string; via_roles: string[] }[]> {
  const snapshot = await loadPolicySnapshot(db);
  const held = heldScopes(snapshot, roles.map((r) => ({ role: r.role, expiresAt: r.expires_at === null ? null : Date.parse(r.expires_at) })), now);
  return [...held.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([scope, h]) => ({ scope, via_roles: [...h.roles].sort() }));
}

/** `govauth role show`: the role, the tree of roles it includes, and its effective scopes. */
export const showRole = (db: Database, name: string): Promise<RoleHierarchyView> => hierarchyView(db, checkRoleName(name));

// Sets of mutually exclusive roles (separation of duties): declaring, listing and removing them,
// and THE check every write that changes which roles a principal reaches calls (role grants,
// time-boxed or not, approved access requests, a person's or client's role list, a new role
// inclusion). The rule itself is pure (separation-of-duties.ts). Sets are read from the database
// inside the writing transaction (under the change-feed lock), so a concurrent grant cannot slip
// between check and write; no instance keeps them in memory, so nothing needs propagating.
// A set that existing holders already violate may be declared (refusing would leave the
// organisation unable to record the rule until every violation is cleaned up); the declaration
// returns the violations and `govauth review` reports them until they are resolved.
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import { conflictAs, requireRoles } from './catalog.ts';
import type { Database, Reader, Tx } from '../db/database.ts';
import { deleteExclusiveSet, exclusiveSetRows, holdersOf, inclusionRows, insertExclusiveSet, type ExclusiveSetRow, type HolderGrants } from '../db/role-hierarchy-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { inclusionsFrom, reachableRoles, type Inclusions } from './role-hierarchy.ts';
import { describeConflict, newConflicts, sodConflicts, type ExclusiveSet, type SodConflict } from './separation-of-duties.ts';
import { checkRoleName, checkText, uniqueList } from './validation.ts';

export interface ExclusiveSetView {
  name: string;
  roles: string[];
  reason: string | null;
  created_at: string;
}

/** A principal who holds (reaches) two or more roles of one set. */
export interface SodViolation {
  principal_type: 'user' | 'client';
  principal: string;
  set: string;
  roles: string[];
  via: Record<string, string[]>;
  message: string;
}

const MAX_LISTED = 10;

const toSet = (r: ExclusiveSetRow): ExclusiveSet => ({ name: r.name, roles: new Set(r.members.map((m) => m.roleName)), reason: r.reason });
const toView = (r: ExclusiveSetRow): ExclusiveSetView => ({ name: r.name, roles: r.members.map((m) => m.roleName).sort(), reason: r.reason, created_at: r.createdAt.toISOString() });

/** The hierarchy and the exclusive sets, as the rules take them. */
export interface RoleConstraints {
  readonly inclusions: Inclusions;
  readonly sets: readonly ExclusiveSet[];
  readonly reasons: ReadonlyMap<string, string | null>;
}

/** Every role `grants` in force reach at `now`, themselves and through inclusions (e.g. whether someone holds an approver role). */
export async function rolesReached(h: Reader, grants: readonly { roleName: string; expiresAt: Date | null }[], now: number): Promise<Set<string>> {
  const inclusions = inclusionsFrom(await inclusionRows(h));
  return new Set(rolesInForce(grants, now).flatMap((r) => reachableRoles(inclusions, r)));
}

export async function loadRoleConstraints(h: Reader): Promise<RoleConstraints> {
  const [edges, setRows] = await Promise.all([inclusionRows(h), exclusiveSetRows(h)]);
  const sets = setRows.map(toSet);
  return { inclusions: inclusionsFrom(edges), sets, reasons: new Map(sets.map((s) => [s.name, s.reason])) };
}

/** The names of `grants` in force at `now` (an expired grant the sweeper has not deleted yet is not). */
export const rolesInForce = (grants: readonly { roleName: string; expiresAt: Date | null }[], now: number): string[] =>
  grants.filter((g) => g.expiresAt === null || g.expiresAt.getTime() > now).map((g) => g.roleName);

/**
 * Refuses (409) a change of `label`'s roles from `before` to `after` (names in force) that would
 * make them hold two roles of one exclusive set. A violation they already had (a set declared
 * over existing holders) does not block unrelated changes; the review reports it.
 */
export async function assertSeparationOfDuties(tx: Tx, label: string, before: readonly string[], after: readonly string[], constraints?: RoleConstraints): Promise<void> {
  const c = constraints ?? (await loadRoleConstraints(tx));
  if (!c.sets.length) return;
  const added = newConflicts(sodConflicts(c.inclusions, c.sets, before), sodConflicts(c.inclusions, c.sets, after));
  const first = added[0];
  if (!first) return;
  const gained = after.filter((r) => !before.includes(r));
  throw new AppError('conflict', `${label} cannot hold ${gained.join(', ') || 'these roles'}: that would give them ${describeConflict(first, c.reasons)}`);
}

/** Every principal among `holders` who reaches two roles of a set under `c`. */
export function violationsOf(holders: readonly HolderGrants[], c: RoleConstraints, now: number): SodViolation[] {
  return holders.flatMap((h) =>
    sodConflicts(c.inclusions, c.sets, rolesInForce(h.grants, now)).map((x: SodConflict) => ({
      principal_type: h.holder,
      principal: h.label,
      set: x.set,
      roles: [...x.roles],
      via: Object.fromEntries(Object.entries(x.via).map(([k, v]) => [k, [...v]])),
      message: `${h.holder === 'user' ? 'person' : 'client'} ${h.label} holds ${describeConflict(x, c.reasons)}`,
    })),
  );
}

/** Every existing violation of every set (what `govauth review` and a new declaration report). */
export async function sodViolations(h: Reader, now: number, c?: RoleConstraints): Promise<SodViolation[]> {
  const constraints = c ?? (await loadRoleConstraints(h));
  const members = [...new Set(constraints.sets.flatMap((s) => [...s.roles]))];
  if (!members.length) return [];
  // Anyone holding any role at all may reach a member through the hierarchy.
  const all = [...constraints.inclusions.keys(), ...members];
  return violationsOf(await holdersOf(h, [...new Set(all)]), constraints, now);
}

/**
 * The violations among `holders`, people and clients with their grants as the caller already
 * has them (the access review: an instance's policy in memory), so only the sets and the
 * hierarchy are read. Holders of no role in any set simply have none.
 */
export async function sodViolationsAmong(h: Reader, holders: readonly HolderGrants[], now: number): Promise<SodViolation[]> {
  const constraints = await loadRoleConstraints(h);
  return constraints.sets.length ? violationsOf(holders, constraints, now) : [];
}

export const listedNames = (names: readonly string[]): string =>
  names.length > MAX_LISTED ? `${names.slice(0, MAX_LISTED).join(', ')} and ${names.length - MAX_LISTED} more` : names.join(', ');

export async function createExclusiveSet(
  db: Database,
  input: { roles: readonly string[]; name?: string; reason?: string },
  by: Actor,
  now: number,
): Promise<{ set: ExclusiveSetView; violations: SodViolation[] }> {
  const roles = uniqueList(input.roles, checkRoleName).sort();
  if (roles.length < 2) throw new AppError('invalid_request', 'a set of mutually exclusive roles needs at least two different roles');
  if (roles.length > 20) throw new AppError('invalid_request', 'a set of mutually exclusive roles has at most 20 roles');
  const name = checkRoleName(input.name ?? `sod-${roles.join('-')}`.slice(0, 64));
  const reason = input.reason === undefined ? null : checkText(input.reason, 'reason', 500);
  return conflictAs(`a set of mutually exclusive roles named ${name} already exists`, () =>
    writeWithChanges(db, async (tx) => {
      await requireRoles(tx, roles);
      const row = await insertExclusiveSet(tx, { name, reason, roles });
      const set = toView(row);
      const c = await loadRoleConstraints(tx);
      const violations = (await sodViolations(tx, now, c)).filter((v) => v.set === name);
      return {
        result: { set, violations },
        changes: [],
        audit: [adminEvent(by, 'admin.exclusive_roles.create', name, null, set, { existing_violations: violations.map((v) => ({ principal_type: v.principal_type, principal: v.principal, roles: v.roles })) })],
      };
    }),
  );
}

export async function listExclusiveSets(db: Database, now: number): Promise<{ sets: ExclusiveSetView[]; violations: SodViolation[] }> {
  const c = await loadRoleConstraints(db);
  const rows = await exclusiveSetRows(db);
  return { sets: rows.map(toView), violations: await sodViolations(db, now, c) };
}

export async function removeExclusiveSet(db: Database, name: string, by: Actor): Promise<ExclusiveSetView> {
  return writeWithChanges(db, async (tx) => {
    const row = await deleteExclusiveSet(tx, name);
    if (!row) throw new AppError('not_found', `no set of mutually exclusive roles named ${name}`);
    const before = toView(row);
    return { result: before, changes: [], audit: [adminEvent(by, 'admin.exclusive_roles.remove', name, before, null)] };
  });
}

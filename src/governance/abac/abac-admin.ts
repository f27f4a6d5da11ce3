// Administration of attribute-based access control, shared by the CLI and the admin API:
// attributes and labels, network zones, and Cedar policy set versions (apply, activate,
// rollback). Every write is audited and appended to the change feed in one transaction, so every
// instance reloads (abac-store.ts) and a command can wait until all have (src/cli/propagation.ts).
import { createHash } from 'node:crypto';
import { adminEvent, type Actor } from '../../audit/audit-chain.ts';
import {
  deleteAttributes,
  deleteZone,
  findPolicySet,
  insertActivation,
  insertPolicySet,
  listAttributeRows,
  listPolicySetRows,
  listZoneRows,
  recentActivations,
  resolveSubject,
  upsertAttribute,
  upsertZone,
} from '../../db/abac-repository.ts';
import { writeWithChanges } from '../../db/change-feed.ts';
import type { Database } from '../../db/database.ts';
import { AppError } from '../../errors/app-error.ts';
import { loadPolicySnapshot, parseStringArray } from '../policy-loader.ts';
import { ATTRIBUTE_LIMITS, checkAttributeKey, checkCidrs, checkZoneName, type AttributeSubject } from './abac-model.ts';
import { parseSources } from './abac-store.ts';
import { validatePolicySources, type PolicyProblem, type PolicySources } from './cedar-policy-set.ts';

const NOUN: Record<AttributeSubject, string> = { person: 'person', client: 'client', resource: 'resource', scope: 'scope' };

async function subjectKey(db: Database, kind: AttributeSubject, name: string): Promise<string> {
  const key = await resolveSubject(db, kind, name);
  if (key === null) throw new AppError('not_found', `no ${NOUN[kind]} ${JSON.stringify(name.slice(0, 200))}`);
  return key;
}

export async function listAttributes(db: Database, kind: AttributeSubject, name: string): Promise<Record<string, string>> {
  const key = await subjectKey(db, kind, name);
  return Object.fromEntries((await listAttributeRows(db, { subjectKind: kind, subjectKey: key })).map((r) => [r.key, r.value]));
}

/** Sets (adds or replaces) attributes of a person (by email), client, resource or scope; returns all of them after. */
export async function setAttributes(db: Database, kind: AttributeSubject, name: string, values: Readonly<Record<string, string>>, by: Actor, now: Date): Promise<Record<string, string>> {
  if (!Object.keys(values).length) throw new AppError('invalid_request', 'nothing to set: give key=value pairs');
  const key = await subjectKey(db, kind, name);
  return writeWithChanges(db, async (tx) => {
    const before = Object.fromEntries((await listAttributeRows(tx, { subjectKind: kind, subjectKey: key })).map((r) => [r.key, r.value]));
    const after = { ...before, ...values };
    if (Object.keys(after).length > ATTRIBUTE_LIMITS.perSubject) throw new AppError('invalid_request', `at most ${ATTRIBUTE_LIMITS.perSubject} attributes per ${NOUN[kind]}`);
    for (const [k, v] of Object.entries(values)) await upsertAttribute(tx, { subjectKind: kind, subjectKey: key, key: k, value: v }, now);
    return { result: after, changes: [{ kind: 'abac-attribute', key: `${kind}:${key}` }], audit: [adminEvent(by, `admin.${kind}.attributes.set`, name, before, after)] };
  });
}

export async function removeAttributes(db: Database, kind: AttributeSubject, name: string, keys: readonly string[] | 'all', by: Actor): Promise<Record<string, string>> {
  const checked = keys === 'all' ? 'all' : keys.map(checkAttributeKey);
  const key = await subjectKey(db, kind, name);
  return writeWithChanges(db, async (tx) => {
    const before = Object.fromEntries((await listAttributeRows(tx, { subjectKind: kind, subjectKey: key })).map((r) => [r.key, r.value]));
    await deleteAttributes(tx, kind, key, checked);
    const after = checked === 'all' ? {} : Object.fromEntries(Object.entries(before).filter(([k]) => !checked.includes(k)));
    return { result: after, changes: [{ kind: 'abac-attribute', key: `${kind}:${key}` }], audit: [adminEvent(by, `admin.${kind}.attributes.remove`, name, before, after)] };
  });
}

// --- network zones ---------------------------------------------------------------------------

export async function listZones(db: Database): Promise<{ name: string; cidrs: string[] }[]> {
  return (await listZoneRows(db)).map((z) => ({ name: z.name, cidrs: parseStringArray(z.cidrs, 'AbacNetworkZone.cidrs') }));
}

export async function setZone(db: Database, name: string, cidrs: readonly string[], by: Actor, now: Date): Promise<{ name: string; cidrs: string[] }> {
  const zone = { name: checkZoneName(name), cidrs: checkCidrs(cidrs) };
  return writeWithChanges(db, async (tx) => {
    const before = (await listZoneRows(tx)).find((z) => z.name === zone.name);
    await upsertZone(tx, zone.name, JSON.stringify(zone.cidrs), now);
    return { result: zone, changes: [{ kind: 'abac-zone', key: zone.name }], audit: [adminEvent(by, 'admin.policy.zone.set', zone.name, before ? { cidrs: JSON.parse(before.cidrs) as unknown } : null, { cidrs: zone.cidrs })] };
  });
}

export async function removeZone(db: Database, name: string, by: Actor): Promise<void> {
  const zone = checkZoneName(name);
  await writeWithChanges(db, async (tx) => {
    if (!(await deleteZone(tx, zone))) throw new AppError('not_found', `no zone ${zone}`);
    return { result: undefined, changes: [{ kind: 'abac-zone', key: zone }], audit: [adminEvent(by, 'admin.policy.zone.remove', zone, { name: zone }, null)] };
  });
}

// --- policy sets -----------------------------------------------------------------------------

export interface ValidationReport {
  readonly valid: boolean;
  readonly policies: { id: string; file: string; effect: string }[];
  readonly problems: PolicyProblem[];
  readonly warnings: string[];
}

/** Validates files against the schema of the catalogue as it is now (cedar-schema.ts). */
export async function validatePolicies(db: Database, sources: PolicySources): Promise<ValidationReport> {
  if (!Object.keys(sources).length) return { valid: false, policies: [], problems: [{ message: 'no .cedar files' }], warnings: [] };
  const r = validatePolicySources(await loadPolicySnapshot(db), sources);
  return { valid: r.problems.length === 0, policies: r.policies.map((p) => ({ id: p.id, file: p.file, effect: p.effect })), problems: r.problems, warnings: r.warnings };
}

const refuseInvalid = (report: ValidationReport): AppError =>
  new AppError('invalid_request', `the policy set is not valid: ${report.problems.map((p) => p.message).join('; ')}`, { detail: 'policy_invalid' });

export interface PolicyVersionView {
  version: number;
  sha256: string;
  created_at: string;
  created_by: string;
  active: boolean;
}

async function activeVersion(db: Database): Promise<number | null> {
  const [latest] = await recentActivations(db, 1);
  return latest?.version ?? null;
}

/** Stores the files as a new version (validated first) and, unless told not to, activates it. */
export async function applyPolicies(db: Database, sources: PolicySources, by: Actor, now: Date, options: { activate: boolean }): Promise<{ version: number; activated: boolean; report: ValidationReport }> {
  const report = await validatePolicies(db, sources);
  if (!report.valid) throw refuseInvalid(report);
  const canonical = JSON.stringify(Object.fromEntries(Object.keys(sources).sort().map((f) => [f, sources[f]])));
  const sha256 = createHash('sha256').update(canonical).digest('hex');
  return writeWithChanges(db, async (tx) => {
    const row = await insertPolicySet(tx, { sources: canonical, sha256, createdAt: now, createdBy: by.actor ?? by.actorType });
    const audit = [adminEvent(by, 'admin.policy.apply', `v${row.version}`, null, { version: row.version, sha256, policies: report.policies.map((p) => p.id) })];
    if (options.activate) {
      const [previous] = await recentActivations(tx, 1);
      await insertActivation(tx, { version: row.version, activatedAt: now, activatedBy: by.actor ?? by.actorType });
      audit.push(adminEvent(by, 'admin.policy.activate', `v${row.version}`, { version: previous?.version ?? null }, { version: row.version }));
    }
    return { result: { version: row.version, activated: options.activate, report }, changes: options.activate ? [{ kind: 'abac-policy', key: String(row.version) }] : [], audit };
  });
}

/** Activates a stored version (validated again: the catalogue may have changed since it was applied); null deactivates (roles only). */
export async function activatePolicyVersion(db: Database, version: number | null, by: Actor, now: Date, action = 'admin.policy.activate'): Promise<{ version: number | null; previous: number | null }> {
  if (version !== null) {
    const row = await findPolicySet(db, version);
    if (!row) throw new AppError('not_found', `no policy set version ${version}`);
    const report = await validatePolicies(db, parseSources(row.sources));
    if (!report.valid) throw refuseInvalid(report);
  }
  return writeWithChanges(db, async (tx) => {
    const [previous] = await recentActivations(tx, 1);
    await insertActivation(tx, { version, activatedAt: now, activatedBy: by.actor ?? by.actorType });
    const prev = previous?.version ?? null;
    return { result: { version, previous: prev }, changes: [{ kind: 'abac-policy', key: String(version) }], audit: [adminEvent(by, action, version === null ? 'none' : `v${version}`, { version: prev }, { version })] };
  });
}

/** Goes back to the version that was active before the current one (or to none). */
export async function rollbackPolicy(db: Database, by: Actor, now: Date): Promise<{ version: number | null; previous: number | null }> {
  const history = await recentActivations(db, 50);
  const current = history[0];
  if (!current) throw new AppError('invalid_request', 'no policy set was ever activated: nothing to roll back');
  const before = history.find((a) => a.id < current.id && a.version !== current.version);
  return activatePolicyVersion(db, before?.version ?? null, by, now, 'admin.policy.rollback');
}

export async function listPolicyVersions(db: Database): Promise<PolicyVersionView[]> {
  const active = await activeVersion(db);
  return (await listPolicySetRows(db)).map((r) => ({ version: r.version, sha256: r.sha256, created_at: r.createdAt.toISOString(), created_by: r.createdBy, active: r.version === active }));
}

/** A version's files as applied (default: the active one). */
export async function showPolicyVersion(db: Database, version: number | undefined): Promise<PolicyVersionView & { sources: PolicySources }> {
  const active = await activeVersion(db);
  const wanted = version ?? active;
  if (wanted === null) throw new AppError('not_found', 'no policy set is active (give a version: govauth policy list)');
  const row = await findPolicySet(db, wanted);
  if (!row) throw new AppError('not_found', `no policy set version ${wanted}`);
  return { version: row.version, sha256: row.sha256, created_at: row.createdAt.toISOString(), created_by: row.createdBy, active: row.version === active, sources: parseSources(row.sources) };
}

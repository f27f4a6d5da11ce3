// The administrator's side of self-registered clients: the trust policy (trusted hosts,
// unknown hosts, the unvetted ceiling) and each client's standing (approve, restrict, block).
// Shared by the CLI and the admin API; every write is audited and goes through the change feed,
// so every instance applies it (a block fails the client at once, everywhere).
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import { existingScopeNames, findResource } from '../db/catalog-repository.ts';
import type { Database, Tx } from '../db/database.ts';
import {
  findSelfRegisteredRow,
  findTrustPolicyRow,
  listSelfRegisteredRows,
  saveTrustPolicyRow,
  updateSelfRegisteredRow,
  type SelfRegisteredRow,
} from '../db/self-registration-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { mustExist } from './catalog.ts';
import { parseStringArray } from './policy-loader.ts';
import { checkHostPattern, isVetted, type TrustDecision } from './self-registration.ts';
import { toSelfRegistration, toTrustPolicy } from './self-registered-clients.ts';
import { checkAudience, checkScopeName, uniqueList } from './validation.ts';

export interface TrustPolicyView {
  trusted_hosts: string[];
  allow_unknown_hosts: boolean;
  /** null: every scope below high sensitivity. */
  scope_ceiling: string[] | null;
  /** null: any resource. */
  resource_ceiling: string[] | null;
}

export interface TrustPolicyChange {
  readonly addTrustedHosts?: readonly string[];
  readonly removeTrustedHosts?: readonly string[];
  readonly allowUnknownHosts?: boolean;
  /** null: back to the default (every scope below high sensitivity). */
  readonly scopeCeiling?: readonly string[] | null;
  /** null: any resource. */
  readonly resourceCeiling?: readonly string[] | null;
}

export interface SelfRegisteredView {
  client_id: string;
  kind: 'metadata_document' | 'dynamic';
  /** Metadata documents: the verified domain (the URL's host). */
  host: string | null;
  name: string;
  trust: TrustDecision;
  /** Whether the organisation vouches for it (approved, or a trusted host). */
  vetted: boolean;
  scope_ceiling: string[] | null;
  resource_ceiling: string[] | null;
  created_at: string;
  reviewed_at: string | null;
}

export const POLICY_CHANGE = { kind: 'trust-policy', key: 'policy' } as const;

function policyView(row: Awaited<ReturnType<typeof findTrustPolicyRow>>): TrustPolicyView {
  const p = toTrustPolicy(row);
  return { trusted_hosts: [...p.trustedHosts], allow_unknown_hosts: p.allowUnknownHosts, scope_ceiling: p.scopeCeiling && [...p.scopeCeiling].sort(), resource_ceiling: p.resourceCeiling && [...p.resourceCeiling].sort() };
}

export async function getTrustPolicy(db: Database): Promise<TrustPolicyView> {
  return policyView(await findTrustPolicyRow(db));
}

async function checkScopesExist(tx: Tx, scopes: readonly string[]): Promise<void> {
  const found = await existingScopeNames(tx, scopes);
  const missing = scopes.filter((s) => !found.includes(s));
  if (missing.length) throw new AppError('invalid_request', `unknown scope(s): ${missing.join(', ')}`);
}

async function checkResourcesExist(tx: Tx, audiences: readonly string[]): Promise<void> {
  for (const a of audiences) await mustExist(findResource(tx, a), `no resource ${a}`);
}

const checkScopes = (v: readonly string[] | null | undefined): string[] | null | undefined => (v === undefined || v === null ? v : uniqueList(v, checkScopeName));
const checkAudiences = (v: readonly string[] | null | undefined): string[] | null | undefined => (v === undefined || v === null ? v : uniqueList(v, checkAudience));

export async function updateTrustPolicy(db: Database, change: TrustPolicyChange, by: Actor): Promise<TrustPolicyView> {
  const add = uniqueList(change.addTrustedHosts ?? [], checkHostPattern);
  const remove = uniqueList(change.removeTrustedHosts ?? [], checkHostPattern);
  const scopes = checkScopes(change.scopeCeiling);
  const resources = checkAudiences(change.resourceCeiling);
  return writeWithChanges(db, async (tx) => {
    const row = await findTrustPolicyRow(tx);
    const before = policyView(row);
    if (scopes) await checkScopesExist(tx, scopes);
    if (resources) await checkResourcesExist(tx, resources);
    const hosts = [...new Set([...before.trusted_hosts.filter((h) => !remove.includes(h)), ...add])];
    const json = (v: string[] | null): string | null => (v === null ? null : JSON.stringify(v));
    await saveTrustPolicyRow(tx, {
      trustedHosts: JSON.stringify(hosts),
      allowUnknownHosts: change.allowUnknownHosts ?? before.allow_unknown_hosts,
      scopeCeiling: scopes === undefined ? json(before.scope_ceiling) : json(scopes),
      resourceCeiling: resources === undefined ? json(before.resource_ceiling) : json(resources),
    });
    const after = policyView(await findTrustPolicyRow(tx));
    return { result: after, changes: [POLICY_CHANGE], audit: [adminEvent(by, 'admin.self_registration.policy', 'self-registration-policy', before, after)] };
  });
}

function selfRegisteredView(row: SelfRegisteredRow, policyRow: Awaited<ReturnType<typeof findTrustPolicyRow>>): SelfRegisteredView {
  const reg = toSelfRegistration(row);
  const policy = toTrustPolicy(policyRow);
  const vetted = isVetted(policy, reg);
  return {
    client_id: row.clientId,
    kind: reg.kind,
    host: row.host,
    name: row.name,
    trust: reg.trust,
    vetted,
    scope_ceiling: row.scopeCeiling === null ? null : parseStringArray(row.scopeCeiling, 'SelfRegisteredClient.scopeCeiling'),
    resource_ceiling: row.resourceCeiling === null ? null : parseStringArray(row.resourceCeiling, 'SelfRegisteredClient.resourceCeiling'),
    created_at: row.createdAt.toISOString(),
    reviewed_at: row.reviewedAt?.toISOString() ?? null,
  };
}

export async function listSelfRegistered(db: Database): Promise<SelfRegisteredView[]> {
  const [rows, policy] = await Promise.all([listSelfRegisteredRows(db), findTrustPolicyRow(db)]);
  return rows.map((r) => selfRegisteredView(r, policy));
}

export async function getSelfRegistered(db: Database, clientId: string): Promise<SelfRegisteredView> {
  const [row, policy] = await Promise.all([findSelfRegisteredRow(db, clientId), findTrustPolicyRow(db)]);
  return selfRegisteredView(await mustExist(Promise.resolve(row), `no self-registered client ${clientId}`), policy);
}

/** approve: vetted (no unvetted ceiling); restrict: its own ceiling; block: invalid_client everywhere; unreview: back to the policy. */
export type TrustAction = 'approve' | 'restrict' | 'block' | 'unreview';
const DECISION: Record<TrustAction, TrustDecision> = { approve: 'approved', restrict: 'restricted', block: 'blocked', unreview: 'unreviewed' };

export async function decideSelfRegistered(
  db: Database,
  clientId: string,
  action: TrustAction,
  by: Actor,
  now: number,
  ceiling: { scopes?: readonly string[]; resources?: readonly string[] } = {},
): Promise<SelfRegisteredView> {
  const scopes = checkScopes(ceiling.scopes) ?? null;
  const resources = checkAudiences(ceiling.resources) ?? null;
  if (action !== 'restrict' && (scopes || resources)) throw new AppError('invalid_request', '--scope and --resource set the ceiling of a restricted client: use them with restrict');
  if (action === 'restrict' && !scopes && !resources) throw new AppError('invalid_request', 'restrict needs the ceiling: --scope <scope> (repeatable) and/or --resource <audience>');
  return writeWithChanges(db, async (tx) => {
    const policy = await findTrustPolicyRow(tx);
    const row = await mustExist(findSelfRegisteredRow(tx, clientId), `no self-registered client ${clientId}`);
    if (scopes) await checkScopesExist(tx, scopes);
    if (resources) await checkResourcesExist(tx, resources);
    const before = selfRegisteredView(row, policy);
    await updateSelfRegisteredRow(tx, clientId, {
      trust: DECISION[action],
      scopeCeiling: scopes && JSON.stringify(scopes),
      resourceCeiling: resources && JSON.stringify(resources),
      reviewedAt: new Date(now),
    });
    const after = selfRegisteredView(await mustExist(findSelfRegisteredRow(tx, clientId), `no self-registered client ${clientId}`), policy);
    return { result: after, changes: [{ kind: 'client', key: clientId }], audit: [adminEvent(by, `admin.client.${action}`, clientId, before, after)] };
  });
}

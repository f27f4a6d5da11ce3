// Delegation policies: an administrator's explicit "agents holding role A may act for people
// holding role P on resource R, with at most these scopes, in chains of at most N actors, for
// tokens of at most T" (RFC 8693 §1.1 delegation). Nothing is delegable without one. Shared by
// the CLI and the admin API; every write appends to the change feed (kind 'delegation', so every
// instance reloads its snapshot, src/governance/policy-store.ts) and is audited in the same
// transaction. The rules that apply them to an exchange are in delegation.ts.
import { randomBytes } from 'node:crypto';
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import { findResourceWithScopes, findRole } from '../db/catalog-repository.ts';
import type { Database, Tx } from '../db/database.ts';
import {
  deleteDelegationPolicy,
  delegationPoliciesFor,
  findDelegationPolicy,
  insertDelegationPolicy,
  listDelegationPolicyRows,
  type DelegationPolicyRow,
} from '../db/delegation-policy-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { mustExist } from './catalog.ts';
import { DEFAULT_MAX_DEPTH, isDelegable, MAX_CHAIN_DEPTH } from './delegation.ts';
import { parseStringArray } from './policy-loader.ts';
import { ADMIN_AUDIENCE } from './policy-model.ts';
import { checkAudience, checkRoleName, checkScopeName, checkText, checkTtl, uniqueList } from './validation.ts';

export interface DelegationPolicyInput {
  readonly agentRole: string;
  readonly subjectRole: string;
  readonly audience: string;
  /** Omitted or null: every scope of the resource, as it is at each exchange. */
  readonly scopes?: readonly string[] | null | undefined;
  readonly maxDepth?: number | undefined;
  /** Seconds; omitted or null: only the usual token lifetime rules. */
  readonly maxTtl?: number | null | undefined;
  readonly description?: string | undefined;
}

export interface DelegationPolicyView {
  id: string;
  agent_role: string;
  subject_role: string;
  audience: string;
  /** null: every scope of the resource. */
  scopes: string[] | null;
  max_depth: number;
  max_ttl: number | null;
  description: string;
  created_at: string;
}

const newPolicyId = (): string => `dp_${randomBytes(16).toString('base64url')}`;
const POLICY_ID = /^dp_[A-Za-z0-9_-]{1,64}$/;

const invalid = (message: string): AppError => new AppError('invalid_request', message);

function checkMaxDepth(value: number): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_CHAIN_DEPTH) {
    throw invalid(`max depth must be a whole number from 1 to ${MAX_CHAIN_DEPTH}: how many agents a chain may hold, the acting one included (default ${DEFAULT_MAX_DEPTH})`);
  }
  return value;
}

function view(p: DelegationPolicyRow): DelegationPolicyView {
  return {
    id: p.id,
    agent_role: p.agentRole,
    subject_role: p.subjectRole,
    audience: p.audience,
    scopes: p.scopes === null ? null : parseStringArray(p.scopes, 'DelegationPolicy.scopes'),
    max_depth: p.maxDepth,
    max_ttl: p.maxTtl,
    description: p.description,
    created_at: p.createdAt.toISOString(),
  };
}

/** The input checked on its own (names, bounds, text); what it names is checked in the write. */
function checkInput(input: DelegationPolicyInput) {
  const audience = checkAudience(input.audience);
  if (!isDelegable(audience)) throw invalid(`the admin API (${ADMIN_AUDIENCE}) cannot be delegated: give the agent admin access of its own (client update --admin-access) if it needs it`);
  const scopes = input.scopes === undefined || input.scopes === null ? null : uniqueList(input.scopes, checkScopeName).sort();
  if (scopes?.length === 0) throw invalid('scopes must name at least one scope; leave them out to allow every scope of the resource');
  return {
    agentRole: checkRoleName(input.agentRole),
    subjectRole: checkRoleName(input.subjectRole),
    audience,
    scopes,
    maxDepth: checkMaxDepth(input.maxDepth ?? DEFAULT_MAX_DEPTH),
    maxTtl: input.maxTtl === undefined || input.maxTtl === null ? null : checkTtl(input.maxTtl, 'max TTL'),
    description: input.description === undefined ? '' : checkText(input.description, 'description'),
  };
}

type CheckedPolicy = ReturnType<typeof checkInput>;

/** What the policy names exists: both roles, the resource, and each scope on that resource. Every problem at once. */
async function checkReferences(tx: Tx, p: CheckedPolicy): Promise<void> {
  const problems: string[] = [];
  for (const [role, what] of [[p.agentRole, 'agent role'], [p.subjectRole, 'person role']] as const) {
    if (!(await findRole(tx, role))) problems.push(`no ${what} named ${role} (create it first with: govauth role create)`);
  }
  const resource = await findResourceWithScopes(tx, p.audience);
  if (!resource) problems.push(`no resource ${p.audience} (register it first with: govauth resource create)`);
  const offered = new Set(resource?.scopes.map((s) => s.scopeName));
  const foreign = (p.scopes ?? []).filter((s) => !offered.has(s));
  if (resource && foreign.length) problems.push(`scope(s) ${foreign.join(', ')} not offered by ${p.audience} (it offers: ${[...offered].sort().join(', ') || 'none'})`);
  if (problems.length) throw invalid(problems.join('; '));
}

const sameScopes = (a: string | null, b: readonly string[] | null): boolean =>
  a === null || b === null ? a === b : JSON.stringify(parseStringArray(a, 'DelegationPolicy.scopes').sort()) === JSON.stringify(b);

/** A policy already allowing exactly the same (the description aside) makes a second one noise in every review. */
async function refuseDuplicate(tx: Tx, p: CheckedPolicy): Promise<void> {
  const existing = (await delegationPoliciesFor(tx, { agentRole: p.agentRole, subjectRole: p.subjectRole, audience: p.audience })).find((d) => d.maxDepth === p.maxDepth && d.maxTtl === p.maxTtl && sameScopes(d.scopes, p.scopes));
  if (existing) throw new AppError('conflict', `delegation policy ${existing.id} already allows exactly this (govauth delegation show ${existing.id})`);
}

export async function createDelegationPolicy(db: Database, input: DelegationPolicyInput, by: Actor): Promise<DelegationPolicyView> {
  const policy = checkInput(input);
  const id = newPolicyId();
  return writeWithChanges(db, async (tx) => {
    await checkReferences(tx, policy);
    // Under the change feed's write lock: two identical requests cannot both pass this check.
    await refuseDuplicate(tx, policy);
    const after = view(await insertDelegationPolicy(tx, { id, ...policy, scopes: policy.scopes === null ? null : JSON.stringify(policy.scopes) }));
    return { result: after, changes: [{ kind: 'delegation', key: id }], audit: [{ ...adminEvent(by, 'admin.delegation_policy.create', id, null, after), resource: after.audience }] };
  });
}

/** Every policy, or those for one resource and/or naming one role (as the agents' or the people's). */
export async function listDelegationPolicies(db: Database, filter: { audience?: string | undefined; role?: string | undefined } = {}): Promise<DelegationPolicyView[]> {
  const checked = {
    audience: filter.audience === undefined ? undefined : checkAudience(filter.audience),
    role: filter.role === undefined ? undefined : checkRoleName(filter.role),
  };
  return (await listDelegationPolicyRows(db, checked)).map(view);
}

const notFound = (id: string): string => `no delegation policy ${id} (govauth delegation list shows them)`;

/** A policy id as typed: one that cannot be a policy's is reported as not found, as an unknown one is. */
const policyId = (id: string): string => (POLICY_ID.test(id) ? id : '');

export async function getDelegationPolicy(db: Database, id: string): Promise<DelegationPolicyView> {
  return view(await mustExist(findDelegationPolicy(db, policyId(id)), notFound(printableId(id))));
}

/**
 * Removes a policy now. Tokens it allowed stop being accepted at their next introspection
 * (delegation.ts checks every hop of a chain on every use), and no exchange relies on it again.
 */
export async function removeDelegationPolicy(db: Database, id: string, by: Actor): Promise<DelegationPolicyView> {
  return writeWithChanges(db, async (tx) => {
    const before = view(await mustExist(findDelegationPolicy(tx, policyId(id)), notFound(printableId(id))));
    await deleteDelegationPolicy(tx, before.id);
    return { result: before, changes: [{ kind: 'delegation', key: before.id }], audit: [{ ...adminEvent(by, 'admin.delegation_policy.delete', before.id, before, null), resource: before.audience }] };
  });
}

/** An id quoted back in a message: shortened, and JSON-quoted when it is not a plausible id. */
const printableId = (id: string): string => (POLICY_ID.test(id) ? id : JSON.stringify(id.slice(0, 80)));

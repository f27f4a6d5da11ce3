// Per-role access policies: whether a role may be requested, whether a request needs approval,
// by how many distinct people (1 or 2) holding which role, for how long at most, and how long a
// request may wait. Set by an administrator (CLI, admin API); each change is audited. The rules
// that use them are access-request-rules.ts.
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { deleteAccessPolicy, findAccessPolicy, listAccessPolicies, upsertAccessPolicy, type AccessPolicyRow } from '../db/access-request-repository.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import { findRole } from '../db/catalog-repository.ts';
import type { Database, Reader, Tx } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { policyFault, type AccessPolicyTerms } from './access-request-rules.ts';
import { mustExist } from './catalog.ts';
import { checkRoleName } from './validation.ts';

/** The terms of an access policy, for a role or for one scope on one resource, as views show them. */
export interface PolicyTermsView {
  require_approval: boolean;
  approvals: number;
  approver_role: string;
  /** Seconds. */
  max_duration: number;
  /** Seconds a request may stay pending before it lapses. */
  lapse_after: number;
  updated_at: string;
}

export interface AccessPolicyView extends PolicyTermsView {
  role: string;
}

export const DEFAULT_LAPSE_SECONDS = 86_400;

type StoredTerms = Pick<AccessPolicyRow, 'requireApproval' | 'approvals' | 'approverRole' | 'maxDuration' | 'lapseAfter'>;

/** A stored policy's terms as views show them (role and scope policies alike). */
export const termsViewOf = (p: StoredTerms & { updatedAt: Date }): PolicyTermsView => ({
  require_approval: p.requireApproval,
  approvals: p.approvals,
  approver_role: p.approverRole,
  max_duration: p.maxDuration,
  lapse_after: p.lapseAfter,
  updated_at: p.updatedAt.toISOString(),
});

/** A stored policy's terms as the request rules read them (access-request-rules.ts), for `target`. */
export const storedTerms = (target: AccessPolicyTerms['target'], p: StoredTerms): AccessPolicyTerms => ({
  target,
  requireApproval: p.requireApproval,
  approvals: p.approvals,
  approverRole: p.approverRole,
  maxDuration: p.maxDuration,
  lapseAfter: p.lapseAfter,
});

const view = (p: AccessPolicyRow): AccessPolicyView => ({ role: p.roleName, ...termsViewOf(p) });

export const termsOf = (p: AccessPolicyRow): AccessPolicyTerms => storedTerms({ role: p.roleName }, p);

export interface AccessPolicyInput {
  readonly role: string;
  readonly requireApproval?: boolean;
  readonly approvals?: number;
  readonly approverRole?: string;
  /** Seconds. */
  readonly maxDuration?: number;
  readonly lapseAfter?: number;
}

type PolicyTermsInput = Omit<AccessPolicyInput, 'role'>;

/**
 * A policy's terms after a change, for a role's policy and a scope's alike: the fields left out
 * keep their stored value (or the default on creation); the approver role must exist, and the
 * result must pass the rules' own check (access-request-rules.ts policyFault).
 */
export async function mergedTerms(tx: Tx, target: AccessPolicyTerms['target'], input: PolicyTermsInput, previous: StoredTerms | null | undefined): Promise<AccessPolicyTerms> {
  const approverRole = input.approverRole ?? previous?.approverRole;
  if (approverRole === undefined) throw new AppError('invalid_request', 'name the role whose holders approve requests (--approver-role, approver_role) when setting a policy first');
  await mustExist(findRole(tx, checkRoleName(approverRole)), `no role named ${approverRole} (the approver role)`);
  const maxDuration = input.maxDuration ?? previous?.maxDuration;
  if (maxDuration === undefined) throw new AppError('invalid_request', 'name the longest duration a request may ask for (--max, max_duration) when setting a policy first');
  const terms: AccessPolicyTerms = {
    target,
    requireApproval: input.requireApproval ?? previous?.requireApproval ?? true,
    approvals: input.approvals ?? previous?.approvals ?? 1,
    approverRole,
    maxDuration,
    lapseAfter: input.lapseAfter ?? previous?.lapseAfter ?? DEFAULT_LAPSE_SECONDS,
  };
  const fault = policyFault(terms);
  if (fault) throw new AppError('invalid_request', fault);
  return terms;
}

/** Creates or changes a role's policy; fields left out keep their value (or the default on creation). */
export async function setAccessPolicy(db: Database, input: AccessPolicyInput, by: Actor): Promise<AccessPolicyView> {
  const role = checkRoleName(input.role);
  return writeWithChanges(db, async (tx) => {
    await mustExist(findRole(tx, role), `no role named ${role}`);
    const previous = await findAccessPolicy(tx, role);
    const terms = await mergedTerms(tx, { role }, input, previous);
    const row = await upsertAccessPolicy(tx, { roleName: role, requireApproval: terms.requireApproval, approvals: terms.approvals, approverRole: terms.approverRole, maxDuration: terms.maxDuration, lapseAfter: terms.lapseAfter });
    const before = previous && view(previous);
    const after = view(row);
    return { result: after, changes: [], audit: [adminEvent(by, 'admin.access_policy.set', role, before, after)] };
  });
}

/** Removes a role's policy: new requests for it are refused, and pending ones can no longer be approved. */
export async function removeAccessPolicy(db: Database, role: string, by: Actor): Promise<AccessPolicyView> {
  return writeWithChanges(db, async (tx) => {
    const previous = await mustExist(findAccessPolicy(tx, role), `role ${role} has no access policy`);
    await deleteAccessPolicy(tx, role);
    const before = view(previous);
    return { result: before, changes: [], audit: [adminEvent(by, 'admin.access_policy.remove', role, before, null)] };
  });
}

export async function listPolicies(db: Reader): Promise<AccessPolicyView[]> {
  return (await listAccessPolicies(db)).map(view);
}

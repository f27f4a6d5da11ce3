// Per resource and scope access policies: how one scope on one resource may be requested (a
// time-boxed scope grant, scope-grants.ts). The same terms as a role's policy
// (access-policies.ts): whether approval is needed, by how many distinct people (1 or 2) holding
// which role, the longest duration, how long a request may wait. Keyed by (resource, scope)
// because a scope shared by two resources is two different powers. A scope with no policy
// cannot be requested. The policy is explicit: no default from the scope's sensitivity, so what
// approves access to a high-sensitivity scope is always an administrator's written choice
// (README, "Access requests").
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import {
  deleteScopeAccessPolicy,
  findScopeAccessPolicy,
  listScopeAccessPolicies,
  upsertScopeAccessPolicy,
  type ScopeAccessPolicyRow,
} from '../db/access-request-repository.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import type { Database, Reader } from '../db/database.ts';
import { mergedTerms, storedTerms, termsViewOf, type AccessPolicyInput, type PolicyTermsView } from './access-policies.ts';
import type { AccessPolicyTerms } from './access-request-rules.ts';
import { mustExist } from './catalog.ts';
import { checkScopeOnResource } from './scope-grants.ts';

export interface ScopeAccessPolicyView extends PolicyTermsView {
  resource: string;
  scope: string;
}

const view = (p: ScopeAccessPolicyRow): ScopeAccessPolicyView => ({ resource: p.audience, scope: p.scopeName, ...termsViewOf(p) });

export const scopeTermsOf = (p: ScopeAccessPolicyRow): AccessPolicyTerms => storedTerms({ scope: p.scopeName, resource: p.audience }, p);

export type ScopeAccessPolicyInput = Omit<AccessPolicyInput, 'role'> & { readonly resource: string; readonly scope: string };

const label = (resource: string, scope: string): string => `${resource} ${scope}`;

/** Creates or changes the policy of one scope on one resource; fields left out keep their value (or the default on creation). */
export async function setScopeAccessPolicy(db: Database, input: ScopeAccessPolicyInput, by: Actor): Promise<ScopeAccessPolicyView> {
  const { resource, scope } = input;
  return writeWithChanges(db, async (tx) => {
    await checkScopeOnResource(tx, resource, scope);
    const previous = await findScopeAccessPolicy(tx, resource, scope);
    const terms = await mergedTerms(tx, { scope, resource }, input, previous);
    const row = await upsertScopeAccessPolicy(tx, { audience: resource, scopeName: scope, requireApproval: terms.requireApproval, approvals: terms.approvals, approverRole: terms.approverRole, maxDuration: terms.maxDuration, lapseAfter: terms.lapseAfter });
    const after = view(row);
    return { result: after, changes: [], audit: [{ ...adminEvent(by, 'admin.scope_access_policy.set', label(resource, scope), previous ? view(previous) : undefined, after), resource }] };
  });
}

/** Removes it: new requests for the scope on the resource are refused, pending ones can no longer be approved. */
export async function removeScopeAccessPolicy(db: Database, resource: string, scope: string, by: Actor): Promise<ScopeAccessPolicyView> {
  return writeWithChanges(db, async (tx) => {
    const previous = await mustExist(findScopeAccessPolicy(tx, resource, scope), `scope ${scope} on ${resource} has no access policy`);
    await deleteScopeAccessPolicy(tx, resource, scope);
    const before = view(previous);
    return { result: before, changes: [], audit: [{ ...adminEvent(by, 'admin.scope_access_policy.remove', label(resource, scope), before, null), resource }] };
  });
}

export async function listScopePolicies(db: Reader): Promise<ScopeAccessPolicyView[]> {
  return (await listScopeAccessPolicies(db)).map(view);
}

// Delegation policies' rows ("agents holding role A may act for people holding role P on a
// resource"). The rules (validation, audit records, change refs) are in
// src/governance/delegation-policies.ts; the scopes column is JSON text, parsed there.
import type { DelegationPolicyRow } from './policy-repository.ts';
import { prismaOf, type Reader, type Tx } from './database.ts';

export type { DelegationPolicyRow };

type NewDelegationPolicy = Omit<DelegationPolicyRow, 'createdAt'>;

export async function insertDelegationPolicy(tx: Tx, p: NewDelegationPolicy): Promise<DelegationPolicyRow> {
  return tx.delegationPolicy.create({ data: p });
}

export const findDelegationPolicy = (h: Reader, id: string): Promise<DelegationPolicyRow | null> => prismaOf(h).delegationPolicy.findUnique({ where: { id } });

/** Policies for the same agent role, person role and resource (the candidates for a duplicate). */
export const delegationPoliciesFor = (tx: Tx, key: { agentRole: string; subjectRole: string; audience: string }): Promise<DelegationPolicyRow[]> =>
  tx.delegationPolicy.findMany({ where: key });

/** Every policy, or those for one resource and/or naming one role (as agent or person role), oldest first. */
export function listDelegationPolicyRows(h: Reader, filter: { audience?: string | undefined; role?: string | undefined }): Promise<DelegationPolicyRow[]> {
  return prismaOf(h).delegationPolicy.findMany({
    where: {
      ...(filter.audience !== undefined && { audience: filter.audience }),
      ...(filter.role !== undefined && { OR: [{ agentRole: filter.role }, { subjectRole: filter.role }] }),
    },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
}

export async function deleteDelegationPolicy(tx: Tx, id: string): Promise<void> {
  await tx.delegationPolicy.delete({ where: { id } });
}

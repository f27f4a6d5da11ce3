// People's standing delegations to agent clients (StandingDelegation). The rules (who may
// delegate what, for how long, audit records) are in src/governance/standing-delegations.ts;
// `scopes` is the JSON-in-text column, parsed there.
import { prismaOf, type Reader, type Tx } from './database.ts';
import type { StandingDelegationRow } from './policy-repository.ts';

/** A row with the names a person or an administrator reads it by. */
export interface StandingDelegationListing extends StandingDelegationRow {
  readonly user: { readonly email: string };
  readonly client: { readonly name: string };
  readonly resource: { readonly name: string };
}

const names = { user: { select: { email: true } }, client: { select: { name: true } }, resource: { select: { name: true } } } as const;
const order = [{ createdAt: 'asc' as const }, { id: 'asc' as const }];

export const findStandingDelegation = (h: Reader, id: string): Promise<StandingDelegationListing | null> =>
  prismaOf(h).standingDelegation.findUnique({ where: { id }, include: names });

/** The one delegation of `userId` to `clientId` for `audience`, if any (the table's unique key). */
export const findStandingDelegationFor = (tx: Tx, key: { userId: string; clientId: string; audience: string }): Promise<StandingDelegationListing | null> =>
  tx.standingDelegation.findUnique({ where: { userId_clientId_audience: key }, include: names });

export const standingDelegationsOfUser = (h: Reader, userId: string): Promise<StandingDelegationListing[]> =>
  prismaOf(h).standingDelegation.findMany({ where: { userId }, include: names, orderBy: order });

export const standingDelegationsOfClient = (h: Reader, clientId: string): Promise<StandingDelegationListing[]> =>
  prismaOf(h).standingDelegation.findMany({ where: { clientId }, include: names, orderBy: order });

/**
 * Creates the delegation, or replaces the terms of the one for the same (person, agent,
 * resource): it keeps its id, so tokens issued under it are judged by the new terms.
 */
export async function upsertStandingDelegation(
  tx: Tx,
  d: { id: string; userId: string; clientId: string; audience: string; scopes: string; maxDepth: number; expiresAt: Date | null; createdAt: Date },
): Promise<StandingDelegationListing> {
  const { id, userId, clientId, audience, ...terms } = d;
  return tx.standingDelegation.upsert({
    where: { userId_clientId_audience: { userId, clientId, audience } },
    create: { id, userId, clientId, audience, ...terms },
    update: terms,
    include: names,
  });
}

export async function deleteStandingDelegation(tx: Tx, id: string): Promise<void> {
  await tx.standingDelegation.delete({ where: { id } });
}

/** The ids of up to `limit` delegations that ended before `before`, oldest end first. */
export async function standingDelegationsEndedBefore(h: Reader, before: Date, limit: number): Promise<string[]> {
  const rows = await prismaOf(h).standingDelegation.findMany({ where: { expiresAt: { lt: before } }, select: { id: true }, orderBy: [{ expiresAt: 'asc' }, { id: 'asc' }], take: limit });
  return rows.map((r) => r.id);
}

/** Deletes those of `ids` still ended before `before` (one renewed meanwhile stays); how many went. */
export async function deleteStandingDelegationsEndedBefore(tx: Tx, ids: readonly string[], before: Date): Promise<number> {
  return (await tx.standingDelegation.deleteMany({ where: { id: { in: [...ids] }, expiresAt: { lt: before } } })).count;
}

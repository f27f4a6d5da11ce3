// A person's standing delegations to agents: given on the delegation consent page (by the person,
// for themselves), withdrawn there or by an administrator (CLI, admin API). Every write appends a
// `delegation` change, so every instance reloads its snapshot and token exchange and
// introspection see it at once (delegation.ts hopRefusal), and an audit record in the same
// transaction. The rules of what may be delegated are standing-delegation-rules.ts.
import { randomBytes } from 'node:crypto';
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import type { AuditInput } from '../db/audit-record.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import { findClientGrantTypes } from '../db/client-repository.ts';
import type { Database } from '../db/database.ts';
import { findUserId } from '../db/people-repository.ts';
import {
  deleteStandingDelegation,
  deleteStandingDelegationsEndedBefore,
  findStandingDelegation,
  findStandingDelegationFor,
  standingDelegationsEndedBefore,
  standingDelegationsOfClient,
  standingDelegationsOfUser,
  upsertStandingDelegation,
  type StandingDelegationListing,
} from '../db/standing-delegation-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { mustExist } from './catalog.ts';
import { DEFAULT_MAX_DEPTH } from './delegation.ts';
import { normalizeEmail } from './email-address.ts';
import { parseStringArray } from './policy-loader.ts';
import type { PolicySnapshot, UserDef } from './policy-model.ts';
import { decideStandingDelegation, expiryRefusal } from './standing-delegation-rules.ts';

export interface StandingDelegationView {
  id: string;
  user_id: string;
  user_email: string;
  client_id: string;
  agent_name: string;
  audience: string;
  resource_name: string;
  scopes: string[];
  max_depth: number;
  /** null: until withdrawn. */
  expires_at: string | null;
  granted_at: string;
}

const newDelegationId = (): string => `sd_${randomBytes(16).toString('base64url')}`;

const view = (d: StandingDelegationListing): StandingDelegationView => ({
  id: d.id,
  user_id: d.userId,
  user_email: d.user.email,
  client_id: d.clientId,
  agent_name: d.client.name,
  audience: d.audience,
  resource_name: d.resource.name,
  scopes: parseStringArray(d.scopes, 'StandingDelegation.scopes'),
  max_depth: d.maxDepth,
  expires_at: d.expiresAt?.toISOString() ?? null,
  granted_at: d.createdAt.toISOString(),
});

export interface GrantStandingDelegation {
  /** The policy in force and the person giving the delegation, as the consent page saw them. */
  readonly snapshot: PolicySnapshot;
  readonly user: UserDef;
  readonly clientId: string;
  readonly audience: string;
  readonly scopes: readonly string[];
  /** Epoch ms; null: until withdrawn. */
  readonly expiresAt: number | null;
  readonly mfaFresh: boolean;
}

/**
 * The person `input.user` lets the agent act for them on the resource with exactly these scopes
 * (every one must be delegable now: the page shows what will be stored, and nothing else is).
 * Replaces the terms of a delegation they gave the same agent for the same resource.
 */
export async function grantStandingDelegation(db: Database, input: GrantStandingDelegation, by: Actor, now: number): Promise<StandingDelegationView> {
  const expired = expiryRefusal(input.expiresAt, now);
  if (expired) throw new AppError('invalid_request', expired);
  if (!input.scopes.length) throw new AppError('invalid_request', 'Name at least one permission to delegate.');
  const decision = decideStandingDelegation(input.snapshot, input.user, { clientId: input.clientId, audience: input.audience, scopes: input.scopes, mfaFresh: input.mfaFresh, now });
  if (!decision.ok) throw new AppError('invalid_request', decision.message);
  if (decision.withheld.length) {
    // The page says why, scope by scope, before it offers to allow (src/account).
    throw new AppError('invalid_request', `These permissions cannot be delegated now: ${decision.withheld.map((w) => w.scope).join(', ')}.`);
  }
  const key = { userId: input.user.id, clientId: decision.agent.id, audience: decision.resource.audience };
  return writeWithChanges(db, async (tx) => {
    // Read under the write lock: the record says exactly which terms this one replaced.
    const previous = await findStandingDelegationFor(tx, key);
    const before = previous && view(previous);
    const row = await upsertStandingDelegation(tx, {
      id: newDelegationId(),
      ...key,
      scopes: JSON.stringify(decision.grantable),
      maxDepth: DEFAULT_MAX_DEPTH,
      expiresAt: input.expiresAt === null ? null : new Date(input.expiresAt),
      createdAt: new Date(now),
    });
    const after = view(row);
    const record: AuditInput = { ...adminEvent(by, 'delegation.granted', row.id, before, after, { replaced: before !== null }), clientId: row.clientId, resource: row.audience };
    return { result: after, changes: [{ kind: 'delegation', key: row.id }], audit: [record] };
  });
}

/** Who withdraws: the person who gave the delegation (only their own), or an administrator (any). */
export type Withdrawer = { readonly as: 'owner'; readonly userId: string } | { readonly as: 'administrator' };

/** Ends a standing delegation now: tokens issued under it become inactive (delegation.ts hopRefusal). */
export async function withdrawStandingDelegation(db: Database, id: string, who: Withdrawer, by: Actor): Promise<StandingDelegationView> {
  return writeWithChanges(db, async (tx) => {
    const row = await findStandingDelegation(tx, id);
    // Someone else's delegation answers as a missing one: its id tells the person nothing.
    if (!row || (who.as === 'owner' && row.userId !== who.userId)) {
      throw new AppError('not_found', who.as === 'owner' ? 'You have no standing delegation with this id (it may have been withdrawn already).' : `no standing delegation ${JSON.stringify(id)}`);
    }
    await deleteStandingDelegation(tx, id);
    const before = view(row);
    const record: AuditInput = { ...adminEvent(by, 'delegation.withdrawn', id, before, null, { withdrawn_by: who.as }), clientId: row.clientId, resource: row.audience };
    return { result: before, changes: [{ kind: 'delegation', key: id }], audit: [record] };
  });
}

/** How long an ended standing delegation stays listed (the person's page shows it as ended). */
export const ENDED_DELEGATION_KEEP_MS = 30 * 86_400_000;
const PRUNE_BATCH = 500;

/**
 * Deletes standing delegations that ended more than `keepMs` ago, at most `limit` per call (the
 * next maintenance run takes the rest). Policy already ignores them from the instant they end,
 * and the audit trail keeps their grant with its expiry (delegation.granted), so nothing is lost
 * but the row. Several instances may run it at once: the change-feed lock serializes them and
 * the delete re-checks the expiry, so a delegation renewed meanwhile stays.
 */
export async function pruneEndedStandingDelegations(db: Database, now: number, keepMs = ENDED_DELEGATION_KEEP_MS, limit = PRUNE_BATCH): Promise<number> {
  const before = new Date(now - keepMs);
  const ids = await standingDelegationsEndedBefore(db, before, limit);
  if (!ids.length) return 0;
  return writeWithChanges(db, async (tx) => ({
    result: await deleteStandingDelegationsEndedBefore(tx, ids, before),
    // Every instance drops them from its snapshot.
    changes: ids.map((key) => ({ kind: 'delegation', key })),
  }));
}

/** A person's standing delegations, oldest first (their own page reads them by id). */
export async function standingDelegationsOf(db: Database, userId: string): Promise<StandingDelegationView[]> {
  return (await standingDelegationsOfUser(db, userId)).map(view);
}

/** For administrators: the delegations a person (by email) gave, or an agent (by client_id) holds. */
export async function listStandingDelegations(db: Database, by: { user: string } | { agent: string }): Promise<{ id: string; delegations: StandingDelegationView[] }> {
  if ('user' in by) {
    const email = normalizeEmail(by.user);
    const user = await mustExist(findUserId(db, email), `no user ${email}`);
    return { id: user.id, delegations: (await standingDelegationsOfUser(db, user.id)).map(view) };
  }
  const client = await mustExist(findClientGrantTypes(db, by.agent), `no client ${by.agent}`);
  return { id: client.id, delegations: (await standingDelegationsOfClient(db, client.id)).map(view) };
}

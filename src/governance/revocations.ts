// Revoking: single tokens (RFC 7009), grants, and whole principals (user, client, role).
// Each write appends a `revocation` change, so every instance updates its in-memory state
// within the change-feed bound; the writer also applies it locally before answering.
// Principal revocations also end the stored state that could mint new tokens without the
// person: sessions, grants, codes and refresh tokens of that user or client.
import type { Actor, ActorType, AuditInput } from '../audit/audit-chain.ts';
import { writeWithChanges, type ChangeRef } from '../db/change-feed.ts';
import { findRole } from '../db/catalog-repository.ts';
import { findClient } from '../db/client-repository.ts';
import type { Database, Tx } from '../db/database.ts';
import { findUser, userEmails } from '../db/people-repository.ts';
import {
  deleteRevocationsEndedBy,
  endStoredState,
  findRevocation,
  findRevocationIn,
  grantKnown,
  revocationsInForce,
  upsertRevocation,
  type RevocationRow,
  type StoredStateOwner,
} from '../db/revocation-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { mustExist } from './catalog.ts';
import type { RevocationEntry, RevocationKind } from './revocation-state.ts';
import { normalizeEmail } from './user-registry.ts';
import { MAX_TTL_SECONDS } from '../config/token-limits.ts';
import { checkText } from './validation.ts';

const actorTypeOf = (actor: string): ActorType => (actor === 'system' ? 'system' : actor === 'cli' ? 'cli' : actor.startsWith('usr_') ? 'user' : 'client');

const revocationChangeKey = (kind: RevocationKind, key: string): string => `${kind}:${key}`;

export interface RevocationView {
  kind: RevocationKind;
  key: string;
  label: string;
  cutoff: string;
  expires_at: string;
  reason: string | null;
  actor: string | null;
}

function toEntry(r: RevocationRow): RevocationEntry {
  return { id: r.id, kind: r.kind as RevocationKind, key: r.key, cutoff: r.cutoff.getTime(), expiresAt: r.expiresAt.getTime(), reason: r.reason, actor: r.actor };
}

type RecordInput = { kind: RevocationKind; key: string; cutoff: Date; expiresAt: Date; reason?: string | undefined; actor: string; by?: Actor | undefined };

/** What a revocation ended besides tokens: stored state that could have minted new ones. */
export interface EndedState {
  /** Browser sessions (sign-ins). */
  readonly sessions: number;
  readonly grants: number;
  readonly refreshTokens: number;
}

/**
 * One revocation inside the caller's change-feed transaction (writeWithChanges): the entry, the
 * stored state it ends, its change row and its audit record, so it commits together with
 * whatever else the caller changes (a new password, a removed second factor) or not at all.
 */
async function recordIn(tx: Tx, input: RecordInput, alsoDelete?: StoredStateOwner): Promise<{ result: { entry: RevocationEntry; ended: EndedState }; changes: ChangeRef[]; audit: AuditInput[] }> {
  const reason = input.reason === undefined ? null : checkText(input.reason, 'reason', 500);
  const existing = await findRevocationIn(tx, input.kind, input.key);
  // A second revocation of the same thing moves the cutoff forward and never shortens the entry.
  const expiresAt = existing && existing.expiresAt > input.expiresAt ? existing.expiresAt : input.expiresAt;
  const row = await upsertRevocation(tx, { kind: input.kind, key: input.key, cutoff: input.cutoff, expiresAt, reason, actor: input.actor });
  const counted = await endStoredState(tx, alsoDelete, input.cutoff);
  const ended: EndedState = counted ?? { sessions: 0, grants: 0, refreshTokens: 0 };
  const by: Actor = input.by ?? { actorType: actorTypeOf(input.actor), actor: input.actor };
  return {
    result: { entry: toEntry(row), ended },
    changes: [{ kind: 'revocation', key: revocationChangeKey(input.kind, input.key) }],
    audit: [
      {
        ...by,
        action: `revocation.${input.kind}`,
        subject: input.key,
        detail: {
          kind: input.kind,
          cutoff: input.cutoff.toISOString(),
          in_force_until: expiresAt.toISOString(),
          reason,
          ...(counted && { ended: { sessions: ended.sessions, grants: ended.grants, refresh_tokens: ended.refreshTokens } }),
        },
      },
    ],
  };
}

async function record(db: Database, input: RecordInput, alsoDelete?: StoredStateOwner): Promise<RevocationEntry> {
  return (await writeWithChanges(db, (tx) => recordIn(tx, input, alsoDelete))).entry;
}

/** Seconds a user or client revocation stays in force: no token it covers can outlive it. */
const principalExpiry = (now: number, horizonSeconds: number): Date => new Date(now + Math.max(horizonSeconds, MAX_TTL_SECONDS) * 1000);

/**
 * `govauth revoke --user`, inside the caller's transaction: every token of the person issued
 * until now is inactive, and their browser sessions, grants, codes and refresh tokens are gone
 * (but the session `keepSessionUid`: a person changing their own password stays signed in there).
 * A cutoff, not a block: a sign-in after it gets working tokens (issuance waits out the
 * cutoff's second, revocation-state.ts); `user disable` is the block.
 */
export function revokeUserIn(
  tx: Tx,
  userId: string,
  input: { reason?: string | undefined; actor: string; by?: Actor | undefined; horizonSeconds: number; keepSessionUid?: string | undefined },
  now: number,
): ReturnType<typeof recordIn> {
  const owner = { accountId: userId, exceptSessionUid: input.keepSessionUid };
  return recordIn(tx, { kind: 'user', key: userId, cutoff: new Date(now), expiresAt: principalExpiry(now, input.horizonSeconds), reason: input.reason, actor: input.actor, by: input.by }, owner);
}

/**
 * `govauth revoke --role`, inside the caller's transaction: every token carrying the role issued
 * until now is inactive. Also how a deleted role's tokens end (role-deletion.ts).
 */
export function revokeRoleIn(
  tx: Tx,
  role: string,
  input: { reason?: string | undefined; actor: string; by?: Actor | undefined; horizonSeconds: number },
  now: number,
): ReturnType<typeof recordIn> {
  return recordIn(tx, { kind: 'role', key: role, cutoff: new Date(now), expiresAt: principalExpiry(now, input.horizonSeconds), reason: input.reason, actor: input.actor, by: input.by });
}

/** One access token, until its own expiry (RFC 7009). */
export function revokeAccessToken(db: Database, input: { jti: string; expSec: number; actor: string; reason?: string }, now: number): Promise<RevocationEntry> {
  return record(db, { kind: 'token', key: input.jti, cutoff: new Date(now), expiresAt: new Date(input.expSec * 1000), reason: input.reason, actor: input.actor });
}

/**
 * A grant: its refresh tokens and codes are deleted, and every access token issued from it is
 * inactive until the longest possible access-token lifetime has passed.
 */
export function revokeGrant(db: Database, input: { grantId: string; actor: string; reason?: string | undefined; by?: Actor | undefined }, now: number): Promise<RevocationEntry> {
  return record(
    db,
    { kind: 'grant', key: input.grantId, cutoff: new Date(now), expiresAt: new Date(now + MAX_TTL_SECONDS * 1000), reason: input.reason, actor: input.actor, by: input.by },
    { grantId: input.grantId },
  );
}

export interface PrincipalRevocation {
  readonly user?: string; // email
  readonly client?: string;
  readonly role?: string;
  readonly grant?: string;
  readonly reason?: string | undefined;
  readonly actor: string;
  readonly by?: Actor;
  /** Seconds a token or refresh token issued before now can live: the entry's lifetime. */
  readonly horizonSeconds: number;
}

export async function revokePrincipal(db: Database, input: PrincipalRevocation, now: number): Promise<{ entry: RevocationEntry; label: string }> {
  const given = (['user', 'client', 'role', 'grant'] as const).filter((k) => input[k] !== undefined);
  if (given.length !== 1) throw new AppError('invalid_request', 'name exactly one of --user, --client, --role, --grant');
  const base = { cutoff: new Date(now), expiresAt: principalExpiry(now, input.horizonSeconds), reason: input.reason, actor: input.actor, by: input.by };
  if (input.user !== undefined) {
    const email = normalizeEmail(input.user);
    const user = await mustExist(findUser(db, email), `no user ${email}`);
    const { entry } = await writeWithChanges(db, (tx) => revokeUserIn(tx, user.id, input, now));
    return { entry, label: email };
  }
  if (input.client !== undefined) {
    await mustExist(findClient(db, input.client), `no client ${input.client}`);
    return { entry: await record(db, { ...base, kind: 'client', key: input.client }, { clientId: input.client }), label: input.client };
  }
  if (input.role !== undefined) {
    const role = input.role;
    await mustExist(findRole(db, role), `no role named ${role}`);
    const { entry } = await writeWithChanges(db, (tx) => revokeRoleIn(tx, role, input, now));
    return { entry, label: role };
  }
  const grantId = input.grant ?? '';
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(grantId)) throw new AppError('invalid_request', 'a grant id is the grant_id claim of a token');
  // An operator naming a grant govauth never issued (a typo, a client_id pasted by mistake)
  // must hear so, not read "revoked". Known: stored state of the grant (the grant, its codes,
  // refresh tokens, sessions), or a revocation of it in force (revoking again is harmless).
  if (!(await grantKnown(db, grantId))) {
    throw new AppError(
      'not_found',
      `no grant ${grantId}: it was never issued, or it has ended (an ended grant issues no new tokens; to end access tokens still alive from it, revoke its user or client)`,
    );
  }
  return { entry: await revokeGrant(db, { grantId, actor: input.actor, reason: input.reason, by: input.by }, now), label: grantId };
}

export async function loadRevocations(db: Database, now: number): Promise<RevocationEntry[]> {
  return (await revocationsInForce(db, new Date(now))).map(toEntry);
}

export async function loadRevocation(db: Database, kind: RevocationKind, key: string): Promise<RevocationEntry | undefined> {
  const row = await findRevocation(db, kind, key);
  return row ? toEntry(row) : undefined;
}

export async function listRevocations(db: Database, now: number): Promise<RevocationView[]> {
  const entries = await loadRevocations(db, now);
  const userIds = entries.filter((e) => e.kind === 'user').map((e) => e.key);
  const users = new Map((await userEmails(db, userIds)).map((u) => [u.id, u.email]));
  return entries.map((e) => ({
    kind: e.kind,
    key: e.key,
    label: e.kind === 'user' ? (users.get(e.key) ?? e.key) : e.key,
    cutoff: new Date(e.cutoff).toISOString(),
    expires_at: new Date(e.expiresAt).toISOString(),
    reason: e.reason,
    actor: e.actor,
  }));
}

export function pruneRevocations(db: Database, now: number): Promise<number> {
  return deleteRevocationsEndedBy(db, new Date(now));
}

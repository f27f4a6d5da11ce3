// People's passkeys: registering, renaming, removing (audited, notified, and a `user` change so
// every instance sees the person's factors), and answering a sign-in ceremony. Challenges are
// kept server-side, one per ceremony binding, single use and short-lived; a response is checked
// against the issuer's origin and RP id (webauthn-ceremony.ts); the signature counter must move
// forward when either side is non-zero (WebAuthn L3 §6.1.1: a counter going backwards means
// a cloned authenticator) and is stored compare-and-set, so a response counts once.
import { randomBytes } from 'node:crypto';
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import type { Database } from '../db/database.ts';
import {
  deletePasskey,
  findPasskey,
  findPasskeyByCredentialId,
  insertPasskey,
  passkeysOf,
  putChallenge,
  recordPasskeyUse,
  renamePasskeyRow,
  takeChallenge,
  type PasskeyRow,
} from '../db/passkey-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { enqueueNotification, notifiedActor } from '../notifications/notification-event.ts';
import { conflictAs } from './catalog.ts';
import { decideFactorRemoval } from './factor-rules.ts';
import { factorStatus } from './factor-status.ts';
import { passkeyAmr } from './factors.ts';
import { replaceRecoveryCodes } from '../db/factor-repository.ts';
import type { PolicySnapshot, UserDef } from './policy-model.ts';
import {
  authenticationOptions,
  checkAssertion,
  checkRegistration,
  CEREMONY_TIMEOUT_MS,
  type CeremonyRefusal,
  type RelyingParty,
} from './webauthn-ceremony.ts';

export interface PasskeyView {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
  counter: number;
  backup_eligible: boolean;
  backed_up: boolean;
}

const view = (p: PasskeyRow): PasskeyView => ({
  id: p.id,
  name: p.name,
  created_at: p.createdAt.toISOString(),
  last_used_at: p.lastUsedAt?.toISOString() ?? null,
  counter: Number(p.counter),
  backup_eligible: p.backupEligible,
  backed_up: p.backedUp,
});

export const listPasskeys = async (db: Database, userId: string): Promise<PasskeyView[]> => (await passkeysOf(db, userId)).map(view);

/** A name the person gives a passkey: 1 to 64 printable characters. */
export function checkPasskeyName(raw: string | undefined): string {
  const name = (raw ?? '').trim();
  if (!name || name.length > 64 || /\p{Cc}/u.test(name)) throw new AppError('invalid_request', 'Give the passkey a name of 1 to 64 characters, such as "Work laptop".');
  return name;
}

const newPasskeyId = (): string => `pk_${randomBytes(12).toString('base64url')}`;
const expiry = (now: number): Date => new Date(now + CEREMONY_TIMEOUT_MS + 30_000);

/** Issues a challenge bound to `binding` for `userId` (null: a passwordless sign-in, anyone). */
export async function issueChallenge(db: Database, binding: string, challenge: string, userId: string | null, now: number): Promise<void> {
  await putChallenge(db, { binding, challenge, userId, expiresAt: expiry(now) }, new Date(now));
}

export type CeremonyResult<T> = ({ ok: true } & T) | { ok: false; reason: CeremonyRefusal; userId?: string | undefined; passkeyId?: string | undefined };

/** Verifies a registration answer and stores the passkey: audited, notified, propagated. */
export async function finishRegistration(
  db: Database,
  rp: RelyingParty,
  input: { user: UserDef; binding: string; response: Record<string, unknown>; name: string },
  by: Actor,
  now: number,
): Promise<CeremonyResult<{ passkey: PasskeyView }>> {
  const challenge = await takeChallenge(db, input.binding, new Date(now));
  if (!challenge || challenge.userId !== input.user.id) return { ok: false, reason: 'no_challenge', userId: input.user.id };
  const checked = await checkRegistration(rp, input.response, challenge.challenge);
  if (!checked.ok) return { ok: false, reason: checked.reason, userId: input.user.id };
  const c = checked.credential;
  try {
    const passkey = await conflictAs('This passkey is already registered.', () =>
      writeWithChanges(db, async (tx) => {
        const row = await insertPasskey(tx, { id: newPasskeyId(), userId: input.user.id, name: input.name, ...c });
        const after = view(row);
        await enqueueNotification(tx, { type: 'passkey.added', data: { user_id: input.user.id, passkey_id: row.id, backup_eligible: c.backupEligible, by: notifiedActor(by) } }, now);
        return { result: after, changes: [{ kind: 'user', key: input.user.id }], audit: [adminEvent(by, 'passkey.register', input.user.id, null, after, { aaguid: c.aaguid })] };
      }),
    );
    return { ok: true, passkey };
  } catch (err) {
    if (err instanceof AppError && err.code === 'conflict') return { ok: false, reason: 'duplicate_credential', userId: input.user.id };
    throw err;
  }
}

/** Options for a sign-in or step-up ceremony; for a step-up, only the person's own passkeys. */
export async function startPasskeySignIn(db: Database, rp: RelyingParty, binding: string, userId: string | null, now: number) {
  const allow = userId ? await passkeysOf(db, userId) : undefined;
  const options = await authenticationOptions(rp, allow);
  await issueChallenge(db, binding, options.challenge, userId, now);
  return options;
}

/**
 * Answers a sign-in ceremony: the challenge is taken (once), the credential found, the response
 * verified, then the counter moved compare-and-set. `userId` of the challenge, when set (a
 * step-up), must own the credential.
 */
export async function finishPasskeySignIn(
  db: Database,
  rp: RelyingParty,
  input: { binding: string; response: { id: string } & Record<string, unknown> },
  now: number,
): Promise<CeremonyResult<{ userId: string; passkeyId: string; amr: string[] }>> {
  const challenge = await takeChallenge(db, input.binding, new Date(now));
  if (!challenge) return { ok: false, reason: 'no_challenge' };
  const stored = await findPasskeyByCredentialId(db, input.response.id);
  if (!stored) return { ok: false, reason: 'unknown_credential', userId: challenge.userId ?? undefined };
  const who = { userId: stored.userId, passkeyId: stored.id };
  if (challenge.userId !== null && challenge.userId !== stored.userId) return { ok: false, reason: 'not_your_credential', ...who, userId: challenge.userId };
  const checked = await checkAssertion(rp, input.response, challenge.challenge, stored);
  if (!checked.ok) return { ok: false, reason: checked.reason, ...who };
  // Counter 0 both sides: an authenticator without a counter (many synced passkeys); nothing to compare.
  const recorded = await recordPasskeyUse(db, stored.id, stored.counter, { counter: checked.counter, backedUp: checked.backedUp, at: new Date(now) });
  if (!recorded) return { ok: false, reason: 'replayed', ...who };
  return { ok: true, ...who, amr: passkeyAmr(stored.backupEligible, checked.userVerified) };
}

async function ownPasskey(db: Database, userId: string, id: string): Promise<PasskeyRow> {
  const row = await findPasskey(db, id);
  // Someone else's passkey is as absent as one that does not exist.
  if (!row || row.userId !== userId) throw new AppError('not_found', 'There is no such passkey on your account.');
  return row;
}

export async function renamePasskey(db: Database, input: { userId: string; id: string; name: string }, by: Actor): Promise<PasskeyView> {
  const row = await ownPasskey(db, input.userId, input.id);
  const name = checkPasskeyName(input.name);
  return writeWithChanges(db, async (tx) => {
    const after = view(await renamePasskeyRow(tx, row.id, name));
    return { result: after, changes: [], audit: [adminEvent(by, 'passkey.rename', input.userId, view(row), after)] };
  });
}

/**
 * Removes a passkey, unless it is the last factor satisfying a role the person holds
 * (factor-rules.ts decideFactorRemoval, checked under the write lock). Audited and notified.
 */
export async function removePasskey(db: Database, input: { userId: string; id: string; snapshot: PolicySnapshot; user: UserDef; now: number }, by: Actor): Promise<void> {
  const row = await ownPasskey(db, input.userId, input.id);
  await writeWithChanges(db, async (tx) => {
    const remaining = await passkeysOf(tx, input.userId);
    if (!remaining.some((p) => p.id === row.id)) throw new AppError('not_found', 'There is no such passkey on your account.');
    // The one removal rule (factor-rules.ts), as for TOTP, on factors read under the write lock.
    const decision = decideFactorRemoval({ snapshot: input.snapshot, grants: input.user.roles, now: input.now, status: await factorStatus(tx, input.userId), removing: 'passkey' });
    if (!decision.ok) throw new AppError('conflict', decision.message);
    await deletePasskey(tx, row.id);
    // With no factor left, the recovery codes go too: they stand in for a factor that is gone.
    if (decision.last) await replaceRecoveryCodes(tx, input.userId, []);
    await enqueueNotification(tx, { type: 'passkey.removed', data: { user_id: input.userId, passkey_id: row.id, by: notifiedActor(by) } }, input.now);
    return { result: undefined, changes: [{ kind: 'user', key: input.userId }], audit: [adminEvent(by, 'passkey.remove', input.userId, view(row), null)] };
  });
}

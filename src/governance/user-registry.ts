// People: accounts, passwords, role assignments and TOTP enrolment. Shared by the CLI, the
// sign-in UI and (later) the admin API. Every write appends a `user` change so running
// servers refresh that person (policy-store.ts).
import { randomBytes } from 'node:crypto';
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import { enqueueNotification, notifiedActor } from '../notifications/notification-event.ts';
import type { Database, Tx } from '../db/database.ts';
import {
  claimTotpStep,
  findCredentials,
  findTotpState,
  findUserByEmail,
  insertUser,
  listUserRows,
  readUser,
  replaceUserRoles,
  setPasswordHash,
  updateUserRow,
  type UserRow,
  type UserWrite,
} from '../db/people-repository.ts';
import { AppError } from '../errors/app-error.ts';
import type { MasterKey } from '../keys/master-key.ts';
import { seal, unseal } from '../keys/sealed-box.ts';
import { conflictAs, mustExist, requireRoles } from './catalog.ts';
import { assertSeparationOfDuties } from './exclusive-roles.ts';
import { checkPassword, hashPassword } from './passwords.ts';
import { revokeUserIn, type EndedState } from './revocations.ts';
import { newTotpSecret, otpauthUrl, verifyTotp } from './totp.ts';
import { personFactors, type FactorView } from './factor-status.ts';
import { deletePasskeysOf } from '../db/passkey-repository.ts';
import { replaceRecoveryCodes } from '../db/factor-repository.ts';
import { checkRoleName, uniqueList } from './validation.ts';
import { normalizeEmail } from './email-address.ts';

// The one email normaliser lives in email-address.ts (shared with the sign-in throttles).
export { normalizeEmail };

const newUserId = (): string => `usr_${randomBytes(16).toString('base64url')}`;

export interface UserView {
  id: string;
  email: string;
  disabled: boolean;
  mfa_enrolled: boolean;
  roles: { role: string; expires_at: string | null }[];
  created_at: string;
  /** `user show` and GET /users/{email} only: TOTP, passkeys, recovery codes left, required and missing factors (factor-status.ts). */
  factors?: FactorView;
}

const userView = (u: UserRow): UserView => ({
  id: u.id,
  email: u.email,
  disabled: u.disabled,
  mfa_enrolled: u.mfaEnrolledAt !== null,
  roles: u.roles.map((r) => ({ role: r.roleName, expires_at: r.expiresAt?.toISOString() ?? null })),
  created_at: u.createdAt.toISOString(),
});

async function findByEmail(db: Database, email: string): Promise<UserRow> {
  return mustExist(findUserByEmail(db, normalizeEmail(email)), `no user ${normalizeEmail(email)}`);
}

export async function createUser(db: Database, input: { email: string; password: string; roles?: readonly string[] }, by: Actor): Promise<UserView> {
  const email = normalizeEmail(input.email);
  const passwordHash = await hashPassword(checkPassword(input.password));
  const roles = uniqueList(input.roles ?? [], checkRoleName);
  const id = newUserId();
  return conflictAs(`user ${email} already exists`, () =>
    writeWithChanges(db, async (tx) => {
      await requireRoles(tx, roles);
      await assertSeparationOfDuties(tx, email, [], roles);
      const row = await insertUser(tx, { id, email, passwordHash, roles });
      const after = userView(row);
      return { result: after, changes: [{ kind: 'user', key: id }], audit: [adminEvent(by, 'admin.user.create', id, null, after)] };
    }),
  );
}

export async function listUsers(db: Database): Promise<UserView[]> {
  return (await listUserRows(db)).map(userView);
}

export async function getUser(db: Database, email: string, now: number): Promise<UserView & { factors: FactorView }> {
  const row = await findByEmail(db, email);
  const grants = row.roles.map((r) => ({ role: r.roleName, expiresAt: r.expiresAt?.getTime() ?? null }));
  return { ...userView(row), factors: await personFactors(db, row.id, grants, now) };
}

/** One change to a person, inside the caller's transaction; "before" is read under the write lock. */
async function applyUserChange(tx: Tx, userId: string, data: UserWrite, by: Actor, action: string, extra: Record<string, unknown>) {
  const before = userView(await readUser(tx, userId));
  const after = userView(await updateUserRow(tx, userId, data));
  return { before, after, change: { kind: 'user', key: userId }, record: adminEvent(by, action, userId, before, after, extra) };
}

/**
 * A change after which the person's earlier sign-ins must not live on: the same revocation as
 * `govauth revoke --user`, in the same transaction as the change, so there is no moment where
 * the new credential is set and the old sign-ins still work.
 */
async function updateUserEndingAccess(
  db: Database,
  email: string,
  change: { data: UserWrite; action: string; extra?: Record<string, unknown>; reason: string; alsoIn?: (tx: Tx, userId: string) => Promise<Record<string, unknown>> },
  by: Actor,
  options: EndAccessOptions,
): Promise<{ user: UserView; ended: EndedAccess }> {
  const user = await findByEmail(db, email);
  return writeWithChanges(db, async (tx) => {
    const also = change.alsoIn ? await change.alsoIn(tx, user.id) : {};
    const applied = await applyUserChange(tx, user.id, change.data, by, change.action, { ...change.extra, ...also });
    const end = { reason: change.reason, actor: by.actor ?? by.actorType, by, horizonSeconds: options.horizonSeconds, keepSessionUid: options.keepSessionUid };
    const revoked = await revokeUserIn(tx, user.id, end, options.now);
    const ended = { ...revoked.result.ended, cutoff: new Date(revoked.result.entry.cutoff).toISOString() };
    return { result: { user: applied.after, ended }, changes: [applied.change, ...revoked.changes], audit: [applied.record, ...revoked.audit] };
  });
}

export async function setUserDisabled(db: Database, email: string, disabled: boolean, by: Actor): Promise<UserView> {
  const user = await findByEmail(db, email);
  return writeWithChanges(db, async (tx) => {
    const { before, after, change, record } = await applyUserChange(tx, user.id, { disabled }, by, disabled ? 'admin.user.disable' : 'admin.user.enable', {});
    // Only a real transition is news to the receiver (README "Notifications").
    if (before.disabled !== disabled) {
      await enqueueNotification(tx, { type: disabled ? 'user.disabled' : 'user.enabled', data: { user_id: user.id, by: notifiedActor(by) } }, db.now());
    }
    return { result: after, changes: [change], audit: [record] };
  });
}

/** What ending a person's sign-ins ended; every token issued to them until `cutoff` is revoked. */
export type EndedAccess = EndedState & { readonly cutoff: string };

/** How long the user revocation stays in force (GOVAUTH_SESSION_MAX_AGE, as for `revoke --user`). */
export interface EndAccessOptions {
  readonly horizonSeconds: number;
  /** The cutoff (ms since the epoch): the server's clock, the one issuance stamps iat with. */
  readonly now: number;
  /** A browser session (uid) that stays signed in: the person's own, when they made the change. */
  readonly keepSessionUid?: string | undefined;
}

/**
 * A new password ends every sign-in made with the old one (OWASP ASVS 4.0 V3.3.3): the person's
 * browser sessions, grants and refresh tokens are ended and their tokens revoked, exactly as
 * `govauth revoke --user` does. They sign in again with the new password.
 */
export async function setUserPassword(db: Database, email: string, password: string, by: Actor, options: EndAccessOptions): Promise<{ user: UserView; ended: EndedAccess }> {
  const passwordHash = await hashPassword(checkPassword(password));
  const change = { data: { passwordHash, passwordChangedAt: new Date(options.now) }, action: 'admin.user.set_password', extra: { password_changed: true }, reason: 'password changed' };
  return updateUserEndingAccess(db, email, change, by, options);
}

export async function setUserRoles(db: Database, email: string, roles: readonly string[], by: Actor): Promise<UserView> {
  const names = uniqueList(roles, checkRoleName);
  const user = await findByEmail(db, email);
  return writeWithChanges(db, async (tx) => {
    const before = userView(await readUser(tx, user.id));
    await requireRoles(tx, names);
    // A violation the person already had (a set declared over it) does not block other changes.
    await assertSeparationOfDuties(tx, before.email, before.roles.map((r) => r.role), names);
    await replaceUserRoles(tx, user.id, names);
    const after = userView(await readUser(tx, user.id));
    return { result: after, changes: [{ kind: 'user', key: user.id }], audit: [adminEvent(by, 'admin.user.set_roles', user.id, before, after)] };
  });
}

export const totpSealKey = (master: MasterKey): Buffer => master.derive('totp-secret-seal');

/**
 * Enrols TOTP and returns the secret once, for the person's authenticator app. Re-enrolling
 * replaces the secret, so the authenticator the person already has stops working: that needs
 * `force`, or it could lock someone out (or hand their second factor to whoever asked for the
 * new secret) by mistake. `replaced` says whether an enrolment was replaced.
 */
export async function enrollMfa(
  db: Database,
  master: MasterKey,
  email: string,
  by: Actor,
  options: { force?: boolean; issuer?: string; now: number },
): Promise<{ secret: string; otpauth_url: string; replaced: boolean }> {
  const user = await findByEmail(db, email);
  const secret = newTotpSecret();
  const replaced = await writeWithChanges(db, async (tx) => {
    // Checked under the write lock: of two concurrent enrolments without force, one is refused.
    const row = await readUser(tx, user.id);
    if (row.mfaEnrolledAt !== null && options.force !== true) {
      throw new AppError('conflict', `${row.email} is already enrolled in two-step verification (since ${row.mfaEnrolledAt.toISOString()}); enrolling again replaces the secret and their current authenticator stops working`);
    }
    const before = userView(row);
    const data = { mfaSecret: seal(totpSealKey(master), secret, user.id), mfaEnrolledAt: new Date(options.now), mfaLastStep: null };
    const after = userView(await updateUserRow(tx, user.id, data));
    const wasEnrolled = row.mfaEnrolledAt !== null;
    return { result: wasEnrolled, changes: [{ kind: 'user', key: user.id }], audit: [adminEvent(by, 'admin.user.mfa_enroll', user.id, before, after, { replaced: wasEnrolled })] };
  });
  return { secret, otpauth_url: otpauthUrl(secret, user.email, options.issuer ?? 'govauth'), replaced };
}

/**
 * Removing the second factor (a lost or stolen phone) ends every sign-in it vouched for: the same
 * as `govauth revoke --user`, so a session or refresh token obtained with the old authenticator
 * cannot keep high-sensitivity access.
 */
export async function resetMfa(db: Database, email: string, by: Actor, options: EndAccessOptions): Promise<{ user: UserView; ended: EndedAccess }> {
  // Every factor goes, in the same transaction: TOTP (active and pending), recovery codes,
  // passkeys and their outstanding ceremonies (a challenge issued before the reset is not
  // answered after it). The counts are in the audit record.
  const alsoIn = async (tx: Tx, userId: string) => {
    const recovery_codes_removed = await replaceRecoveryCodes(tx, userId, []);
    const removed = await deletePasskeysOf(tx, userId);
    return { recovery_codes_removed, passkeys_removed: removed.passkeys, passkey_challenges_removed: removed.challenges };
  };
  const data = { mfaSecret: null, mfaEnrolledAt: null, mfaLastStep: null, mfaPendingSecret: null, mfaPendingUntil: null };
  return updateUserEndingAccess(db, email, { data, action: 'admin.user.mfa_reset', reason: 'two-step verification reset', alsoIn }, by, options);
}

/**
 * A person changes their own password (the account page): the current one is checked by the
 * caller (throttled like a sign-in). Every other sign-in ends as with `user set-password`; the
 * browser they did it in stays signed in.
 */
export async function changeOwnPassword(db: Database, email: string, password: string, by: Actor, options: EndAccessOptions): Promise<{ ended: EndedAccess }> {
  const passwordHash = await hashPassword(checkPassword(password));
  const change = { data: { passwordHash, passwordChangedAt: new Date(options.now) }, action: 'account.password.change', extra: { password_changed: true }, reason: 'password changed by its owner' };
  const { ended } = await updateUserEndingAccess(db, email, change, by, options);
  return { ended };
}

/** For sign-in: the stored hash, read fresh from the database (never cached). */
export async function findUserCredentials(db: Database, email: string): Promise<{ id: string; passwordHash: string; disabled: boolean } | undefined> {
  let normalized: string;
  try {
    normalized = normalizeEmail(email);
  } catch {
    return undefined;
  }
  return (await findCredentials(db, normalized)) ?? undefined;
}

export async function replacePasswordHash(db: Database, id: string, passwordHash: string): Promise<void> {
  await setPasswordHash(db, id, passwordHash);
}

/**
 * Checks a TOTP code and consumes its time step atomically: of two concurrent submissions of
 * the same code, one wins.
 */
export async function consumeTotp(db: Database, master: MasterKey, userId: string, code: string, now: number): Promise<boolean> {
  const user = await findTotpState(db, userId);
  if (!user?.mfaSecret) return false;
  let secret: string;
  try {
    secret = unseal(totpSealKey(master), user.mfaSecret, userId);
  } catch {
    return false; // fail closed: a secret we cannot open proves nothing
  }
  const step = verifyTotp(secret, code, now, user.mfaLastStep);
  if (step === undefined) return false;
  return claimTotpStep(db, userId, step);
}

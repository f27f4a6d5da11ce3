// A person enrols TOTP themselves (the account page): a new secret is kept as *pending*, shown
// once (QR code and text), and becomes the active one only when the person sends a first code
// made from it: proof that their authenticator holds it (a wrong code enrols nothing). A pending
// secret lapses after PENDING_MS or when a newer one is started. Re-enrolling replaces the active
// secret at confirmation, never before, so a half-done re-enrolment leaves the old one working.
import type { Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import type { Database } from '../db/database.ts';
import { activatePendingTotp, findPendingTotp, replaceRecoveryCodes, setPendingTotp, totpEnrolledAt } from '../db/factor-repository.ts';
import { updateUserRow } from '../db/people-repository.ts';
import { AppError } from '../errors/app-error.ts';
import type { MasterKey } from '../keys/master-key.ts';
import { seal, unseal } from '../keys/sealed-box.ts';
import { decideFactorRemoval } from './factor-rules.ts';
import { factorStatus } from './factor-status.ts';
import type { PolicySnapshot, RoleGrant } from './policy-model.ts';
import { newTotpSecret, otpauthUrl, verifyTotp } from './totp.ts';
import { totpSealKey } from './user-registry.ts';

/** How long a shown secret waits for its first code. */
const PENDING_MS = 10 * 60 * 1000;

const userChange = (userId: string) => [{ kind: 'user', key: userId }];

/** Starts (or restarts) an enrolment: the secret and otpauth URL, for this response only. */
export async function startTotpEnrolment(
  db: Database,
  master: MasterKey,
  user: { id: string; email: string },
  options: { now: number; issuer: string },
): Promise<{ secret: string; otpauthUrl: string; expiresAt: number }> {
  const secret = newTotpSecret();
  const expiresAt = options.now + PENDING_MS;
  await writeWithChanges(db, async (tx) => {
    await setPendingTotp(tx, user.id, seal(totpSealKey(master), secret, user.id), new Date(expiresAt));
    return { result: undefined, changes: [] };
  });
  return { secret, otpauthUrl: otpauthUrl(secret, user.email, options.issuer), expiresAt };
}

export type ConfirmOutcome = { readonly ok: true; readonly replaced: boolean } | { readonly ok: false; readonly reason: 'wrong_code' | 'expired' };

/** Activates the pending secret if `code` was made from it; audited, every instance told. */
export async function confirmTotpEnrolment(db: Database, master: MasterKey, userId: string, code: string, by: Actor, now: number): Promise<ConfirmOutcome> {
  const pending = await findPendingTotp(db, userId);
  if (!pending?.mfaPendingSecret || !pending.mfaPendingUntil || pending.mfaPendingUntil.getTime() <= now) return { ok: false, reason: 'expired' };
  let secret: string;
  try {
    secret = unseal(totpSealKey(master), pending.mfaPendingSecret, userId);
  } catch {
    return { ok: false, reason: 'expired' }; // fail closed: start again with a new secret
  }
  const step = verifyTotp(secret, code.replace(/\s+/g, ''), now, null);
  if (step === undefined) return { ok: false, reason: 'wrong_code' };
  const sealed = pending.mfaPendingSecret;
  return writeWithChanges<ConfirmOutcome>(db, async (tx) => {
    const replaced = (await totpEnrolledAt(tx, userId)) !== null;
    // The first code's step is recorded as used: it cannot be replayed at the two-step page.
    if (!(await activatePendingTotp(tx, userId, sealed, step, new Date(now)))) return { result: { ok: false as const, reason: 'expired' as const }, changes: [] };
    return { result: { ok: true as const, replaced }, changes: userChange(userId), audit: [{ ...by, action: 'account.totp.enrol', subject: userId, detail: { replaced } }] };
  });
}

/**
 * Removes the person's TOTP unless it is their last factor while a role requires one
 * (factor-rules.ts). With no factor left, the recovery codes go too.
 */
export async function removeTotp(
  db: Database,
  userId: string,
  holder: { readonly snapshot: PolicySnapshot; readonly grants: readonly RoleGrant[]; readonly now: number },
  by: Actor,
): Promise<{ recoveryCodesRemoved: number }> {
  return writeWithChanges(db, async (tx) => {
    // Read under the write lock, so a passkey removed at the same moment is counted.
    const decision = decideFactorRemoval({ ...holder, status: await factorStatus(tx, userId), removing: 'totp' });
    if (!decision.ok) throw new AppError('conflict', decision.message);
    await updateUserRow(tx, userId, { mfaSecret: null, mfaEnrolledAt: null, mfaLastStep: null });
    const recoveryCodesRemoved = decision.last ? await replaceRecoveryCodes(tx, userId, []) : 0;
    return {
      result: { recoveryCodesRemoved },
      changes: userChange(userId),
      audit: [{ ...by, action: 'account.totp.remove', subject: userId, detail: { last_factor: decision.last, recovery_codes_removed: recoveryCodesRemoved } }],
    };
  });
}

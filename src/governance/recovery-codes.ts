// Recovery codes: ten one-time codes a person keeps on paper for when their authenticator is
// lost. Each stands in for the second factor once at the two-step page.
//
// Storage: a code is 10 characters from the RFC 4648 base32 alphabet (50 bits from the CSPRNG),
// so guessing is bounded by the sign-in throttle, not by hash cost; only HMAC-SHA-256 of
// (person, code) under a key derived from the master key is stored (SECURITY.md). A stolen
// database without the master key yields nothing to test guesses against offline, and a
// constant-cost keyed digest lets the check be one indexed, atomic update instead of ten argon2
// verifications per attempt (argon2 is for low-entropy secrets: passwords).
import { createHmac, randomBytes, randomInt } from 'node:crypto';
import type { Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import type { Database } from '../db/database.ts';
import { replaceRecoveryCodes, unusedRecoveryCodes, useRecoveryCode } from '../db/factor-repository.ts';
import { AppError } from '../errors/app-error.ts';
import type { MasterKey } from '../keys/master-key.ts';
import { enqueueNotification, notifiedActor } from '../notifications/notification-event.ts';

export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const CODE_LENGTH = 10;

const newCode = (): string => {
  let raw = '';
  for (let i = 0; i < CODE_LENGTH; i++) raw += ALPHABET[randomInt(ALPHABET.length)];
  return `${raw.slice(0, 5)}-${raw.slice(5)}`;
};

/** The code as typed, without spaces, dashes or case; undefined when it cannot be a code. */
function normalizeRecoveryCode(input: string): string | undefined {
  const code = input.replace(/[\s-]/g, '').toLowerCase();
  return code.length === CODE_LENGTH && [...code].every((c) => ALPHABET.includes(c)) ? code : undefined;
}

const digestKey = (master: MasterKey): Buffer => master.derive('recovery-code-digest');
const digest = (key: Buffer, userId: string, code: string): string => createHmac('sha256', key).update(`${userId}\0${code}`).digest('base64url');

const newCodeId = (): string => `rc_${randomBytes(12).toString('base64url')}`;

/**
 * Makes a new set for the person and returns it, to be shown once; the previous set (used or
 * not) stops working in the same transaction. Needs TOTP or a passkey: codes stand in for a
 * factor, they are not one.
 */
export async function generateRecoveryCodes(db: Database, master: MasterKey, userId: string, by: Actor, hasFactor: boolean): Promise<string[]> {
  if (!hasFactor) throw new AppError('invalid_request', 'Set up an authenticator app or a passkey first: recovery codes stand in for a second factor when it is lost.');
  const key = digestKey(master);
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
  await writeWithChanges(db, async (tx) => {
    const replaced = await replaceRecoveryCodes(tx, userId, codes.map((c) => ({ id: newCodeId(), codeHash: digest(key, userId, normalizeRecoveryCode(c) ?? c) })));
    return { result: undefined, changes: [], audit: [{ ...by, action: 'account.recovery_codes.generate', subject: userId, detail: { count: codes.length, replaced } }] };
  });
  return codes;
}

/**
 * Uses one code of the person, atomically (of two racing uses of one code, one wins). A use is
 * audited and announced (`user.recovery_code_used`), so a person or their security team hears
 * when a code they did not use was used. `remaining`: unused codes left after this one.
 */
export async function consumeRecoveryCode(
  db: Database,
  master: MasterKey,
  userId: string,
  input: string,
  by: Actor & { clientId?: string | undefined },
): Promise<{ ok: true; remaining: number } | { ok: false }> {
  const code = normalizeRecoveryCode(input);
  if (!code) return { ok: false };
  const codeHash = digest(digestKey(master), userId, code);
  return writeWithChanges<{ ok: true; remaining: number } | { ok: false }>(db, async (tx) => {
    const now = db.now();
    if (!(await useRecoveryCode(tx, userId, codeHash, new Date(now)))) return { result: { ok: false as const }, changes: [] };
    const remaining = await unusedRecoveryCodes(tx, userId);
    await enqueueNotification(tx, { type: 'user.recovery_code_used', data: { user_id: userId, remaining, by: notifiedActor(by) } }, now);
    return { result: { ok: true as const, remaining }, changes: [], audit: [{ ...by, action: 'mfa.recovery_code_used', subject: userId, detail: { remaining } }] };
  });
}

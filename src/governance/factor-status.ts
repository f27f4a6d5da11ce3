// A person's second factors as the account page, `user show`, `review` and the removal rule see
// them (factor-rules.ts). TOTP and recovery codes are kept here; passkeys are kept by the passkey
// store, which plugs in through `PasskeyFactors`: it counts them for the removal rule and the
// listings, and removes them in the same transaction as an administrator's factor reset
// (user-registry.ts resetMfa). Until it is passed, NO_PASSKEYS counts none.
//
// Where a passkey store plugs in: `passkeys` in the account routes' deps (app.ts: the overview,
// the removal rule for TOTP), `resetMfa(…, { passkeys })` (CLI `user mfa reset`, admin
// DELETE /users/{email}/mfa), `getUser(db, email, passkeys)` (`user show`, GET /users/{email})
// and `reviewAccess(db, { passkeys })`. Removing a passkey uses the same rule as TOTP:
// decideFactorRemoval(await factorStatus(tx, userId, passkeys), 'passkey', rolesRequiringMfa(…)).
// A per-role factor requirement goes into rolesRequiringMfa's `requiresFactor`.
import type { Database, Reader, Tx } from '../db/database.ts';
import { totpEnrolledAt, unusedRecoveryCodes, unusedRecoveryCodesByUser } from '../db/factor-repository.ts';
import type { FactorStatus } from './factor-rules.ts';

export interface PasskeyFactors {
  count(h: Reader, userId: string): Promise<number>;
  /** Per person, for listings. */
  countAll(db: Database): Promise<ReadonlyMap<string, number>>;
  /** Inside the reset's transaction: removes every passkey of the person; returns how many. */
  removeAll(tx: Tx, userId: string): Promise<number>;
}

export const NO_PASSKEYS: PasskeyFactors = {
  count: () => Promise.resolve(0),
  countAll: () => Promise.resolve(new Map()),
  removeAll: () => Promise.resolve(0),
};

export async function factorStatus(h: Reader, userId: string, passkeys: PasskeyFactors = NO_PASSKEYS): Promise<FactorStatus> {
  const [enrolled, recoveryCodesLeft, count] = await Promise.all([totpEnrolledAt(h, userId), unusedRecoveryCodes(h, userId), passkeys.count(h, userId)]);
  return { totp: enrolled !== null, passkeys: count, recoveryCodesLeft };
}

/** Recovery codes left and passkeys, per person id, for `user list`/`review`-style listings. */
export async function factorCounts(db: Database, passkeys: PasskeyFactors = NO_PASSKEYS): Promise<{ recoveryCodes: ReadonlyMap<string, number>; passkeys: ReadonlyMap<string, number> }> {
  const [recoveryCodes, keys] = await Promise.all([unusedRecoveryCodesByUser(db), passkeys.countAll(db)]);
  return { recoveryCodes, passkeys: keys };
}

/** As `user show`, the admin API and `review` print it. */
export interface FactorView {
  totp: boolean;
  passkeys: number;
  recovery_codes_left: number;
}

export const factorView = (s: FactorStatus): FactorView => ({ totp: s.totp, passkeys: s.passkeys, recovery_codes_left: s.recoveryCodesLeft });

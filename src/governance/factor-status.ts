// A person's second factors, read once for everyone who shows them: the account overview,
// `user show` and GET /users/{email} (getUser), GET /users/{email}/factors, and `review`. One
// shape (FactorView) against what the person's roles require (factors.ts requiredFactorsOf).
// The removal rule that uses the same status is factor-rules.ts decideFactorRemoval.
import type { Reader } from '../db/database.ts';
import { rolesRequiringFactors, totpEnrolledAt, unusedRecoveryCodes } from '../db/factor-repository.ts';
import { countPasskeys } from '../db/passkey-repository.ts';
import { missingFactors, parseRequiredFactor, requiredFactorsOf, type FactorRequirement, type FactorStatus } from './factors.ts';
import type { RoleGrant } from './policy-model.ts';

export async function factorStatus(h: Reader, userId: string): Promise<FactorStatus> {
  const [enrolled, recoveryCodesLeft, passkeys] = await Promise.all([totpEnrolledAt(h, userId), unusedRecoveryCodes(h, userId), countPasskeys(h, userId)]);
  return { totp: enrolled !== null, passkeys, recoveryCodesLeft };
}

/** As `user show`, the admin API and `review` print a person's factors. */
export interface FactorView {
  totp: boolean;
  passkeys: number;
  recovery_codes_left: number;
  /** Factors the person's roles require, and which roles (role require-factor). */
  required: FactorRequirement[];
  /** Of those, the ones the person cannot give yet (the review's missing_required_factor). */
  missing: FactorRequirement[];
}

export const factorView = (s: FactorStatus, required: readonly FactorRequirement[]): FactorView => ({
  totp: s.totp,
  passkeys: s.passkeys,
  recovery_codes_left: s.recoveryCodesLeft,
  required: [...required],
  missing: missingFactors(required, s),
});

/**
 * A person's factors against what their roles require, read from the database (`user show`,
 * GET /users/{email} and its /factors): the requirements are read with them, not from this
 * instance's policy snapshot, so an administrator sees a change they just made.
 */
export async function personFactors(h: Reader, userId: string, grants: readonly RoleGrant[], now: number): Promise<FactorView> {
  const [status, roles] = await Promise.all([factorStatus(h, userId), rolesRequiringFactors(h)]);
  const byRole = new Map(roles.map((r) => [r.name, { requireFactor: parseRequiredFactor(r.requireFactor) }]));
  return factorView(status, requiredFactorsOf(byRole, grants, now));
}

// Second factors and what a role may require of the people who hold it. Pure rules: no I/O.
//
// amr values (RFC 8176 §2): `otp` for a TOTP code; a passkey is `hwk` (a key held in hardware,
// bound to one device) or `swk` (a synced passkey, backup eligible: the key also lives in
// software, in the provider's sync fabric), each with `user` when the authenticator verified
// the person (govauth requires user verification for every passkey ceremony).
import { reachableRoles } from './role-hierarchy.ts';

/** What a role may require (`govauth role require-factor`): a passkey, a TOTP code, or either. */
export type RequiredFactor = 'passkey' | 'totp' | 'any';
export const REQUIRED_FACTORS: readonly RequiredFactor[] = ['passkey', 'totp', 'any'];

/** amr values that prove a second factor. */
const SECOND_FACTOR_AMR: ReadonlySet<string> = new Set(['otp', 'hwk', 'swk']);
const PASSKEY_AMR: ReadonlySet<string> = new Set(['hwk', 'swk']);

/**
 * A person's second factors, the one shape every reader uses (factor-status.ts reads it; the
 * account page, `user show`, the admin API and `review` print it through factorView).
 * Recovery codes back up TOTP: they are not a factor of their own, so they count for no
 * requirement (a role requiring a passkey is satisfied by a passkey only).
 */
export interface FactorStatus {
  readonly totp: boolean;
  /** Registered passkeys (WebAuthn). */
  readonly passkeys: number;
  /** Unused recovery codes. */
  readonly recoveryCodesLeft: number;
}

/** The factors proper (recovery codes left out), for rules that only ask which factors exist. */
export type Factors = Pick<FactorStatus, 'totp' | 'passkeys'>;

/** What a role's requirement names, and which of the person's roles require it. */
export interface FactorRequirement {
  readonly factor: RequiredFactor;
  readonly roles: string[];
}

export const provesSecondFactor = (amr: readonly string[] | undefined): boolean => Boolean(amr?.some((m) => SECOND_FACTOR_AMR.has(m)));

/** Whether a sign-in (its amr) used the factor a role requires. */
export function amrSatisfies(amr: readonly string[] | undefined, factor: RequiredFactor): boolean {
  if (!amr) return false;
  if (factor === 'passkey') return amr.some((m) => PASSKEY_AMR.has(m));
  if (factor === 'totp') return amr.includes('otp');
  return provesSecondFactor(amr);
}

/** Whether a person can give the factor at all. */
export function hasFactor(status: Factors, factor: RequiredFactor): boolean {
  if (factor === 'passkey') return status.passkeys > 0;
  if (factor === 'totp') return status.totp;
  return status.totp || status.passkeys > 0;
}

/** amr of a passkey ceremony (RFC 8176): synced passkeys are software keys. */
export function passkeyAmr(backupEligible: boolean, userVerified: boolean): string[] {
  return [backupEligible ? 'swk' : 'hwk', ...(userVerified ? ['user'] : [])];
}

/**
 * The factors required of someone holding `grants` at `now`, from the roles that require one
 * (several roles may each require their own). Expired grants require nothing.
 */
export function requiredFactorsOf(
  roles: ReadonlyMap<string, { readonly requireFactor?: RequiredFactor | null | undefined; readonly includes?: ReadonlySet<string> | undefined }>,
  grants: readonly { readonly role: string; readonly expiresAt: number | null }[],
  now: number,
): FactorRequirement[] {
  const byFactor = new Map<RequiredFactor, Set<string>>();
  const inclusions = { get: (name: string) => roles.get(name)?.includes };
  for (const g of grants) {
    if (g.expiresAt !== null && g.expiresAt <= now) continue;
    // A role held through another one's inclusion (role-hierarchy.ts) requires its factor too.
    for (const name of reachableRoles(inclusions, g.role)) {
      const factor = roles.get(name)?.requireFactor;
      if (factor) byFactor.set(factor, (byFactor.get(factor) ?? new Set()).add(name));
    }
  }
  return [...byFactor].map(([factor, r]) => ({ factor, roles: [...r].sort() }));
}

/** The required factors a person cannot give (the review's `missing_required_factor`). */
export const missingFactors = (required: readonly FactorRequirement[], status: Factors): FactorRequirement[] =>
  required.filter((r) => !hasFactor(status, r.factor));

const FACTOR_NAME: Record<RequiredFactor, string> = { passkey: 'a passkey', totp: 'an authenticator app (TOTP)', any: 'a second factor (a passkey or an authenticator app)' };
export const describeFactor = (factor: RequiredFactor): string => FACTOR_NAME[factor];

/** A stored Role.requireFactor. Written only through validation; anything else fails closed to the strictest. */
export function parseRequiredFactor(stored: string | null): RequiredFactor | null {
  if (stored === null) return null;
  return (REQUIRED_FACTORS as readonly string[]).includes(stored) ? (stored as RequiredFactor) : 'passkey';
}

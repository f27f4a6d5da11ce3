// Which second factors a person must keep: pure rules, shared by every way a factor is removed
// (the account page for TOTP, the passkeys page, an administrator's reset is the exception:
// it is how a locked-out person is helped, and it ends their sessions).
//
// A role "requires a second factor" when it carries a high-sensitivity scope (those are only
// issued after a recent second factor, step-up.ts) or when a per-role factor requirement says so
// (`requiresFactor`, filled in by the per-role requirement when it lands; absent: none). Removing
// the last factor while such a role is held would leave the person unable to use it and unable to
// enrol again with a fresh second factor, so it is refused with the roles named.
import { isHighSensitivity, type PolicySnapshot, type RoleDef, type RoleGrant } from './policy-model.ts';

/** Where a person stands, for the account page, `user show` and `review`. */
export interface FactorStatus {
  readonly totp: boolean;
  /** Registered passkeys (WebAuthn); 0 until passkeys are counted (factor-status.ts). */
  readonly passkeys: number;
  /** Unused recovery codes. They back up a factor; they are not one of their own. */
  readonly recoveryCodesLeft: number;
}

export type Factor = 'totp' | 'passkey';

/** Factors that prove possession on their own (recovery codes only stand in for them). */
export const factorCount = (s: Pick<FactorStatus, 'totp' | 'passkeys'>): number => (s.totp ? 1 : 0) + s.passkeys;

/** The active roles of `grants` that require a second factor, by name, sorted. */
export function rolesRequiringMfa(snapshot: PolicySnapshot, grants: readonly RoleGrant[], now: number, requiresFactor: (role: RoleDef) => boolean = () => false): string[] {
  const out = new Set<string>();
  for (const grant of grants) {
    if (grant.expiresAt !== null && grant.expiresAt <= now) continue;
    const role = snapshot.roles.get(grant.role);
    if (!role) continue;
    if (requiresFactor(role) || [...role.scopes].some((s) => isHighSensitivity(snapshot, s))) out.add(role.name);
  }
  return [...out].sort();
}

export type RemovalDecision = { readonly ok: true; readonly last: boolean } | { readonly ok: false; readonly message: string };

/**
 * May one factor of kind `removing` go? Refused when it is the person's last factor and
 * `requiredBy` (rolesRequiringMfa) names a role. `last`: nothing is left afterwards, so the
 * recovery codes go with it (they stand in for a factor that no longer exists).
 */
export function decideFactorRemoval(status: FactorStatus, removing: Factor, requiredBy: readonly string[]): RemovalDecision {
  const has = removing === 'totp' ? status.totp : status.passkeys > 0;
  if (!has) return { ok: false, message: removing === 'totp' ? 'You have no authenticator app set up.' : 'You have no passkey registered.' };
  const left = factorCount(status) - 1;
  if (left === 0 && requiredBy.length) {
    const roles = requiredBy.join(', ');
    return {
      ok: false,
      message: `This is your last second factor, and your role${requiredBy.length === 1 ? '' : 's'} ${roles} require${requiredBy.length === 1 ? 's' : ''} one. Add another factor first (an authenticator app or a passkey), then remove this one.`,
    };
  }
  return { ok: true, last: left === 0 };
}

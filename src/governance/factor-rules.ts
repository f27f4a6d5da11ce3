// Which second factors a person must keep: the one rule for every way a person removes a factor
// (TOTP on /account/totp, totp-enrolment.ts; a passkey on /account/passkeys, passkeys.ts). An
// administrator's reset is the exception: it is how a locked-out person is helped, and it ends
// their sessions (user-registry.ts resetMfa).
//
// Two kinds of role need a factor:
// - a role that requires one by name (`govauth role require-factor`, factors.ts): the last factor
//   of that kind may not go (a role requiring a passkey is satisfied by a passkey only; TOTP and
//   recovery codes do not count for it);
// - a role that carries a high-sensitivity scope (those are only issued after a recent second
//   factor, step-up.ts): the last factor of any kind may not go.
// Removing such a factor would leave the person unable to use the role and unable to enrol again
// with a fresh second factor, so it is refused with the roles named.
import { describeFactor, hasFactor, requiredFactorsOf, type FactorStatus, type Factors } from './factors.ts';
import { isHighSensitivity, roleInclusions, type PolicySnapshot, type RoleGrant } from './policy-model.ts';
import { reachableRoles } from './role-hierarchy.ts';

export type Factor = 'totp' | 'passkey';

/** Factors that prove possession on their own (recovery codes only stand in for TOTP). */
export const factorCount = (s: Factors): number => (s.totp ? 1 : 0) + s.passkeys;

/**
 * The active roles of `grants` that require a second factor (a high-sensitivity scope or a
 * required factor), by name, sorted: the account page names them.
 */
export function rolesRequiringMfa(snapshot: PolicySnapshot, grants: readonly RoleGrant[], now: number): string[] {
  const out = new Set<string>();
  const inclusions = roleInclusions(snapshot);
  for (const grant of grants) {
    if (grant.expiresAt !== null && grant.expiresAt <= now) continue;
    // The granted role and every role it includes (role-hierarchy.ts): their scopes are held too.
    for (const name of reachableRoles(inclusions, grant.role)) {
      const role = snapshot.roles.get(name);
      if (role && (role.requireFactor || [...role.scopes].some((s) => isHighSensitivity(snapshot, s)))) out.add(role.name);
    }
  }
  return [...out].sort();
}

export type RemovalDecision = { readonly ok: true; readonly last: boolean } | { readonly ok: false; readonly message: string };

const rolesPhrase = (roles: readonly string[]): string => `your role${roles.length === 1 ? '' : 's'} ${roles.join(', ')} require${roles.length === 1 ? 's' : ''}`;

/**
 * May one factor of kind `removing` go, for a person holding `grants` at `now` whose factors are
 * `status`? `last`: nothing is left afterwards, so the recovery codes go with it (they stand in
 * for a factor that no longer exists).
 */
export function decideFactorRemoval(input: {
  readonly snapshot: PolicySnapshot;
  readonly grants: readonly RoleGrant[];
  readonly now: number;
  readonly status: FactorStatus;
  readonly removing: Factor;
}): RemovalDecision {
  const { status, removing } = input;
  const has = removing === 'totp' ? status.totp : status.passkeys > 0;
  if (!has) return { ok: false, message: removing === 'totp' ? 'You have no authenticator app set up.' : 'You have no passkey registered.' };
  const after: Factors = removing === 'totp' ? { totp: false, passkeys: status.passkeys } : { totp: status.totp, passkeys: status.passkeys - 1 };
  // A factor a role requires by name: the last one of that kind stays.
  for (const r of requiredFactorsOf(input.snapshot.roles, input.grants, input.now)) {
    if (hasFactor(status, r.factor) && !hasFactor(after, r.factor)) {
      const phrase = rolesPhrase(r.roles);
      return { ok: false, message: `${phrase[0]?.toUpperCase()}${phrase.slice(1)} ${describeFactor(r.factor)}, and this is your last one. Add another first, then remove this one.` };
    }
  }
  // A high-sensitivity role (or any requirement): the last factor of any kind stays.
  const left = factorCount(after);
  const requiredBy = rolesRequiringMfa(input.snapshot, input.grants, input.now);
  if (left === 0 && requiredBy.length) {
    return {
      ok: false,
      message: `This is your last second factor, and ${rolesPhrase(requiredBy)} one. Add another factor first (an authenticator app or a passkey), then remove this one.`,
    };
  }
  return { ok: true, last: left === 0 };
}

// People as oidc-provider accounts, and the claims tokens carry.
// - findAccount: a disabled or deleted person has no account, so their refresh tokens stop
//   working at once (oidc-provider answers invalid_grant "referenced account not found").
// - Access tokens (RFC 9068 §2.2) carry `roles` (the roles that contributed a granted scope),
//   and for people `acr`, `amr` and `auth_time` (§2.2.1) so resource servers can demand MFA.
import type { Configuration } from 'oidc-provider';
import { contributingRoles, heldScopes } from '../governance/policy-model.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import { decisionFor, grantSource } from './resource-indicators.ts';

export function createFindAccount(deps: { policy: PolicyStore }): NonNullable<Configuration['findAccount']> {
  return (_ctx, sub) => {
    const user = deps.policy.user(sub);
    if (!user || user.disabled) return undefined;
    return {
      accountId: user.id,
      claims: () => ({ sub: user.id, email: user.email }),
    };
  };
}

export function createExtraTokenClaims(deps: { policy: PolicyStore; now: () => number }): NonNullable<Configuration['extraTokenClaims']> {
  return (ctx, token) => {
    if (token.kind === 'ClientCredentials') {
      const decision = decisionFor(ctx);
      return decision ? { roles: [...decision.roles] } : undefined;
    }
    const user = token.accountId ? deps.policy.user(token.accountId) : undefined;
    if (!user) return undefined;
    const held = heldScopes(deps.policy.snapshot(), user.roles, deps.now());
    const source = grantSource(ctx);
    return {
      roles: contributingRoles(held, (token.scope ?? '').split(' ').filter(Boolean)),
      // Lets introspection find every token of a grant once it is revoked (refresh-token reuse,
      // RFC 7009 revocation of the refresh token, sign-out, `govauth revoke --grant`).
      ...(token.grantId && { grant_id: token.grantId }),
      ...(source?.acr && { acr: source.acr }),
      ...(source?.amr && { amr: [...source.amr] }),
      ...(typeof source?.authTime === 'number' && { auth_time: source.authTime }),
    };
  };
}

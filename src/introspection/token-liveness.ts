// Is a token that verified (an access token's signature, a refresh token's stored row) still good
// under the revocation state and current policy? One function for access and refresh tokens, so
// introspection can never apply fewer checks to one kind (a refresh token's introspection used to
// skip role revocations). All from memory: no I/O.
import { contributingRoles, currentUserScopes, heldScopes, mayUseAudience } from '../governance/policy-model.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import type { TokenFacts } from '../governance/revocation-state.ts';

export type LivenessReason = 'revoked_token' | 'revoked_grant' | 'revoked_user' | 'revoked_client' | 'revoked_role' | 'client_disabled' | 'audience_not_allowed' | 'user_disabled' | 'scope_no_longer_granted';

export const isUserSubject = (sub: unknown): sub is string => typeof sub === 'string' && sub.startsWith('usr_');

export interface LiveTokenFacts extends Omit<TokenFacts, 'roles'> {
  readonly clientId: string;
  /** The audiences (resources) its scopes are for. */
  readonly audiences: readonly string[];
  /** Its API scopes (OpenID Connect scopes such as openid are not governed). */
  readonly scopes: readonly string[];
  /** The roles it carries (an access token's `roles`); absent: those that grant its scopes now. */
  readonly roles?: readonly string[] | undefined;
  /**
   * 'all': every scope must still be granted (an access token carries them all).
   * 'some': one is enough (a refresh yields the scopes still granted; none is invalid_grant).
   */
  readonly scopeRule: 'all' | 'some';
}

export function tokenLiveness(deps: { policy: PolicyStore; now: () => number }, t: LiveTokenFacts): LivenessReason | undefined {
  const snapshot = deps.policy.snapshot();
  const now = deps.now();
  const user = t.userId === undefined ? undefined : deps.policy.user(t.userId);
  const client = snapshot.clients.get(t.clientId);
  const held = heldScopes(snapshot, user ? user.roles : (client?.roles ?? []), now);
  const roles = t.roles ?? contributingRoles(held, t.scopes);
  const revoked = deps.policy.revocations.check({ ...t, roles });
  if (revoked) return `revoked_${revoked}`;

  if (!client || client.disabled) return 'client_disabled';
  // The allowance the token was issued under (policy-model.ts mayUseAudience) still holds.
  if (!t.audiences.every((aud) => mayUseAudience(client, aud))) return 'audience_not_allowed';
  const allowed = new Set<string>();
  if (t.userId !== undefined) {
    if (!user || user.disabled) return 'user_disabled';
    for (const aud of t.audiences) for (const s of currentUserScopes(snapshot, user, client, aud, now).scopes) allowed.add(s);
  } else {
    for (const aud of t.audiences) {
      const resource = snapshot.resources.get(aud);
      for (const s of held.keys()) if (resource?.scopes.has(s) && (client.scopeCeiling === null || client.scopeCeiling.has(s))) allowed.add(s);
    }
  }
  // A role grant revoked or expired, a role changed, a scope removed from the resource: the
  // token no longer reflects policy.
  const granted = t.scopes.filter((s) => allowed.has(s));
  const ok = t.scopeRule === 'all' ? granted.length === t.scopes.length : t.scopes.length === 0 || granted.length > 0;
  return ok ? undefined : 'scope_no_longer_granted';
}

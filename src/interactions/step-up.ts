// Step-up authentication for high-sensitivity scopes. A token may carry one only if the
// person proved a second factor (TOTP) recently: in this sign-in, or within
// GOVAUTH_MFA_MAX_AGE. At the authorization endpoint an extra check on oidc-provider's login
// prompt asks for the code when it is needed and possible (the person holds such a scope and
// has TOTP enrolled); at the token endpoint the same rule filters what a code or refresh token
// can still yield.
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { heldScopes, isHighSensitivity, mfaFresh } from '../governance/policy-model.ts';
import type { PolicyStore } from '../governance/policy-store.ts';

/** Documented acr values: password only, and password plus TOTP. */
export const ACR_PASSWORD = 'urn:govauth:acr:pwd';
export const ACR_MFA = 'urn:govauth:acr:mfa';
export const STEP_UP_REASON = 'govauth_step_up';

export { mfaFresh }; // the rule lives with the policy it serves (policy-model.ts)

/** High-sensitivity scopes in this authorization request that the signed-in person holds. */
export function requestedHighScopes(ctx: KoaContextWithOIDC, policy: PolicyStore, accountId: string, now: number): string[] {
  const user = policy.user(accountId);
  if (!user) return [];
  const snapshot = policy.snapshot();
  const held = heldScopes(snapshot, user.roles, now);
  const resources = Object.keys(ctx.oidc.resourceServers ?? {});
  return [...ctx.oidc.requestParamScopes].filter(
    (s) => isHighSensitivity(snapshot, s) && held.has(s) && resources.some((r) => snapshot.resources.get(r)?.scopes.has(s)),
  );
}

export function createInteractionPolicy(deps: { policy: PolicyStore; mfaMaxAge: number; now: () => number }) {
  const { Check, base } = interactionPolicy;
  const policy = base();
  const login = policy.get('login');
  login?.checks.add(
    new Check(STEP_UP_REASON, 'a recent second factor is required for high-sensitivity scopes', (ctx: KoaContextWithOIDC) => {
      const { session } = ctx.oidc;
      const accountId = session?.accountId;
      if (!accountId) return Check.NO_NEED_TO_PROMPT;
      if (!deps.policy.user(accountId)?.mfaEnrolled) return Check.NO_NEED_TO_PROMPT; // consent explains
      if (!requestedHighScopes(ctx, deps.policy, accountId, deps.now()).length) return Check.NO_NEED_TO_PROMPT;
      return mfaFresh(session.amr, session.loginTs, deps.mfaMaxAge, deps.now()) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    }),
  );
  return policy;
}

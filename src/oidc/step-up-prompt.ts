// The step-up check on oidc-provider's login prompt (governance/step-up.ts says the rule): at
// the authorization endpoint it asks for the second factor when a high-sensitivity scope needs
// it and the person can give it (holds such a scope, has TOTP enrolled), or when the account
// pages ask for it before a high-sensitivity scope is delegated (account-session.ts).
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { heldScopes, isHighSensitivity, mfaFresh } from '../governance/policy-model.ts';
import { holdsScopeGrant } from '../governance/scope-grants-model.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import { STEP_UP_REASON } from '../governance/step-up.ts';
import type { Clock } from '../time/clock.ts';
import { accountAsksStepUp } from './account-session.ts';

/** High-sensitivity scopes in this authorization request that the signed-in person holds. */
function requestedHighScopes(ctx: KoaContextWithOIDC, policy: PolicyStore, accountId: string, now: number): string[] {
  const user = policy.user(accountId);
  if (!user) return [];
  const snapshot = policy.snapshot();
  const held = heldScopes(snapshot, user.roles, now);
  const resources = Object.keys(ctx.oidc.resourceServers ?? {});
  return [...ctx.oidc.requestParamScopes].filter(
    (s) => isHighSensitivity(snapshot, s) && ((held.has(s) && resources.some((r) => snapshot.resources.get(r)?.scopes.has(s))) || holdsScopeGrant(user.scopeGrants, resources, s, now)),
  );
}

export function createInteractionPolicy(deps: { policy: PolicyStore; mfaMaxAge: number; now: Clock }) {
  const { Check, base } = interactionPolicy;
  const policy = base();
  const login = policy.get('login');
  login?.checks.add(
    new Check(STEP_UP_REASON, 'a recent second factor is required for high-sensitivity scopes', (ctx: KoaContextWithOIDC) => {
      const { session } = ctx.oidc;
      const accountId = session?.accountId;
      if (!accountId) return Check.NO_NEED_TO_PROMPT;
      if (!deps.policy.user(accountId)?.mfaEnrolled) return Check.NO_NEED_TO_PROMPT; // consent explains
      if (!accountAsksStepUp(ctx) && !requestedHighScopes(ctx, deps.policy, accountId, deps.now()).length) return Check.NO_NEED_TO_PROMPT;
      return mfaFresh(session.amr, session.loginTs, deps.mfaMaxAge, deps.now()) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    }),
  );
  return policy;
}

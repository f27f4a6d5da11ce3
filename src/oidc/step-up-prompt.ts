// The step-up check on oidc-provider's login prompt (governance/step-up.ts says the rule): at
// the authorization endpoint it asks for the second factor when a high-sensitivity scope needs
// it and the person can give it (holds such a scope, has TOTP enrolled), or when the account
// pages ask for it before a high-sensitivity scope is delegated (account-session.ts).
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { amrSatisfies, hasFactor, requiredFactorsOf } from '../governance/factors.ts';
import { heldScopes, isHighSensitivity, personMfaFresh, type UserDef } from '../governance/policy-model.ts';
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

/** Whether this request asks for a scope the person holds that requires a phishing-resistant sign-in. */
function requestedPhrScopes(ctx: KoaContextWithOIDC, policy: PolicyStore, accountId: string, now: number): boolean {
  const user = policy.user(accountId);
  if (!user) return false;
  const snapshot = policy.snapshot();
  const held = heldScopes(snapshot, user.roles, now);
  return [...ctx.oidc.requestParamScopes].some((s) => snapshot.scopes.get(s)?.requireAcr === 'phr' && held.has(s));
}

/** A factor a role of this person requires, which they have, but this sign-in did not use. */
function roleFactorMissing(policy: PolicyStore, user: UserDef, amr: readonly string[] | undefined, now: number): boolean {
  const status = { totp: user.totpEnrolled ?? user.mfaEnrolled, passkeys: user.passkeys ?? 0 };
  return requiredFactorsOf(policy.snapshot().roles, user.roles, now).some((r) => hasFactor(status, r.factor) && !amrSatisfies(amr, r.factor));
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
      const user = deps.policy.user(accountId);
      if (!user?.mfaEnrolled) return Check.NO_NEED_TO_PROMPT; // consent explains
      // A role's required factor (role require-factor) is asked at every sign-in, whatever is
      // requested, when the person can give it (the access review flags those who cannot).
      if (roleFactorMissing(deps.policy, user, session.amr, deps.now())) return Check.REQUEST_PROMPT;
      // A requested scope that only a passkey sign-in may carry (scope require-acr phr): ask for the passkey.
      if ((user.passkeys ?? 0) > 0 && !amrSatisfies(session.amr, 'passkey') && requestedPhrScopes(ctx, deps.policy, accountId, deps.now())) return Check.REQUEST_PROMPT;
      if (!accountAsksStepUp(ctx) && !requestedHighScopes(ctx, deps.policy, accountId, deps.now()).length) return Check.NO_NEED_TO_PROMPT;
      return personMfaFresh(deps.policy.snapshot(), user, session.amr, session.loginTs, deps.mfaMaxAge, deps.now()) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    }),
  );
  return policy;
}

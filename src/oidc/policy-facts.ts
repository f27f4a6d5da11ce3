// The request context the Cedar policy step needs (governance/abac/scope-policy.ts), read from
// a token request: when, from where (ctx.ip, decided once in src/http/request-context.ts), how
// the person authenticated (the code or refresh token's amr/auth_time), the proof-of-possession
// binding the token will get, and the delegation depth. No policy logic here.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AbacFacts } from '../governance/abac/abac-decision.ts';
import type { PolicyRequest } from '../governance/abac/scope-policy.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import { requestBinding } from './proof-of-possession.ts';
import { CIBA_GRANT, CIBA_POLICY_CONTEXT } from '../governance/client-ciba.ts';
import { isCibaLineage } from './ciba-approval.ts';

/** The policy step's input for this request; undefined when no policy set is active (roles only). */
export function policyRequestFor(
  policy: Pick<PolicyStore, 'abac'>,
  facts: Omit<AbacFacts, 'amr' | 'authTime' | 'delegationDepth'> & Partial<Pick<AbacFacts, 'amr' | 'authTime' | 'delegationDepth'>>,
): PolicyRequest | undefined {
  const active = policy.abac?.active();
  if (!active || active.state === 'none') return undefined;
  return { active, facts: { amr: [], authTime: undefined, delegationDepth: 0, ...facts } };
}

/**
 * For a token endpoint request (policy step): its grant type, address and binding. A CIBA token
 * is judged as the agent acting for the person (client-ciba.ts CIBA_POLICY_CONTEXT), and so is a
 * refresh of a CIBA grant (oidc-provider's gty keeps the chain's origin: "ciba refresh_token"),
 * still as the refresh_token grant it is.
 */
export function policyFactsOf(ctx: KoaContextWithOIDC, at: number, source?: { amr?: readonly string[] | undefined; authTime?: number | undefined; gty?: string | undefined }) {
  const grantType = ctx.oidc.params?.grant_type;
  const cibaRefresh = grantType === 'refresh_token' && isCibaLineage(source?.gty);
  return {
    at,
    sourceIp: ctx.ip || undefined,
    binding: requestBinding(ctx),
    grantType: typeof grantType === 'string' ? grantType : 'authorization_code',
    amr: source?.amr ?? [],
    authTime: source?.authTime,
    ...(grantType === CIBA_GRANT && CIBA_POLICY_CONTEXT),
    ...(cibaRefresh && { delegationDepth: CIBA_POLICY_CONTEXT.delegationDepth }),
  };
}

// Is a token that verified (an access token's signature, a refresh token's stored row) still good
// under the revocation state and current policy? One function for access and refresh tokens, so
// introspection can never apply fewer checks to one kind (a refresh token's introspection used to
// skip role revocations). All from memory: no I/O. The rules are issuance's own: the token is
// evaluated as a fresh request for what it carries (governance/effective-grant.ts), at the same
// instant for every audience it names.
import type { ChainHop } from '../governance/delegation.ts';
import { evaluateGrant, livenessRefusal, type GrantPrincipal, type LivenessRefusal } from '../governance/effective-grant.ts';
import { chainLiveness, type ChainLivenessRefusal } from '../governance/token-exchange.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import type { TokenFacts } from '../governance/revocation-state.ts';
import type { Clock } from '../time/clock.ts';
import type { TokenBinding } from '../governance/proof-of-possession.ts';
import type { PolicyRequest } from '../governance/abac/scope-policy.ts';
import { CIBA_POLICY_CONTEXT } from '../governance/client-ciba.ts';

export type LivenessReason = LivenessRefusal | ChainLivenessRefusal;

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
  /** A delegated token's actors (RFC 8693 §4.1 act), current first; the current one is clientId. */
  readonly chain?: readonly ChainHop[] | undefined;
  /** The jtis a delegated token was exchanged from (act-claim.ts exchanged_from). */
  readonly exchangedFrom?: readonly string[] | undefined;
  /** How its person authenticated and how it is bound (its amr, auth_time, cnf): the policy step's context. */
  readonly amr?: readonly string[] | undefined;
  readonly authTime?: number | undefined;
  readonly binding?: TokenBinding | undefined;
  /** The CIBA request it was approved in (act-claim.ts approvalOf): judged as the agent acting for the person. */
  readonly cibaRequest?: string | undefined;
}

/**
 * The policy step for a token, as for a role change: judged again by the current policy set only
 * if it was issued before the last change to the set, the zones, or the attributes or labels of
 * its person, client, resource or scopes (a later token was judged by this very state at issuance). Judged in its issuance context (time = iat, its amr,
 * binding and chain depth); its source address is not in the token, so no zone applies (fail
 * closed: a policy that needs a zone no longer permits it).
 */
function livePolicy(policy: Pick<PolicyStore, 'abac'>, t: LiveTokenFacts): PolicyRequest | undefined {
  const abac = policy.abac;
  const active = abac?.active();
  if (!abac || !active || active.state === 'none') return undefined;
  const subjects = [
    ...(t.userId === undefined ? [] : [{ kind: 'person' as const, key: t.userId }]),
    { kind: 'client' as const, key: t.clientId },
    ...t.audiences.map((key) => ({ kind: 'resource' as const, key })),
    ...t.scopes.map((key) => ({ kind: 'scope' as const, key })),
  ];
  if (t.iat * 1000 > abac.changedAt(subjects)) return undefined;
  const depth = t.chain?.length ?? 0;
  const facts = {
    at: t.iat * 1000,
    sourceIp: undefined,
    amr: t.amr ?? [],
    authTime: t.authTime,
    binding: t.binding ?? 'bearer',
    delegationDepth: depth,
    grantType: t.userId === undefined ? 'client_credentials' : depth ? 'urn:ietf:params:oauth:grant-type:token-exchange' : 'authorization_code',
  };
  // A CIBA token as at its issuance: the agent acting for the person (client-ciba.ts).
  return { active, facts: t.cibaRequest !== undefined && t.userId !== undefined ? { ...facts, ...CIBA_POLICY_CONTEXT } : facts };
}

const CLIENT: GrantPrincipal = { kind: 'client' };

export function tokenLiveness(deps: { policy: Pick<PolicyStore, 'snapshot' | 'user' | 'revocations' | 'abac'>; now: Clock }, t: LiveTokenFacts): LivenessReason | undefined {
  const snapshot = deps.policy.snapshot();
  const now = deps.now();
  // Its second factor was checked when it was issued (acr/amr/auth_time say how, RFC 9068 §2.2.1).
  const principal: GrantPrincipal = t.userId === undefined ? CLIENT : { kind: 'user', user: deps.policy.user(t.userId), mfa: 'checked_at_issuance' };
  const client = snapshot.clients.get(t.clientId);
  const { scopes, audiences } = t;
  // The revocation state covers the token itself once (with the first audience); the policy
  // rules are applied for each audience its scopes are for (none: a sign-in only).
  const policy = livePolicy(deps.policy, t);
  const first = evaluateGrant(snapshot, deps.policy.revocations, { principal, client, audience: audiences[0], requested: scopes, now, presented: t, policy });
  const evaluations = audiences.length > 1 ? [first, ...audiences.slice(1).map((audience) => evaluateGrant(snapshot, deps.policy.revocations, { principal, client, audience, requested: scopes, now, policy }))] : [first];
  const refusal = livenessRefusal(evaluations, scopes, t.scopeRule);
  if (refusal || !t.chain?.length) return refusal;
  // A delegated token is also only as good as every actor and delegation of its chain.
  const user = principal.kind === 'user' ? principal.user : undefined;
  const audience = audiences[0];
  if (!user || audience === undefined) return 'delegation_withdrawn';
  return chainLiveness(snapshot, deps.policy.revocations, { chain: t.chain, exchangedFrom: t.exchangedFrom ?? [], user, audience, scopes, iat: t.iat, now });
}

/** How a token's person authenticated, how it is bound, the CIBA approval it acts on: livePolicy's context. */
export type IssuanceContext = Pick<LiveTokenFacts, 'amr' | 'authTime' | 'binding' | 'cibaRequest'>;

/**
 * A token's issuance context from the fields its claims and its audit record name alike (amr and
 * auth_time, RFC 9068 §2.2.1), with its binding and CIBA approval as each source states them (a
 * JWT's cnf and act, the record's binding and ciba_request). Introspection (access-token-check.ts)
 * and the status list (statuslist/token-facts.ts) both read it here, so the list judges a token in
 * the context introspection does: a CIBA token as the agent, a DPoP token as bound.
 */
export function issuanceContextOf(fields: Readonly<Record<string, unknown>>, binding: TokenBinding, cibaRequest: string | undefined): IssuanceContext {
  return {
    amr: Array.isArray(fields.amr) ? fields.amr.map(String) : undefined,
    authTime: typeof fields.auth_time === 'number' ? fields.auth_time : undefined,
    binding,
    cibaRequest,
  };
}

/** A JWT's binding from its cnf claim: jkt (RFC 9449 §6.1), x5t#S256 (RFC 8705 §3.1), or none. */
export function tokenBindingOfClaims(cnf: unknown): TokenBinding {
  if (typeof cnf !== 'object' || cnf === null) return 'bearer';
  if (typeof (cnf as { jkt?: unknown }).jkt === 'string') return 'dpop';
  return typeof (cnf as Record<string, unknown>)['x5t#S256'] === 'string' ? 'mtls' : 'bearer';
}

// Token exchange (RFC 8693) under governance: what an agent may receive when it presents a
// person's access token, and whether a delegated token is still good. Pure, like the effective
// grant it builds on (effective-grant.ts): issuance and introspection call the same rules.
//
// An exchange never yields more than any of these allow (RFC 8693 §2.1, §5 "the AS must
// evaluate whether the client may act"):
// - the subject token: same resource, at most its scopes, at most its remaining life;
// - the person, now: their effective scopes for the resource (roles, second factor for
//   high-sensitivity scopes judged from the subject token's amr/auth_time);
// - the agent: its scope ceiling and its allowance for the audience;
// - every delegation of the chain: its scopes, depth, lifetime cap and end.
// A token carrying `act` yields a chain one actor longer (or the same chain, when its current
// actor exchanges it again to narrow it), never a shorter one.
import { MAX_EXCHANGES } from './act-claim.ts';
import { evaluateGrant, type Grant } from './effective-grant.ts';
import { chainRefusal, chainTtlCap, delegatedScopes, findDelegation, isDelegable, MAX_CHAIN_DEPTH, TOKEN_EXCHANGE_GRANT, type ChainHop, type DelegationRefusalReason } from './delegation.ts';
import { tokenLifetime, type ClientDef, type MfaFreshness, type PolicyDefaults, type PolicySnapshot, type UserDef } from './policy-model.ts';
import type { RevocationKind, RevocationState } from './revocation-state.ts';
import type { PolicyRequest } from './abac/scope-policy.ts';

/** What govauth learned from the verified subject token (an access token it issued for a person). */
export interface SubjectToken {
  readonly jti: string;
  /** The jtis it was itself exchanged from (act-claim.ts exchanged_from). */
  readonly exchangedFrom: readonly string[];
  readonly audience: string;
  readonly scopes: readonly string[];
  /** Seconds. */
  readonly exp: number;
  /** Its actors, current first (empty: the person's own token). */
  readonly chain: readonly ChainHop[];
  /** RFC 8693 §4.4: the client id its may_act names, when it names one. */
  readonly mayAct?: string | undefined;
  /**
   * Seconds: when what it was minted from began (its source_iat, else its iat). The new token
   * inherits it, so a revocation of the person, of the new actor or of a role that covers the
   * subject token covers what is exchanged from it too (revocation-state.ts).
   */
  readonly sourceIat: number;
  readonly grantId: string | undefined;
}

export interface ExchangeRequest {
  /** The subject token's person (undefined: no longer exists). */
  readonly user: UserDef | undefined;
  readonly mfa: MfaFreshness;
  /** The authenticated client: the new actor. */
  readonly actor: ClientDef | undefined;
  readonly audience: string;
  /** Scopes asked for; undefined: everything delegable. */
  readonly requested: readonly string[] | undefined;
  readonly subject: SubjectToken;
  /** Epoch ms. */
  readonly now: number;
  /** The active Cedar policy set and the request's context (its delegation depth is set here, from the new chain). */
  readonly policy?: PolicyRequest | undefined;
}

type ExchangeError = 'invalid_grant' | 'invalid_target' | 'invalid_scope' | 'unauthorized_client' | 'invalid_client' | 'temporarily_unavailable';

export interface ExchangeRefusal {
  readonly ok: false;
  readonly error: ExchangeError;
  /** Stable, for the audit record and metrics. */
  readonly reason: string;
  readonly description: string;
}

export interface Exchange {
  readonly ok: true;
  /** The grant the token carries (its ttl already capped by the subject token and the chain). */
  readonly grant: Grant;
  /** The new token's chain, current actor first. */
  readonly chain: readonly ChainHop[];
  /** The jtis it is exchanged from: the subject token's, then those it was exchanged from. */
  readonly exchangedFrom: readonly string[];
}

const refuse = (error: ExchangeError, reason: string, description: string): ExchangeRefusal => ({ ok: false, error, reason, description });

const DELEGATION_REFUSALS: Record<DelegationRefusalReason, ExchangeRefusal> = {
  // RFC 6749 §5.2: the authenticated client is not authorized to use this grant (for this person).
  no_delegation: refuse('unauthorized_client', 'no_delegation', 'no delegation lets this client act for this person'),
  // RFC 8693 §2.2.2: unwilling to issue a token for the target.
  resource_not_delegated: refuse('invalid_target', 'resource_not_delegated', 'no delegation lets this client act for this person on this resource'),
  chain_too_deep: refuse('invalid_grant', 'chain_too_deep', 'the delegation chain would be longer than its delegations allow'),
  delegation_withdrawn: refuse('invalid_grant', 'delegation_withdrawn', 'a delegation of the subject token no longer allows it'),
  actor_repeated: refuse('invalid_grant', 'actor_repeated', 'this client already acts in the subject token’s chain'),
};

/** The new chain: the subject's with this actor added (or kept, when it is already the current actor). */
function nextChain(snapshot: PolicySnapshot, req: ExchangeRequest, user: UserDef, actor: ClientDef): { chain: readonly ChainHop[] } | ExchangeRefusal {
  const { subject } = req;
  if (subject.chain[0]?.actor === actor.id) return { chain: subject.chain };
  if (subject.chain.some((h) => h.actor === actor.id)) return DELEGATION_REFUSALS.actor_repeated;
  const depth = subject.chain.length + 1;
  if (depth > MAX_CHAIN_DEPTH) return DELEGATION_REFUSALS.chain_too_deep;
  const found = findDelegation(snapshot, { user, actor, audience: req.audience, depth, wanted: new Set(req.requested ?? subject.scopes), now: req.now });
  if (!found.ok) return DELEGATION_REFUSALS[found.reason];
  return { chain: [{ actor: actor.id, delegationId: found.delegation.id }, ...subject.chain] };
}

export function decideExchange(snapshot: PolicySnapshot, revocations: Pick<RevocationState, 'check'>, defaults: PolicyDefaults, req: ExchangeRequest): Exchange | ExchangeRefusal {
  const { actor, user, subject, audience, now } = req;
  if (!actor || actor.disabled) return refuse('invalid_client', 'client_disabled', 'client not found');
  if (!actor.grantTypes.includes(TOKEN_EXCHANGE_GRANT)) return refuse('unauthorized_client', 'grant_not_allowed', 'this client may not exchange tokens');
  if (!user || user.disabled) return refuse('invalid_grant', 'user_disabled', 'the subject token’s account is disabled or no longer exists');
  // The subject token bounds the resource as it bounds the scopes: a token for one API is not a
  // key to another (RFC 8693 §2.1 "audience"/"resource" only narrow what the subject allows).
  if (audience !== subject.audience) return refuse('invalid_target', 'resource_not_delegated', 'the subject token is not for this resource');
  if (!isDelegable(audience)) return refuse('invalid_target', 'resource_not_delegable', `no one may act for a person on ${audience}`);
  if (subject.mayAct !== undefined && subject.mayAct !== actor.id) return refuse('invalid_grant', 'may_act', 'the subject token names another party that may act for its subject (may_act)');

  const exchangedFrom = [subject.jti, ...subject.exchangedFrom];
  if (exchangedFrom.length > MAX_EXCHANGES) return refuse('invalid_grant', 'too_many_exchanges', 'this token has been exchanged too many times; exchange a fresh token of the person');
  const next = nextChain(snapshot, req, user, actor);
  if (!('chain' in next)) return next;
  const { chain } = next;
  const hopRefusal = chainRefusal(snapshot, chain, user, audience, [], now);
  if (hopRefusal) return DELEGATION_REFUSALS[hopRefusal];

  // What the subject token carries, within every delegation of the chain.
  const source = new Set(subject.scopes);
  for (const hop of chain) {
    const d = snapshot.delegations.get(hop.delegationId);
    const allowed = d ? delegatedScopes(snapshot, d) : new Set<string>();
    for (const s of source) if (!allowed.has(s)) source.delete(s);
  }
  const presented = { iat: Math.floor(now / 1000), sourceIat: subject.sourceIat, grantId: subject.grantId, userId: user.id, clientId: actor.id };
  // The agent acting for the person, judged by the policy set as an Agent at this chain's depth.
  const policy = req.policy && { ...req.policy, facts: { ...req.policy.facts, delegationDepth: chain.length } };
  const e = evaluateGrant(snapshot, revocations, { principal: { kind: 'user', user, mfa: req.mfa }, client: actor, audience, requested: req.requested, source, now, presented, policy });
  if (!e.resource) return refuse('invalid_target', 'unknown_resource', 'unknown resource');
  if (!e.audienceAllowed) return refuse('invalid_target', 'audience_not_allowed', `this client is not allowed tokens for ${audience} (an administrator must allow it)`);
  if (e.policy?.unavailable) return refuse('temporarily_unavailable', 'policy_unavailable', 'the access policy cannot be evaluated right now; try again later');
  if (!e.scopes.length && e.policy?.removed.length) return refuse('invalid_scope', 'policy_denied', `refused by access policy: ${e.policy.removed.map((r) => `${r.scope} (${r.verdict.message})`).join('; ')}`);
  if (!e.scopes.length) {
    return refuse('invalid_scope', 'no_scope', req.requested ? 'none of the requested scopes may be delegated to this client' : 'nothing the subject token carries may be delegated to this client');
  }
  if (e.revoked) return refuse('invalid_grant', `revoked_${e.revoked}`, `the subject token was issued before a revocation that covers this exchange (${e.revoked})`);
  const nowSec = Math.floor(now / 1000);
  const ttl = Math.min(tokenLifetime(snapshot, e.resource, e.scopes, defaults, now, e.held), subject.exp - nowSec, chainTtlCap(snapshot, chain, user, now));
  if (ttl < 1) return refuse('invalid_grant', 'expired', 'the subject token or its delegation has (almost) expired');
  return {
    ok: true,
    chain,
    exchangedFrom,
    grant: { ok: true, audience, resource: e.resource, allowed: e.allowed, scopes: e.scopes, roles: e.roles, ttl: Math.floor(ttl), held: e.held, at: now, policy: e.policy },
  };
}

/** The roles a delegated token depends on beyond the person's own: each policy's agent and subject role. */
export function chainRoles(snapshot: PolicySnapshot, chain: readonly ChainHop[]): string[] {
  const roles = new Set<string>();
  for (const hop of chain) {
    const d = snapshot.delegations.get(hop.delegationId);
    if (d?.kind === 'policy') roles.add(d.agentRole).add(d.subjectRole);
  }
  return [...roles];
}

export type ChainLivenessRefusal = DelegationRefusalReason | 'client_disabled' | `revoked_${RevocationKind}`;

/**
 * Whether a delegated token's chain is still good: every actor exists, is enabled and is not
 * revoked (`govauth revoke --client` of any actor ends it), no policy role of it is revoked, and
 * every delegation still allows its hop at the chain's depth with the token's scopes.
 * The current actor's own client and the person are judged by the caller like any token's.
 */
export function chainLiveness(
  snapshot: PolicySnapshot,
  revocations: Pick<RevocationState, 'check'>,
  t: { chain: readonly ChainHop[]; exchangedFrom: readonly string[]; user: UserDef; audience: string; scopes: readonly string[]; iat: number; now: number },
): ChainLivenessRefusal | undefined {
  // A token it was exchanged from was revoked on its own (RFC 7009 by its client).
  for (const jti of t.exchangedFrom) if (revocations.check({ iat: t.iat, jti })) return 'revoked_token';
  for (const hop of t.chain) {
    const actor = snapshot.clients.get(hop.actor);
    if (!actor || actor.disabled) return 'client_disabled';
    const revoked = revocations.check({ iat: t.iat, clientId: hop.actor });
    if (revoked) return `revoked_${revoked}`;
  }
  const roles = chainRoles(snapshot, t.chain);
  const revoked = roles.length ? revocations.check({ iat: t.iat, roles }) : undefined;
  if (revoked) return `revoked_${revoked}`;
  return chainRefusal(snapshot, t.chain, t.user, t.audience, t.scopes, t.now);
}

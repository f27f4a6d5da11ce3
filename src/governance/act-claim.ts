// The delegation chain as JWT claims, both ways. RFC 8693 §4.1: `act` names the current actor;
// a nested `act` names the one before it, outermost first. govauth's actors are clients, so
// each `sub` is a client id (as in their own client_credentials tokens). `delegations` (a
// govauth claim) lists, in the same order, the delegation that let each actor in, so
// introspection can judge every hop against live policy. `exchanged_from` (a govauth claim)
// lists the jti of every token it was exchanged from, its subject token first: revoking any
// of them (RFC 7009) ends it too, as it ends them.
import { MAX_CHAIN_DEPTH, type ChainHop } from './delegation.ts';

/** Exchanges a token may descend through: a chain at its deepest, each actor re-exchanging once to narrow. */
export const MAX_EXCHANGES = 2 * MAX_CHAIN_DEPTH;

export interface ActClaim {
  readonly sub: string;
  readonly act?: ActClaim;
}

/** The `act`, `delegations` and `exchanged_from` claims of a delegated token; none for an empty chain. */
export function chainClaims(chain: readonly ChainHop[], exchangedFrom: readonly string[]): { act?: ActClaim; delegations?: string[]; exchanged_from?: string[] } {
  if (!chain.length) return {};
  let act: ActClaim | undefined;
  for (let i = chain.length - 1; i >= 0; i--) act = { sub: (chain[i] as ChainHop).actor, ...(act && { act }) };
  return { act, delegations: chain.map((h) => h.delegationId), exchanged_from: [...exchangedFrom] };
}

/**
 * OpenID CIBA: the agent that asked the person and got their approval acts for them (RFC 8693
 * §4.1 `act`, the agent's client id, as in an exchanged token), on that one approval
 * (`ciba_request`, a govauth claim naming the request in the audit trail), not on a delegation
 * policy: no `delegations`, nothing exchanged from. Such a token cannot be exchanged further
 * (token-exchange-grant.ts): the person approved this agent, for this request only.
 */
export function approvalClaims(agentId: string, requestId: string): { act: ActClaim; ciba_request: string } {
  return { act: { sub: agentId }, ciba_request: requestId };
}

/** The CIBA request a verified token was approved in (approvalClaims), when its `act` is exactly that approval's. */
export function approvalOf(claims: Readonly<Record<string, unknown>>): string | undefined {
  const id = claims.ciba_request;
  const act = claims.act as { sub?: unknown; act?: unknown } | undefined;
  if (typeof id !== 'string' || !id || claims.delegations !== undefined || claims.exchanged_from !== undefined) return undefined;
  if (typeof act !== 'object' || act === null || Array.isArray(act) || act.act !== undefined || typeof act.sub !== 'string' || act.sub !== claims.client_id) return undefined;
  return id;
}

/** The jtis a verified token was exchanged from ([] for a token without `act`); undefined when malformed. */
export function exchangedFromOf(claims: Readonly<Record<string, unknown>>): string[] | undefined {
  const v = claims.exchanged_from;
  if (claims.act === undefined || approvalOf(claims) !== undefined) return v === undefined ? [] : undefined;
  if (!Array.isArray(v) || v.length < 1 || v.length > MAX_EXCHANGES || !v.every((j) => typeof j === 'string' && j.length > 0)) return undefined;
  return v as string[];
}

/** The actors an `act` claim names, current first; undefined when it is malformed or deeper than any chain may be. */
function actorsOf(act: unknown): string[] | undefined {
  const actors: string[] = [];
  let node = act;
  while (node !== undefined) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    const { sub, act: inner } = node as { sub?: unknown; act?: unknown };
    if (typeof sub !== 'string' || !sub) return undefined;
    actors.push(sub);
    if (actors.length > MAX_CHAIN_DEPTH) return undefined;
    node = inner;
  }
  return actors;
}

/**
 * The chain a verified token carries: [] for a token without `act`, undefined when its `act`
 * and `delegations` do not describe one chain (a token govauth never signs).
 */
export function chainOf(claims: Readonly<Record<string, unknown>>): ChainHop[] | undefined {
  if (claims.act === undefined) return claims.delegations === undefined ? [] : undefined;
  // A CIBA approval: the person themself let this agent (the token's own client) act, no delegation to judge.
  if (claims.ciba_request !== undefined) return approvalOf(claims) === undefined ? undefined : [];
  const actors = actorsOf(claims.act);
  const ids = claims.delegations;
  if (!actors || !Array.isArray(ids) || ids.length !== actors.length || !ids.every((d) => typeof d === 'string')) return undefined;
  return actors.map((actor, i) => ({ actor, delegationId: ids[i] as string }));
}

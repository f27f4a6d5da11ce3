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

/** The jtis a verified token was exchanged from ([] for a token without `act`); undefined when malformed. */
export function exchangedFromOf(claims: Readonly<Record<string, unknown>>): string[] | undefined {
  const v = claims.exchanged_from;
  if (claims.act === undefined) return v === undefined ? [] : undefined;
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
  const actors = actorsOf(claims.act);
  const ids = claims.delegations;
  if (!actors || !Array.isArray(ids) || ids.length !== actors.length || !ids.every((d) => typeof d === 'string')) return undefined;
  return actors.map((actor, i) => ({ actor, delegationId: ids[i] as string }));
}

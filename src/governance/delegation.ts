// Who may act for whom: the delegation rules of token exchange (RFC 8693), pure and in memory.
// An agent (a client) acts for a person only through a delegation: an administrator's policy
// ("clients holding role A may act for people holding role P on resource R, with at most these
// scopes, chains of at most N actors, tokens of at most T seconds") or the person's own standing
// delegation to that agent. Nothing is delegable by default.
//
// A chain (RFC 8693 §4.1, nested `act`) is a list of hops, the current actor first; each hop
// names the delegation that let its actor in. Every hop must still be allowed at the chain's
// depth: an exchange checks it before adding a hop, and introspection on every use, so removing
// a policy, withdrawing a standing delegation or taking a role away ends the tokens it allowed.
import { ADMIN_AUDIENCE, roleInclusions, type ClientDef, type PolicySnapshot, type RoleGrant, type UserDef } from './policy-model.ts';
import { reachableRoles } from './role-hierarchy.ts';

export const DEFAULT_MAX_DEPTH = 2;
/** No policy may allow longer chains: each hop is one more party a resource server must trust. */
export const MAX_CHAIN_DEPTH = 5;
/**
 * The longest a person's standing delegation may be given for when it has an end (90 days): a
 * consent made once should be renewed, not forgotten. Without an end it lasts until withdrawn.
 */
export const MAX_STANDING_DELEGATION_SECONDS = 90 * 86_400;

/**
 * Whether anyone may act for a person on `audience`. Acting on the admin API for someone is
 * acting as an administrator, with power over govauth and its audit trail: an agent that needs
 * it gets admin access of its own, in its own name. Policies, standing delegations and the
 * exchange itself all ask this.
 */
export const isDelegable = (audience: string): boolean => audience !== ADMIN_AUDIENCE;

/** The grant type (RFC 8693 §2.1) and the one token type govauth exchanges and issues (§3). */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export interface DelegationPolicyDef {
  readonly kind: 'policy';
  readonly id: string;
  readonly agentRole: string;
  readonly subjectRole: string;
  readonly audience: string;
  /** null: every scope of the resource. */
  readonly scopes: ReadonlySet<string> | null;
  readonly maxDepth: number;
  /** Seconds; null: the usual token lifetime rules alone. */
  readonly maxTtl: number | null;
  readonly description: string;
}

export interface StandingDelegationDef {
  readonly kind: 'standing';
  readonly id: string;
  readonly userId: string;
  readonly clientId: string;
  readonly audience: string;
  readonly scopes: ReadonlySet<string>;
  readonly maxDepth: number;
  /** Epoch ms; null: until withdrawn. */
  readonly expiresAt: number | null;
}

export type DelegationDef = DelegationPolicyDef | StandingDelegationDef;

/** One actor of a chain and the delegation that let it act. */
export interface ChainHop {
  readonly actor: string;
  readonly delegationId: string;
}

export type DelegationRefusalReason = 'no_delegation' | 'resource_not_delegated' | 'chain_too_deep' | 'delegation_withdrawn' | 'actor_repeated';

/** The longest-lived grant in force through which `role` is held: itself, or a role including it (role-hierarchy.ts). */
function holds(snapshot: PolicySnapshot, grants: readonly RoleGrant[], role: string, now: number): RoleGrant | undefined {
  let best: RoleGrant | undefined;
  for (const g of grants) {
    if (g.expiresAt !== null && g.expiresAt <= now) continue;
    if (g.role !== role && !reachableRoles(roleInclusions(snapshot), g.role).includes(role)) continue;
    if (!best || (best.expiresAt !== null && (g.expiresAt === null || g.expiresAt > best.expiresAt))) best = g;
  }
  return best;
}

/** Whether `d` lets `actor` act for `user` on `audience`, ignoring depth (see permits). */
function covers(snapshot: PolicySnapshot, d: DelegationDef, user: UserDef, actor: ClientDef, audience: string | undefined, now: number): boolean {
  if (audience !== undefined && d.audience !== audience) return false;
  if (d.kind === 'standing') return d.userId === user.id && d.clientId === actor.id && (d.expiresAt === null || d.expiresAt > now);
  return holds(snapshot, actor.roles, d.agentRole, now) !== undefined && holds(snapshot, user.roles, d.subjectRole, now) !== undefined;
}

/** The scopes `d` lets an actor hold on its resource (every scope of it when the policy names none). */
export function delegatedScopes(snapshot: PolicySnapshot, d: DelegationDef): ReadonlySet<string> {
  return d.scopes ?? snapshot.resources.get(d.audience)?.scopes ?? new Set();
}

/** The epoch ms after which `d` no longer lets `actor` act for `user` (a role grant or the delegation ends), or Infinity. */
function delegationEnds(snapshot: PolicySnapshot, d: DelegationDef, user: UserDef, actor: ClientDef, now: number): number {
  if (d.kind === 'standing') return d.expiresAt ?? Number.POSITIVE_INFINITY;
  const ends = [holds(snapshot, actor.roles, d.agentRole, now)?.expiresAt, holds(snapshot, user.roles, d.subjectRole, now)?.expiresAt];
  return Math.min(...ends.map((e) => e ?? Number.POSITIVE_INFINITY));
}

export interface HopRequest {
  readonly user: UserDef;
  readonly actor: ClientDef;
  readonly audience: string;
  /** Actors in the chain once this hop is added. */
  readonly depth: number;
  /** Scopes the request wants (undefined: any): the delegation covering most of them is chosen. */
  readonly wanted?: ReadonlySet<string> | undefined;
  readonly now: number;
}

/**
 * The delegation that lets `actor` act for `user` on `audience` at `depth`, or why none does:
 * 'no_delegation' (none for this pair at all), 'resource_not_delegated' (only for other
 * resources), 'chain_too_deep' (only for shorter chains). Among several, the one covering most
 * of the wanted scopes, then the one allowing the longest life, then the smallest id, so the
 * choice is stable.
 */
export function findDelegation(snapshot: PolicySnapshot, h: HopRequest): { ok: true; delegation: DelegationDef } | { ok: false; reason: DelegationRefusalReason } {
  let best: { d: DelegationDef; score: number } | undefined;
  let forPair = false;
  let forResource = false;
  for (const d of snapshot.delegations.values()) {
    if (!covers(snapshot, d, h.user, h.actor, undefined, h.now)) continue;
    forPair = true;
    if (d.audience !== h.audience) continue;
    forResource = true;
    if (d.maxDepth < h.depth) continue;
    const scopes = delegatedScopes(snapshot, d);
    const score = h.wanted ? [...h.wanted].filter((s) => scopes.has(s)).length : scopes.size;
    if (!best || better({ d, score }, best)) best = { d, score };
  }
  if (best) return { ok: true, delegation: best.d };
  return { ok: false, reason: !forPair ? 'no_delegation' : !forResource ? 'resource_not_delegated' : 'chain_too_deep' };
}

const better = (a: { d: DelegationDef; score: number }, b: { d: DelegationDef; score: number }): boolean =>
  a.score !== b.score ? a.score > b.score : ttlOf(a.d) !== ttlOf(b.d) ? ttlOf(a.d) > ttlOf(b.d) : a.d.id < b.d.id;

const ttlOf = (d: DelegationDef): number => (d.kind === 'policy' ? (d.maxTtl ?? Infinity) : Infinity);

/**
 * Whether the hop `hop` of a chain of `depth` actors acting for `user` on `audience` is still
 * allowed by the delegation it names: it exists, still covers this actor and person, allows this
 * depth, and its scopes include `scopes`. undefined: allowed.
 */
function hopRefusal(snapshot: PolicySnapshot, hop: ChainHop, user: UserDef, audience: string, depth: number, scopes: readonly string[], now: number): DelegationRefusalReason | undefined {
  const d = snapshot.delegations.get(hop.delegationId);
  const actor = snapshot.clients.get(hop.actor);
  if (!d || !actor || !covers(snapshot, d, user, actor, audience, now)) return 'delegation_withdrawn';
  if (d.maxDepth < depth) return 'chain_too_deep';
  const allowed = delegatedScopes(snapshot, d);
  return scopes.every((s) => allowed.has(s)) ? undefined : 'delegation_withdrawn';
}

/**
 * Every hop of `chain` (current actor first) is still allowed, each at the chain's full depth.
 * An actor appearing twice is refused: a chain is a path of distinct parties (RFC 8693 §4.1).
 */
export function chainRefusal(snapshot: PolicySnapshot, chain: readonly ChainHop[], user: UserDef, audience: string, scopes: readonly string[], now: number): DelegationRefusalReason | undefined {
  if (chain.length > MAX_CHAIN_DEPTH) return 'chain_too_deep';
  if (new Set(chain.map((h) => h.actor)).size !== chain.length) return 'actor_repeated';
  for (const hop of chain) {
    const refusal = hopRefusal(snapshot, hop, user, audience, chain.length, scopes, now);
    if (refusal) return refusal;
  }
  return undefined;
}

/** The tightest cap (seconds from now) the chain's delegations put on a token's life, or Infinity. */
export function chainTtlCap(snapshot: PolicySnapshot, chain: readonly ChainHop[], user: UserDef, now: number): number {
  let cap = Number.POSITIVE_INFINITY;
  for (const hop of chain) {
    const d = snapshot.delegations.get(hop.delegationId);
    const actor = snapshot.clients.get(hop.actor);
    if (!d || !actor) return 0;
    cap = Math.min(cap, ttlOf(d), Math.floor((delegationEnds(snapshot, d, user, actor, now) - now) / 1000));
  }
  return cap;
}

/**
 * The one agent that may exchange a token of `user` for `audience` (RFC 8693 §4.4 may_act), when
 * exactly one is allowed to act for them there as the first actor: a token naming it cannot be
 * exchanged by anyone else, even if a policy added later would allow them. Several or none: no
 * may_act (the policies alone decide).
 */
export function soleAgentFor(snapshot: PolicySnapshot, user: UserDef, audience: string, now: number): string | undefined {
  let found: string | undefined;
  for (const d of snapshot.delegations.values()) {
    if (d.audience !== audience || d.maxDepth < 1) continue;
    const candidates = d.kind === 'standing' ? [snapshot.clients.get(d.clientId)] : snapshot.clients.values();
    for (const c of candidates) {
      if (!c || c.disabled || !c.grantTypes.includes(TOKEN_EXCHANGE_GRANT) || !covers(snapshot, d, user, c, audience, now)) continue;
      if (found !== undefined && found !== c.id) return undefined;
      found = c.id;
    }
  }
  return found;
}

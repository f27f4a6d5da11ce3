// Time-boxed grants of one scope on one resource (made by an approved access request for a
// scope, access-requests.ts), as the hot path sees them. A role grant gives a scope on every
// resource that carries it; a scope grant gives it on one resource only, so it joins the held
// scopes only when the question is about that audience. Everything after that (the client's
// ceiling, MFA for high-sensitivity scopes, the token lifetime clipped to the grant's expiry,
// introspection judging the token live) is the same rule as for a role grant: policy-model.ts
// withheldReason and tokenLifetime read the merged map. Pure: no I/O.

/** One scope on one resource, held until `expiresAt` (epoch ms). Always expiring. */
export interface ScopeGrant {
  readonly audience: string;
  readonly scope: string;
  readonly expiresAt: number;
}

type Held = Map<string, { until: number; roles: string[] }>;

/**
 * Adds the scope grants in force at `now` for `audience` to `held` (scope → expiry and the roles
 * that grant it, from heldScopes) and returns it. A scope held both ways lasts as long as the
 * longer grant; a scope held only through a scope grant contributes no role to the token's
 * `roles` claim (no role was granted).
 */
export function withScopeGrants(held: Held, grants: readonly ScopeGrant[] | undefined, audience: string | undefined, now: number): Held {
  if (!grants?.length || audience === undefined) return held;
  for (const g of grants) {
    if (g.audience !== audience || g.expiresAt <= now) continue;
    const entry = held.get(g.scope);
    if (entry) entry.until = Math.max(entry.until, g.expiresAt);
    else held.set(g.scope, { until: g.expiresAt, roles: [] });
  }
  return held;
}

/** Whether a scope grant in force at `now` gives `scope` on one of `audiences`. */
export const holdsScopeGrant = (grants: readonly ScopeGrant[] | undefined, audiences: readonly string[], scope: string, now: number): boolean =>
  grants?.some((g) => g.scope === scope && g.expiresAt > now && audiences.includes(g.audience)) ?? false;

// Issuance and introspection agree (issue 16): on random policies, whatever issuance grants is
// judged live by introspection's own check at the same instant, with the same roles, and never
// outlives the role grants it rests on; after a random policy change, a token is live exactly
// when re-issuing what it carries would grant all of it (introspection's rule is 'all': a
// narrower re-issue means the token no longer reflects policy); after a revocation covering
// it, it is inactive for that reason, while a token issued after the cutoff's second is live.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { effectiveGrant, evaluateGrant, lifetimeFor, type Grant, type GrantPrincipal } from '../../src/governance/effective-grant.ts';
import { ADMIN_AUDIENCE, type ClientDef, type PolicyDefaults, type PolicySnapshot, type RoleGrant, type UserDef } from '../../src/governance/policy-model.ts';
import { RevocationState, type RevocationKind } from '../../src/governance/revocation-state.ts';
import { tokenLiveness, type LiveTokenFacts } from '../../src/introspection/token-liveness.ts';

const NOW = Date.UTC(2026, 11, 1, 12);
const HOUR = 3_600_000;
const SCOPES = ['s0', 's1', 's2', 's3', 's4'];
const AUDIENCES = ['https://r0.example', 'https://r1.example', ADMIN_AUDIENCE];
const ROLES = ['r0', 'r1', 'r2', 'r3'];
const defaults: PolicyDefaults = { accessTokenTtl: 900, defaultResource: undefined };

const subset = <T>(items: readonly T[]) => fc.subarray([...items]);
const grantsArb = fc.uniqueArray(
  fc.record({ role: fc.constantFrom(...ROLES), expiresAt: fc.option(fc.integer({ min: NOW - HOUR, max: NOW + 2 * HOUR }), { nil: null, freq: 2 }) }),
  { minLength: 1, maxLength: 4, selector: (g) => g.role },
);

// Time-boxed grants of one scope on one resource (scope-grants-model.ts), beside the role grants.
const scopeGrantsArb = fc.uniqueArray(
  fc.record({ audience: fc.constantFrom(...AUDIENCES), scope: fc.constantFrom(...SCOPES), expiresAt: fc.integer({ min: NOW - HOUR, max: NOW + 2 * HOUR }) }),
  { maxLength: 3, selector: (g) => `${g.audience} ${g.scope}` },
);

interface World {
  snapshot: PolicySnapshot;
  user: UserDef;
  revocations: RevocationState;
}

const worldArb = fc
  .record({
    scopes: fc.tuple(...SCOPES.map(() => fc.record({ sensitivity: fc.constantFrom('low', 'medium', 'high' as const), maxTtl: fc.option(fc.integer({ min: 30, max: 3600 }), { nil: null }) }))),
    resources: fc.tuple(...AUDIENCES.map(() => fc.record({ tokenTtl: fc.option(fc.integer({ min: 60, max: 7200 }), { nil: null }), scopes: fc.subarray(SCOPES, { minLength: 2 }) }))),
    roles: fc.tuple(...ROLES.map(() => fc.subarray(SCOPES, { minLength: 1 }))),
    clientGrants: grantsArb,
    ceiling: fc.option(fc.subarray(SCOPES, { minLength: 2 }), { nil: null }),
    adminAccess: fc.boolean(),
    userGrants: grantsArb,
    clientScopeGrants: scopeGrantsArb,
    userScopeGrants: scopeGrantsArb,
    mfaEnrolled: fc.boolean(),
    // Revocations made before the request: a cutoff up to an hour ago (or in the request's second).
    cutoffs: fc.array(fc.record({ kind: fc.constantFrom<RevocationKind>('user', 'client', 'role'), role: fc.constantFrom(...ROLES), ago: fc.integer({ min: 0, max: HOUR }) }), { maxLength: 2 }),
  })
  .map((w): World => {
    const client: ClientDef = {
      id: 'cl_bot',
      name: 'bot',
      secretHash: 'h', secretExpiresAt: null, previousSecretHash: null, previousSecretValidUntil: null,
      grantTypes: ['client_credentials', 'authorization_code'],
      redirectUris: [],
      postLogoutRedirectUris: [],
      scopeCeiling: w.ceiling && new Set(w.ceiling),
      introspectAudience: null,
      adminAccess: w.adminAccess,
      disabled: false,
      roles: w.clientGrants,
      scopeGrants: w.clientScopeGrants,
    };
    const snapshot: PolicySnapshot = {
      scopes: new Map(SCOPES.map((name, i) => [name, { name, description: '', ...w.scopes[i]! }])),
      resources: new Map(AUDIENCES.map((audience, i) => [audience, { audience, name: audience, tokenTtl: w.resources[i]!.tokenTtl, scopes: new Set(w.resources[i]!.scopes) }])),
      roles: new Map(ROLES.map((name, i) => [name, { name, description: '', scopes: new Set(w.roles[i]) }])),
      clients: new Map([[client.id, client]]),
      delegations: new Map(),
    };
    const revocations = new RevocationState();
    w.cutoffs.forEach((c, id) => {
      const key = c.kind === 'user' ? 'usr_1' : c.kind === 'client' ? client.id : c.role;
      revocations.set({ id, kind: c.kind, key, cutoff: NOW - c.ago, expiresAt: NOW + 10 * HOUR, reason: null, actor: null });
    });
    return { snapshot, user: { id: 'usr_1', email: 'a@example.com', disabled: false, mfaEnrolled: w.mfaEnrolled, roles: w.userGrants, scopeGrants: w.userScopeGrants }, revocations };
  });

const requestArb = fc.record({
  person: fc.boolean(),
  audience: fc.constantFrom(...AUDIENCES, 'https://unknown.example'),
  requested: fc.option(subset([...SCOPES, 'nope']), { nil: undefined, freq: 2 }),
  mfaFresh: fc.boolean(),
  /** Seconds before the request that the code or refresh-token chain was issued. */
  sourceAge: fc.integer({ min: 0, max: 1800 }),
  /** A refresh with a `scope` parameter: the token carries this part of the grant. */
  narrow: fc.option(fc.integer({ min: 1, max: 31 }), { nil: undefined }),
});
type Request = typeof requestArb extends fc.Arbitrary<infer R> ? R : never;

const policyOf = (w: World) => ({ snapshot: () => w.snapshot, user: (id: string) => (id === w.user.id ? w.user : undefined), revocations: w.revocations });
const client = (w: World): ClientDef => w.snapshot.clients.get('cl_bot')!;
const principalOf = (w: World, r: Request): GrantPrincipal => (r.person ? { kind: 'user', user: w.user, mfa: r.mfaFresh ? 'fresh' : 'stale' } : { kind: 'client' });
const sec = (ms: number): number => Math.floor(ms / 1000);

interface Minted {
  grant: Grant;
  facts: LiveTokenFacts;
  roles: readonly string[];
  /** Seconds. */
  ttl: number;
}

/**
 * What the token endpoint does (src/oidc/resource-indicators.ts, accounts-and-claims.ts): the
 * effective grant; for a person the code/refresh token's own revocation check, the narrowing to
 * a `scope` parameter and the last revocation check before signing; issuance held out of a
 * revocation's second (waitOutCutoff), so the token's iat is after every cutoff of its principals.
 */
function issue(w: World, r: Request, now: number): Minted | undefined {
  const sourceIat = sec(now) - r.sourceAge;
  const grant = effectiveGrant(w.snapshot, w.revocations, defaults, {
    principal: principalOf(w, r),
    client: client(w),
    audience: r.audience,
    requested: r.person ? undefined : r.requested,
    source: r.person ? new Set(r.requested ?? SCOPES) : undefined,
    now,
    presented: r.person ? { iat: sourceIat } : undefined,
  });
  if (!grant.ok) return undefined;
  const scopes = r.person && r.narrow !== undefined ? grant.scopes.filter((_, i) => r.narrow! & (1 << i)) : [...grant.scopes];
  if (!scopes.length) return undefined; // refused by rotateRefreshToken (invalid_scope)
  const roles = r.person ? evaluateGrant(w.snapshot, w.revocations, { principal: principalOf(w, r), client: client(w), audience: r.audience, requested: scopes, now }).roles : grant.roles;
  const cutoff = w.revocations.latestCutoff({ userId: r.person ? w.user.id : undefined, clientId: 'cl_bot', roles });
  const iat = cutoff === undefined ? sec(now) : Math.max(sec(now), sec(cutoff) + 1);
  const facts: LiveTokenFacts = {
    jti: `jti_${iat}`,
    iat,
    sourceIat: r.person ? sourceIat : undefined,
    grantId: r.person ? 'grant_1' : undefined,
    userId: r.person ? w.user.id : undefined,
    clientId: 'cl_bot',
    roles,
    audiences: [r.audience],
    scopes,
    scopeRule: 'all',
  };
  if (r.person && w.revocations.check(facts)) return undefined; // the last check before signing (accounts-and-claims.ts)
  // A person's token lives as long as the scopes it carries allow (token-lifetimes.ts).
  return { grant, facts, roles, ttl: r.person ? lifetimeFor(w.snapshot, grant, scopes, defaults) : grant.ttl };
}

/** An independent statement of the rules, so a rule dropped from the shared core is caught too. */
function expectWithinPolicy(w: World, r: Request, m: Minted, now: number): void {
  const resource = w.snapshot.resources.get(r.audience)!;
  const c = client(w);
  const grants: readonly RoleGrant[] = r.person ? w.user.roles : c.roles;
  const scopeGrants = (r.person ? w.user.scopeGrants : c.scopeGrants) ?? [];
  for (const s of m.facts.scopes) {
    expect(resource.scopes.has(s)).toBe(true);
    expect(c.scopeCeiling === null || c.scopeCeiling.has(s)).toBe(true);
    // Held through a role in force, or a scope grant in force for exactly this audience.
    const viaRole = grants.some((g) => (g.expiresAt === null || g.expiresAt > now) && w.snapshot.roles.get(g.role)?.scopes.has(s));
    const viaScopeGrant = scopeGrants.some((g) => g.audience === r.audience && g.scope === s && g.expiresAt > now);
    expect(viaRole || viaScopeGrant).toBe(true);
    if (!viaRole) expect(m.ttl).toBeLessThanOrEqual(Math.max(...scopeGrants.filter((g) => g.audience === r.audience && g.scope === s).map((g) => sec(g.expiresAt - now)))); // never outlives it
    if (r.person && w.snapshot.scopes.get(s)?.sensitivity === 'high') expect(r.mfaFresh).toBe(true);
    const maxTtl = w.snapshot.scopes.get(s)?.maxTtl;
    if (maxTtl) expect(m.ttl).toBeLessThanOrEqual(maxTtl);
  }
  if (r.audience === ADMIN_AUDIENCE) expect(c.adminAccess).toBe(true);
  expect(m.ttl).toBeLessThanOrEqual(resource.tokenTtl ?? defaults.accessTokenTtl);
}

type Change =
  | { kind: 'drop_grant'; role: string }
  | { kind: 'drop_scope_grants' }
  | { kind: 'advance'; ms: number }
  | { kind: 'role_scope'; role: string; scope: string }
  | { kind: 'resource_scope'; scope: string }
  | { kind: 'disable' }
  | { kind: 'ceiling'; scope: string }
  | { kind: 'admin_access' }
  | { kind: 'revoke'; target: 'user' | 'client' | 'role'; role: string };

const changeArb: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constant('drop_grant' as const), role: fc.constantFrom(...ROLES) }),
  fc.record({ kind: fc.constant('drop_scope_grants' as const) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 2 * HOUR }) }),
  fc.record({ kind: fc.constant('role_scope' as const), role: fc.constantFrom(...ROLES), scope: fc.constantFrom(...SCOPES) }),
  fc.record({ kind: fc.constant('resource_scope' as const), scope: fc.constantFrom(...SCOPES) }),
  fc.record({ kind: fc.constant('disable' as const) }),
  fc.record({ kind: fc.constant('ceiling' as const), scope: fc.constantFrom(...SCOPES) }),
  fc.record({ kind: fc.constant('admin_access' as const) }),
  fc.record({ kind: fc.constant('revoke' as const), target: fc.constantFrom('user' as const, 'client' as const, 'role' as const), role: fc.constantFrom(...ROLES) }),
);

/** The world after `change`, at the returned instant. Nothing is mutated. */
function applyChange(w: World, r: Request, change: Change, iatSec: number): { world: World; now: number } {
  const c = client(w);
  const without = <T>(set: ReadonlySet<T>, item: T) => new Set([...set].filter((x) => x !== item));
  const withClient = (next: ClientDef): PolicySnapshot => ({ ...w.snapshot, clients: new Map([[next.id, next]]) });
  let now = NOW;
  let { snapshot, user } = w;
  let revocations = w.revocations;
  switch (change.kind) {
    case 'drop_grant':
      if (r.person) user = { ...user, roles: user.roles.filter((g) => g.role !== change.role) };
      else snapshot = withClient({ ...c, roles: c.roles.filter((g) => g.role !== change.role) });
      break;
    case 'drop_scope_grants':
      if (r.person) user = { ...user, scopeGrants: [] };
      else snapshot = withClient({ ...c, scopeGrants: [] });
      break;
    case 'advance':
      now += change.ms;
      break;
    case 'role_scope': {
      const role = snapshot.roles.get(change.role)!;
      snapshot = { ...snapshot, roles: new Map([...snapshot.roles, [role.name, { ...role, scopes: without(role.scopes, change.scope) }]]) };
      break;
    }
    case 'resource_scope': {
      const resource = snapshot.resources.get(r.audience)!;
      snapshot = { ...snapshot, resources: new Map([...snapshot.resources, [resource.audience, { ...resource, scopes: without(resource.scopes, change.scope) }]]) };
      break;
    }
    case 'disable':
      if (r.person) user = { ...user, disabled: true };
      else snapshot = withClient({ ...c, disabled: true });
      break;
    case 'ceiling':
      snapshot = withClient({ ...c, scopeCeiling: without(c.scopeCeiling ?? new Set(SCOPES), change.scope) });
      break;
    case 'admin_access':
      snapshot = withClient({ ...c, adminAccess: false });
      break;
    case 'revoke': {
      revocations = new RevocationState();
      for (const kind of ['user', 'client', 'role'] as const) for (const key of ['usr_1', 'cl_bot', ...ROLES]) { const e = w.revocations.get(kind, key); if (e) revocations.set(e); }
      const key = change.target === 'user' ? 'usr_1' : change.target === 'client' ? 'cl_bot' : change.role;
      // Made after the token was signed: its cutoff is in (or after) the token's second.
      revocations.set({ id: 99, kind: change.target, key, cutoff: iatSec * 1000 + 500, expiresAt: NOW + 10 * HOUR, reason: null, actor: null });
      now = iatSec * 1000 + 600;
      break;
    }
  }
  return { world: { snapshot, user, revocations }, now };
}

describe('the effective grant: issuance and introspection agree', () => {
  it('grants only what policy allows, and introspection finds it live with the same roles until it expires', () => {
    let issued = 0;
    fc.assert(
      fc.property(worldArb, requestArb, (w, r) => {
        const m = issue(w, r, NOW);
        if (!m) return;
        issued++;
        expectWithinPolicy(w, r, m, NOW);
        const policy = policyOf(w);
        expect(tokenLiveness({ policy, now: () => NOW }, m.facts)).toBeUndefined();
        // Introspection attributes the token's scopes to the roles the token names.
        const principal: GrantPrincipal = r.person ? { kind: 'user', user: w.user, mfa: 'checked_at_issuance' } : { kind: 'client' };
        expect(evaluateGrant(w.snapshot, w.revocations, { principal, client: client(w), audience: r.audience, requested: m.facts.scopes, now: NOW }).roles).toEqual(m.roles);
        // Never outlives a role grant it rests on: still live in its last second.
        const last = NOW + (m.ttl - 1) * 1000;
        expect(tokenLiveness({ policy, now: () => last }, m.facts)).toBeUndefined();
      }),
      { numRuns: 400 },
    );
    expect(issued).toBeGreaterThan(60); // the random policies do grant tokens
  });

  it('after a policy change, a token is live exactly when re-issuing what it carries grants all of it', () => {
    const outcomes = { live: 0, inactive: 0 };
    fc.assert(
      fc.property(worldArb, requestArb, changeArb, (w0, r, change) => {
        const m = issue(w0, r, NOW);
        if (!m) return;
        const { world: w, now } = applyChange(w0, r, change, m.facts.iat);
        const reason = tokenLiveness({ policy: policyOf(w), now: () => now }, m.facts);
        if (change.kind === 'revoke') {
          const covers = change.target === 'client' || (change.target === 'user' ? r.person : m.facts.roles?.includes(change.role));
          expect(reason).toBe(covers ? `revoked_${change.target}` : undefined);
          // A token issued after the revocation, for the same request, is live.
          const again = issue(w, r, now);
          if (again) expect(tokenLiveness({ policy: policyOf(w), now: () => now }, again.facts)).toBeUndefined();
          return;
        }
        // Re-issue exactly what the token carries (a person: a refresh with `scope`, the second
        // factor as proven then); introspection's 'all' rule means live ⇔ nothing is dropped.
        const again = effectiveGrant(w.snapshot, w.revocations, defaults, {
          principal: r.person ? { kind: 'user', user: w.user, mfa: r.mfaFresh ? 'fresh' : 'stale' } : { kind: 'client' },
          client: client(w),
          audience: r.audience,
          requested: m.facts.scopes,
          source: r.person ? new Set(m.facts.scopes) : undefined,
          now,
        });
        const regranted = again.ok && again.scopes.length === m.facts.scopes.length;
        expect(reason === undefined).toBe(regranted);
        outcomes[regranted ? 'live' : 'inactive']++;
        // Every change removes: what is granted now is a part of what was granted.
        if (again.ok) expect(m.grant.scopes).toEqual(expect.arrayContaining([...again.scopes]));
        // A refresh token (rule 'some') stays usable exactly while a refresh would still yield a scope.
        if (r.person) {
          const rt = tokenLiveness({ policy: policyOf(w), now: () => now }, { ...m.facts, roles: undefined, scopeRule: 'some' });
          expect(rt === undefined).toBe(again.ok);
        }
      }),
      { numRuns: 1500 },
    );
    expect(outcomes.live).toBeGreaterThan(60); // both sides of the equivalence are exercised
    expect(outcomes.inactive).toBeGreaterThan(60);
  });
});

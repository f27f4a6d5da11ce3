// The pure rules of role hierarchies (cycles, transitive closure, the tree) and separation of
// duties, and that effective scopes follow the hierarchy through the one place (heldScopes).
import { describe, expect, it } from 'vitest';
import { findDelegation, TOKEN_EXCHANGE_GRANT, type DelegationDef } from '../../src/governance/delegation.ts';
import { effectiveGrant } from '../../src/governance/effective-grant.ts';
import { heldScopes, type ClientDef, type PolicySnapshot, type RoleDef, type UserDef } from '../../src/governance/policy-model.ts';
import { findCycle, includersOf, inclusionsFrom, reachableRoles, roleTree, withInclusion } from '../../src/governance/role-hierarchy.ts';
import { describeConflict, newConflicts, sodConflicts, type ExclusiveSet } from '../../src/governance/separation-of-duties.ts';

const NOW = Date.UTC(2026, 11, 5, 12);
const edges = (...pairs: [string, string][]) => inclusionsFrom(pairs.map(([roleName, includedName]) => ({ roleName, includedName })));

describe('role hierarchy', () => {
  const g = edges(['lead', 'deployer'], ['lead', 'scientist'], ['scientist', 'reader'], ['deployer', 'reader']);

  it('reaches every included role transitively, each once, the role itself first', () => {
    expect(reachableRoles(g, 'lead')).toEqual(['lead', 'deployer', 'scientist', 'reader']);
    expect(reachableRoles(g, 'reader')).toEqual(['reader']);
    expect(reachableRoles(g, 'unknown')).toEqual(['unknown']);
    expect(includersOf(g, 'reader')).toEqual(['deployer', 'lead', 'scientist']);
    expect(includersOf(g, 'lead')).toEqual([]);
  });

  it('terminates on a cyclic graph (a corrupt database must not hang the hot path)', () => {
    const cyclic = edges(['a', 'b'], ['b', 'c'], ['c', 'a']);
    expect(reachableRoles(cyclic, 'a')).toEqual(['a', 'b', 'c']);
    expect(roleTree(cyclic, () => [], 'a').map((n) => n.name)).toEqual(['b', 'c']);
  });

  it('finds the cycle an edge would close, naming it from the including role back to itself', () => {
    expect(findCycle(g, 'reader', 'lead')).toEqual(['reader', 'lead', 'deployer', 'reader']);
    expect(findCycle(g, 'reader', 'scientist')).toEqual(['reader', 'scientist', 'reader']);
    expect(findCycle(g, 'lead', 'lead')).toEqual(['lead', 'lead']);
    // A diamond is not a cycle.
    expect(findCycle(g, 'lead', 'reader')).toBeUndefined();
    expect(findCycle(g, 'ops', 'lead')).toBeUndefined();
  });

  it('agrees with reachability: an edge closes a cycle exactly when the included role reaches the including one', () => {
    const roles = ['a', 'b', 'c', 'd', 'e'];
    let graph = edges();
    // Add every edge that keeps the graph acyclic, in a fixed pseudo-random order.
    for (let i = 0; i < 60; i++) {
      const from = roles[(i * 7) % 5] ?? 'a';
      const to = roles[(i * 3 + 1) % 5] ?? 'b';
      const closes = reachableRoles(graph, to).includes(from);
      expect(findCycle(graph, from, to) !== undefined, `${from}→${to}`).toBe(closes);
      if (!closes) graph = withInclusion(graph, from, to) as typeof graph;
    }
    for (const r of roles) expect(reachableRoles(graph, r).filter((x) => x === r)).toHaveLength(1);
  });

  it('lists the tree depth first with each role\'s own scopes', () => {
    const scopes: Record<string, string[]> = { lead: ['l'], deployer: ['d'], scientist: ['s2', 's1'], reader: ['r'] };
    expect(roleTree(g, (r) => scopes[r] ?? [], 'lead')).toEqual([
      { name: 'deployer', parent: 'lead', depth: 1, scopes: ['d'] },
      { name: 'reader', parent: 'deployer', depth: 2, scopes: ['r'] },
      { name: 'scientist', parent: 'lead', depth: 1, scopes: ['s1', 's2'] },
      { name: 'reader', parent: 'scientist', depth: 2, scopes: ['r'] },
    ]);
  });
});

describe('separation of duties', () => {
  const g = edges(['lead', 'deployer'], ['platform', 'lead']);
  const sets: ExclusiveSet[] = [{ name: 'sod-deploy', roles: new Set(['approver', 'deployer']), reason: 'four eyes' }];

  it('finds two roles of one set held directly', () => {
    const [c] = sodConflicts(g, sets, ['approver', 'deployer']);
    expect(c).toEqual({ set: 'sod-deploy', roles: ['approver', 'deployer'], via: { approver: ['approver'], deployer: ['deployer'] } });
    expect(describeConflict(c ?? ({} as never), new Map([['sod-deploy', 'four eyes']]))).toBe('approver and deployer, which are mutually exclusive (set sod-deploy: four eyes)');
  });

  it('counts roles reached through the hierarchy, at any depth, and says through what', () => {
    const [c] = sodConflicts(g, sets, ['approver', 'platform']);
    expect(c?.via).toEqual({ approver: ['approver'], deployer: ['platform'] });
    expect(describeConflict(c ?? ({} as never))).toBe('approver and deployer (through platform), which are mutually exclusive (set sod-deploy)');
  });

  it('finds nothing for one role of a set, or roles of different sets', () => {
    expect(sodConflicts(g, sets, ['approver'])).toEqual([]);
    expect(sodConflicts(g, sets, ['platform', 'lead'])).toEqual([]);
    expect(sodConflicts(g, [...sets, { name: 'other', roles: new Set(['x', 'y']), reason: null }], ['approver', 'x'])).toEqual([]);
  });

  it('reports only the conflicts a change adds (a violation held before does not block other changes)', () => {
    const before = sodConflicts(g, sets, ['approver', 'deployer']);
    expect(newConflicts(before, sodConflicts(g, sets, ['approver', 'deployer', 'reader']))).toEqual([]);
    const three: ExclusiveSet[] = [{ name: 'trio', roles: new Set(['a', 'b', 'c']), reason: null }];
    // Holding a and b already, gaining c makes a different (larger) conflict: refused.
    expect(newConflicts(sodConflicts(g, three, ['a', 'b']), sodConflicts(g, three, ['a', 'b', 'c']))).toHaveLength(1);
    expect(newConflicts([], sodConflicts(g, sets, ['approver', 'lead']))).toHaveLength(1);
  });
});

describe('effective scopes follow the hierarchy (heldScopes, the one place)', () => {
  const role = (name: string, scopes: string[], includes: string[] = []): [string, RoleDef] => [name, { name, description: '', scopes: new Set(scopes), includes: new Set(includes) }];
  const snapshot: PolicySnapshot = {
    scopes: new Map(['a.read', 'a.deploy', 'a.audit'].map((n) => [n, { name: n, description: '', sensitivity: 'low', maxTtl: null }])),
    resources: new Map([['https://a.example', { audience: 'https://a.example', name: 'A', tokenTtl: null, scopes: new Set(['a.read', 'a.deploy', 'a.audit']) }]]),
    roles: new Map([role('platform', [], ['lead']), role('lead', ['a.audit'], ['deployer']), role('deployer', ['a.deploy']), role('reader', ['a.read'])]),
    clients: new Map(),
    delegations: new Map(),
  };

  it('gives the role\'s own scopes ∪ those of every role it includes, naming the granted and the contributing role', () => {
    const held = heldScopes(snapshot, [{ role: 'platform', expiresAt: null }], NOW);
    expect([...held.keys()].sort()).toEqual(['a.audit', 'a.deploy']);
    expect(held.get('a.deploy')?.roles).toEqual(['platform', 'deployer']);
    expect(held.get('a.audit')?.roles).toEqual(['platform', 'lead']);
  });

  it('keeps a time-boxed grant\'s expiry on the scopes it reaches, and nothing after it', () => {
    const until = NOW + 60_000;
    expect(heldScopes(snapshot, [{ role: 'lead', expiresAt: until }], NOW).get('a.deploy')?.until).toBe(until);
    expect(heldScopes(snapshot, [{ role: 'lead', expiresAt: until }], until).size).toBe(0);
  });

  it('issues the included role\'s scopes to a client holding the including role', () => {
    const client = {
      id: 'cl', name: 'c', secretHash: null, secretExpiresAt: null, previousSecretHash: null, previousSecretValidUntil: null, grantTypes: ['client_credentials'],
      redirectUris: [], postLogoutRedirectUris: [], scopeCeiling: null, introspectAudience: null, adminAccess: false, disabled: false, roles: [{ role: 'lead', expiresAt: null }],
    };
    const g = effectiveGrant(snapshot, { check: () => undefined }, { accessTokenTtl: 300, defaultResource: undefined }, { principal: { kind: 'client' }, client, audience: 'https://a.example', now: NOW });
    expect(g.ok && g.scopes).toEqual(['a.audit', 'a.deploy']);
    expect(g.ok && g.roles).toEqual(['deployer', 'lead']);
  });
});

describe('delegation policies match roles held through the hierarchy', () => {
  const API = 'https://a.example';
  const role = (name: string, includes: string[] = []): [string, RoleDef] => [name, { name, description: '', scopes: new Set(['a.read']), includes: new Set(includes) }];
  const policy: DelegationDef = { kind: 'policy', id: 'dp', agentRole: 'coding-agent', subjectRole: 'scientist', audience: API, scopes: null, maxDepth: 1, maxTtl: null, description: '' };
  const snapshot: PolicySnapshot = {
    scopes: new Map([['a.read', { name: 'a.read', description: '', sensitivity: 'low', maxTtl: null }]]),
    resources: new Map([[API, { audience: API, name: 'A', tokenTtl: null, scopes: new Set(['a.read']) }]]),
    roles: new Map([role('scientist'), role('lead', ['scientist']), role('coding-agent'), role('senior-agent', ['coding-agent'])]),
    clients: new Map(),
    delegations: new Map([['dp', policy]]),
  };
  const actor = (roles: string[]): ClientDef => ({
    id: 'cl_agent', name: 'agent', secretHash: null, secretExpiresAt: null, previousSecretHash: null, previousSecretValidUntil: null, grantTypes: [TOKEN_EXCHANGE_GRANT],
    redirectUris: [], postLogoutRedirectUris: [], scopeCeiling: null, introspectAudience: null, adminAccess: false, disabled: false, roles: roles.map((r) => ({ role: r, expiresAt: null })),
  });
  const person = (roles: string[]): UserDef => ({ id: 'usr_x', email: 'x@example.com', disabled: false, mfaEnrolled: false, roles: roles.map((r) => ({ role: r, expiresAt: null })) });
  const find = (agentRoles: string[], personRoles: string[]) => findDelegation(snapshot, { user: person(personRoles), actor: actor(agentRoles), audience: API, depth: 1, now: NOW });

  it('lets an agent holding a role that includes the agent role act for a person holding a role that includes the subject role', () => {
    expect(find(['coding-agent'], ['scientist']).ok).toBe(true);
    expect(find(['senior-agent'], ['lead']).ok).toBe(true);
    expect(find(['senior-agent'], ['coding-agent'])).toEqual({ ok: false, reason: 'no_delegation' });
  });
});

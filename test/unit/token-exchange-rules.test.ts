// The pure rules of token exchange (governance/token-exchange.ts, delegation.ts, act-claim.ts):
// what an exchange yields, and that what it yields is judged live at the same instant.
import { describe, expect, it } from 'vitest';
import { chainClaims, chainOf, exchangedFromOf } from '../../src/governance/act-claim.ts';
import { TOKEN_EXCHANGE_GRANT, type DelegationDef } from '../../src/governance/delegation.ts';
import type { ClientDef, PolicySnapshot, UserDef } from '../../src/governance/policy-model.ts';
import { RevocationState } from '../../src/governance/revocation-state.ts';
import { chainLiveness, decideExchange, type ExchangeRequest } from '../../src/governance/token-exchange.ts';

const NOW = Date.UTC(2026, 11, 5, 12);
const NOW_SEC = NOW / 1000;
const API = 'https://api.example';
const agentDef = (id: string, roles: string[], extra: Partial<ClientDef> = {}): ClientDef => ({
  id,
  name: id,
  secretHash: 'h', secretExpiresAt: null, previousSecretHash: null, previousSecretValidUntil: null,
  grantTypes: ['client_credentials', TOKEN_EXCHANGE_GRANT],
  redirectUris: [],
  postLogoutRedirectUris: [],
  scopeCeiling: null,
  introspectAudience: null,
  adminAccess: false,
  disabled: false,
  roles: roles.map((role) => ({ role, expiresAt: null })),
  ...extra,
});
const alice: UserDef = { id: 'usr_alice', email: 'alice@example.com', disabled: false, mfaEnrolled: false, roles: [{ role: 'scientist', expiresAt: null }] };
const policy = (id: string, agentRole: string, extra: Partial<DelegationDef> = {}): DelegationDef =>
  ({ kind: 'policy', id, agentRole, subjectRole: 'scientist', audience: API, scopes: null, maxDepth: 2, maxTtl: null, description: '', ...extra }) as DelegationDef;

function world(delegations: DelegationDef[], clients: ClientDef[]): PolicySnapshot {
  return {
    scopes: new Map(['run', 'read', 'deploy'].map((name) => [name, { name, description: '', sensitivity: name === 'deploy' ? 'high' : 'low', maxTtl: null }] as const)),
    resources: new Map([[API, { audience: API, name: 'API', tokenTtl: 600, scopes: new Set(['run', 'read', 'deploy']) }]]),
    roles: new Map([
      ['scientist', { name: 'scientist', description: '', scopes: new Set(['run', 'read', 'deploy']) }],
      ['agent', { name: 'agent', description: '', scopes: new Set<string>() }],
      ['worker', { name: 'worker', description: '', scopes: new Set<string>() }],
    ]),
    clients: new Map(clients.map((c) => [c.id, c])),
    delegations: new Map(delegations.map((d) => [d.id, d])),
  };
}
const defaults = { accessTokenTtl: 300, defaultResource: undefined };
const request = (actor: ClientDef | undefined, extra: Partial<ExchangeRequest> = {}): ExchangeRequest => ({
  user: alice,
  mfa: 'stale',
  actor,
  audience: API,
  requested: undefined,
  subject: { jti: 'jti-subject', exchangedFrom: [], audience: API, scopes: ['run', 'read', 'deploy'], exp: NOW_SEC + 900, chain: [], sourceIat: NOW_SEC - 60, grantId: 'g1' },
  now: NOW,
  ...extra,
});

describe('decideExchange', () => {
  const a = agentDef('cl_a', ['agent']);
  const w = agentDef('cl_w', ['worker'], { scopeCeiling: new Set(['run']) });
  const snapshot = world([policy('dp_a', 'agent', { maxTtl: 120 }), policy('dp_w', 'worker', { scopes: new Set(['run', 'read']) })], [a, w]);

  it('grants requested ∩ subject ∩ person ∩ delegation ∩ ceiling, no high-sensitivity scope without a fresh second factor, capped in time', () => {
    const d = decideExchange(snapshot, new RevocationState(), defaults, request(a));
    expect(d).toMatchObject({ ok: true, chain: [{ actor: 'cl_a', delegationId: 'dp_a' }] });
    if (!d.ok) return;
    expect(d.grant.scopes).toEqual(['read', 'run']);
    expect(d.grant.ttl).toBe(120);
    const fresh = decideExchange(snapshot, new RevocationState(), defaults, request(a, { mfa: 'fresh' }));
    expect(fresh.ok && fresh.grant.scopes).toEqual(['deploy', 'read', 'run']);
  });

  it('never outlives the subject token', () => {
    const d = decideExchange(snapshot, new RevocationState(), defaults, request(a, { subject: { ...request(a).subject, exp: NOW_SEC + 30 } }));
    expect(d.ok && d.grant.ttl).toBe(30);
    const gone = decideExchange(snapshot, new RevocationState(), defaults, request(a, { subject: { ...request(a).subject, exp: NOW_SEC } }));
    expect(gone).toMatchObject({ ok: false, error: 'invalid_grant', reason: 'expired' });
  });

  it('adds one hop for a new actor, keeps the chain for the current one, refuses earlier ones and chains beyond depth', () => {
    const hop1 = [{ actor: 'cl_a', delegationId: 'dp_a' }];
    const d = decideExchange(snapshot, new RevocationState(), defaults, request(w, { subject: { ...request(w).subject, chain: hop1 } }));
    expect(d).toMatchObject({ ok: true, chain: [{ actor: 'cl_w', delegationId: 'dp_w' }, ...hop1] });
    expect(d.ok && d.grant.scopes).toEqual(['run']); // the worker's ceiling
    const again = decideExchange(snapshot, new RevocationState(), defaults, request(a, { subject: { ...request(a).subject, chain: hop1 } }));
    expect(again).toMatchObject({ ok: true, chain: hop1 });
    const back = decideExchange(snapshot, new RevocationState(), defaults, request(a, { subject: { ...request(a).subject, chain: [{ actor: 'cl_w', delegationId: 'dp_w' }, ...hop1] } }));
    expect(back).toMatchObject({ ok: false, reason: 'actor_repeated' });
    const shallow = world([policy('dp_a', 'agent', { maxDepth: 1 }), policy('dp_w', 'worker')], [a, w]);
    expect(decideExchange(shallow, new RevocationState(), defaults, request(w, { subject: { ...request(w).subject, chain: hop1 } }))).toMatchObject({ ok: false, error: 'invalid_grant', reason: 'chain_too_deep' });
  });

  it('refuses with the RFC 8693 / RFC 6749 code that says why', () => {
    const stranger = agentDef('cl_s', ['nobody']);
    const plain = { ...agentDef('cl_p', ['agent']), grantTypes: ['client_credentials'] };
    const s = world([policy('dp_a', 'agent'), policy('dp_other', 'agent', { audience: 'https://other.example' })], [a, stranger, plain]);
    const refusal = (r: ExchangeRequest) => {
      const d = decideExchange(s, new RevocationState(), defaults, r);
      return d.ok ? 'ok' : `${d.error}/${d.reason}`;
    };
    expect(refusal(request(stranger))).toBe('unauthorized_client/no_delegation');
    expect(refusal(request(plain))).toBe('unauthorized_client/grant_not_allowed');
    expect(refusal(request(a, { audience: 'https://other.example' }))).toBe('invalid_target/resource_not_delegated');
    expect(refusal(request(a, { requested: ['nope'] }))).toBe('invalid_scope/no_scope');
    expect(refusal(request(a, { user: { ...alice, disabled: true } }))).toBe('invalid_grant/user_disabled');
    expect(refusal(request(a, { subject: { ...request(a).subject, mayAct: 'cl_other' } }))).toBe('invalid_grant/may_act');
    const revoked = new RevocationState();
    revoked.set({ id: 1, kind: 'client', key: 'cl_a', cutoff: NOW - 1000, expiresAt: NOW + 1e6, reason: null, actor: null });
    const d = decideExchange(s, revoked, defaults, request(a));
    expect(d.ok ? 'ok' : d.reason).toBe('revoked_client');
  });

  it('what it issues is live at the same instant, and ends with the delegation or any actor', () => {
    const hop1 = [{ actor: 'cl_a', delegationId: 'dp_a' }];
    const d = decideExchange(snapshot, new RevocationState(), defaults, request(w, { subject: { ...request(w).subject, chain: hop1 } }));
    if (!d.ok) throw new Error(d.description);
    const live = (s: PolicySnapshot, r = new RevocationState()) => chainLiveness(s, r, { chain: d.chain, exchangedFrom: d.exchangedFrom, user: alice, audience: API, scopes: d.grant.scopes, iat: NOW_SEC, now: NOW });
    expect(live(snapshot)).toBeUndefined();
    expect(live(world([policy('dp_w', 'worker')], [a, w]))).toBe('delegation_withdrawn');
    expect(live(world([policy('dp_a', 'agent'), policy('dp_w', 'worker')], [{ ...a, disabled: true }, w]))).toBe('client_disabled');
    const revoked = new RevocationState();
    revoked.set({ id: 1, kind: 'client', key: 'cl_a', cutoff: NOW, expiresAt: NOW + 1e6, reason: null, actor: null });
    expect(live(snapshot, revoked)).toBe('revoked_client');
    expect(d.exchangedFrom).toEqual(['jti-subject']);
    const subjectRevoked = new RevocationState();
    subjectRevoked.set({ id: 2, kind: 'token', key: 'jti-subject', cutoff: NOW, expiresAt: NOW + 1e6, reason: null, actor: null });
    expect(live(snapshot, subjectRevoked)).toBe('revoked_token');
  });

  it('refuses a token exchanged too many times', () => {
    const many = Array.from({ length: 10 }, (_, i) => `j${i}`);
    const d = decideExchange(snapshot, new RevocationState(), defaults, request(a, { subject: { ...request(a).subject, exchangedFrom: many } }));
    expect(d).toMatchObject({ ok: false, error: 'invalid_grant', reason: 'too_many_exchanges' });
  });
});

describe('act claims', () => {
  it('nest the chain outermost-current and read back to the same chain', () => {
    const chain = [
      { actor: 'cl_w', delegationId: 'dp_w' },
      { actor: 'cl_a', delegationId: 'sd_1' },
    ];
    const claims = chainClaims(chain, ['j2', 'j1']);
    expect(claims).toEqual({ act: { sub: 'cl_w', act: { sub: 'cl_a' } }, delegations: ['dp_w', 'sd_1'], exchanged_from: ['j2', 'j1'] });
    expect(chainOf(claims)).toEqual(chain);
    expect(exchangedFromOf(claims)).toEqual(['j2', 'j1']);
    expect(exchangedFromOf({ act: { sub: 'a' }, exchanged_from: [] })).toBeUndefined();
    expect(exchangedFromOf({ exchanged_from: ['x'] })).toBeUndefined();
    expect(chainOf({})).toEqual([]);
  });

  it('refuse anything govauth would not have signed', () => {
    for (const bad of [{ act: 'x', delegations: ['d'] }, { act: { sub: 1 }, delegations: ['d'] }, { act: { sub: 'a' } }, { act: { sub: 'a' }, delegations: ['d', 'e'] }, { delegations: ['d'] }, { act: [], delegations: [] }]) {
      expect(chainOf(bad), JSON.stringify(bad)).toBeUndefined();
    }
    let deep: Record<string, unknown> = { sub: 'a' };
    for (let i = 0; i < 10; i++) deep = { sub: `a${i}`, act: deep };
    expect(chainOf({ act: deep, delegations: Array.from({ length: 11 }, () => 'd') })).toBeUndefined();
  });
});

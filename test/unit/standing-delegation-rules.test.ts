// The pure rules of a person's standing delegation (src/governance/standing-delegation-rules.ts):
// which agent and resource qualify, the per-scope rule with the agent as the client, and the end.
import { describe, expect, it } from 'vitest';
import { MAX_STANDING_DELEGATION_SECONDS, TOKEN_EXCHANGE_GRANT } from '../../src/governance/delegation.ts';
import { ADMIN_AUDIENCE, type ClientDef, type PolicySnapshot, type UserDef } from '../../src/governance/policy-model.ts';
import { decideStandingDelegation, expiryRefusal } from '../../src/governance/standing-delegation-rules.ts';

const NOW = Date.UTC(2026, 11, 5, 12);
const agent = (id: string, extra: Partial<ClientDef> = {}): ClientDef => ({
  id,
  name: `Agent ${id}`,
  secretHash: 'h', secretExpiresAt: null, previousSecretHash: null, previousSecretValidUntil: null,
  grantTypes: [TOKEN_EXCHANGE_GRANT],
  redirectUris: [],
  postLogoutRedirectUris: [],
  scopeCeiling: null,
  introspectAudience: null,
  adminAccess: false,
  disabled: false,
  roles: [],
  ...extra,
});
const snapshot: PolicySnapshot = {
  scopes: new Map([
    ['m.run', { name: 'm.run', description: 'Run', sensitivity: 'low', maxTtl: null }],
    ['m.deploy', { name: 'm.deploy', description: 'Deploy', sensitivity: 'high', maxTtl: 300 }],
    ['govauth.admin', { name: 'govauth.admin', description: 'Admin', sensitivity: 'high', maxTtl: 900 }],
  ]),
  resources: new Map([
    ['https://m.example', { audience: 'https://m.example', name: 'Models', tokenTtl: null, scopes: new Set(['m.run', 'm.deploy']) }],
    [ADMIN_AUDIENCE, { audience: ADMIN_AUDIENCE, name: 'Admin API', tokenTtl: null, scopes: new Set(['govauth.admin']) }],
  ]),
  roles: new Map([['ops', { name: 'ops', description: '', scopes: new Set(['m.run', 'm.deploy', 'govauth.admin']) }]]),
  clients: new Map([
    ['cl_agent', agent('cl_agent')],
    ['cl_off', agent('cl_off', { disabled: true })],
    ['cl_app', agent('cl_app', { grantTypes: ['authorization_code'] })],
    ['cl_narrow', agent('cl_narrow', { scopeCeiling: new Set(['m.run']) })],
  ]),
  delegations: new Map(),
};
const person = (extra: Partial<UserDef> = {}): UserDef => ({ id: 'usr_a', email: 'a@example.com', disabled: false, mfaEnrolled: true, roles: [{ role: 'ops', expiresAt: null }], ...extra });
const ask = (clientId: string, scopes: string[], extra: { audience?: string; mfaFresh?: boolean; user?: UserDef } = {}) =>
  decideStandingDelegation(snapshot, extra.user ?? person(), { clientId, audience: extra.audience ?? 'https://m.example', scopes, mfaFresh: extra.mfaFresh ?? false, now: NOW });

describe('decideStandingDelegation', () => {
  it('grants the scopes the person holds, and withholds a high-sensitivity one without a recent second factor', () => {
    expect(ask('cl_agent', ['m.deploy', 'm.run'])).toMatchObject({ ok: true, grantable: ['m.run'], withheld: [{ scope: 'm.deploy', reason: 'mfa_required' }] });
    expect(ask('cl_agent', ['m.deploy', 'm.run'], { mfaFresh: true })).toMatchObject({ ok: true, grantable: ['m.deploy', 'm.run'], withheld: [] });
  });

  it('applies the agent’s ceiling and the person’s current roles', () => {
    expect(ask('cl_narrow', ['m.deploy', 'm.run'], { mfaFresh: true })).toMatchObject({ grantable: ['m.run'], withheld: [{ scope: 'm.deploy', reason: 'not_allowed_for_app' }] });
    const expired = person({ roles: [{ role: 'ops', expiresAt: NOW }] });
    expect(ask('cl_agent', ['m.run'], { user: expired })).toMatchObject({ grantable: [], withheld: [{ scope: 'm.run', reason: 'not_in_roles' }] });
  });

  it('refuses a disabled person, an unknown, disabled or non-agent client, an unknown resource and the admin API', () => {
    expect(ask('cl_agent', ['m.run'], { user: person({ disabled: true }) })).toEqual({ ok: false, message: 'This account is disabled, so it cannot let anyone act for it.' });
    expect(ask('cl_nobody', ['m.run'])).toEqual({ ok: false, message: 'There is no agent registered as "cl_nobody".' });
    expect(ask('cl_off', ['m.run'])).toMatchObject({ ok: false, message: expect.stringMatching(/switched off/) as unknown });
    expect(ask('cl_app', ['m.run'])).toMatchObject({ ok: false, message: 'Agent cl_app is not an agent: it is not registered to act for people.' });
    expect(ask('cl_agent', ['m.run'], { audience: 'https://nowhere.example' })).toEqual({ ok: false, message: 'There is no resource "https://nowhere.example".' });
    expect(ask('cl_agent', ['govauth.admin'], { audience: ADMIN_AUDIENCE, mfaFresh: true })).toEqual({ ok: false, message: 'No one can act for you on Admin API: it is where govauth itself is administered.' });
  });
});

describe('expiryRefusal', () => {
  it('accepts no end, or one in the future within the maximum', () => {
    expect(expiryRefusal(null, NOW)).toBeUndefined();
    expect(expiryRefusal(NOW + 1, NOW)).toBeUndefined();
    expect(expiryRefusal(NOW + MAX_STANDING_DELEGATION_SECONDS * 1000, NOW)).toBeUndefined();
  });

  it('refuses an end now or past, beyond the maximum, or not a number', () => {
    expect(expiryRefusal(NOW, NOW)).toMatch(/in the future/);
    expect(expiryRefusal(NOW + MAX_STANDING_DELEGATION_SECONDS * 1000 + 1, NOW)).toMatch(/at most 90 days/);
    expect(expiryRefusal(Number.NaN, NOW)).toMatch(/in the future/);
  });
});

import { describe, expect, it } from 'vitest';
import { decideConsent, type ClientDef, type PolicySnapshot, type UserDef } from '../../src/governance/policy-model.ts';
import { newTotpSecret, totpCode, verifyTotp } from '../../src/governance/totp.ts';
import { mfaFresh } from '../../src/governance/policy-model.ts';
import { normalizeEmail } from '../../src/governance/user-registry.ts';

const NOW = Date.UTC(2026, 10, 23, 12);
const snapshot: PolicySnapshot = {
  scopes: new Map([
    ['r', { name: 'r', description: '', sensitivity: 'low', maxTtl: null }],
    ['w', { name: 'w', description: '', sensitivity: 'medium', maxTtl: null }],
    ['deploy', { name: 'deploy', description: '', sensitivity: 'high', maxTtl: 300 }],
    ['elsewhere', { name: 'elsewhere', description: '', sensitivity: 'low', maxTtl: null }],
  ]),
  resources: new Map([['https://api', { audience: 'https://api', name: 'API', tokenTtl: null, scopes: new Set(['r', 'w', 'deploy']) }]]),
  roles: new Map([['admin', { name: 'admin', description: '', scopes: new Set(['r', 'w', 'deploy']) }]]),
  clients: new Map(),
  delegations: new Map(),
};
const client = (ceiling: string[] | null): ClientDef => ({
  id: 'cl', name: 'app', secretHash: null, secretExpiresAt: null, previousSecretHash: null, previousSecretValidUntil: null, grantTypes: ['authorization_code'], redirectUris: [], postLogoutRedirectUris: [],
  scopeCeiling: ceiling && new Set(ceiling), introspectAudience: null, adminAccess: false, disabled: false, roles: [],
});
const user = (mfaEnrolled: boolean, roles = ['admin']): UserDef => ({ id: 'usr', email: 'a@b.c', disabled: false, mfaEnrolled, roles: roles.map((role) => ({ role, expiresAt: null })) });

describe('decideConsent', () => {
  it('grants requested ∩ ceiling ∩ roles ∩ resource and explains every omission', () => {
    const d = decideConsent(snapshot, user(true, []), client(['r']), 'https://api', ['r', 'w', 'elsewhere', 'nope'], false, NOW);
    expect(d.grantable).toEqual([]);
    expect(d.withheld).toEqual([
      { scope: 'elsewhere', reason: 'not_on_resource' },
      { scope: 'nope', reason: 'unknown_scope' },
      { scope: 'r', reason: 'not_in_roles' },
      { scope: 'w', reason: 'not_allowed_for_app' },
    ]);
  });

  it('needs a fresh second factor for high-sensitivity scopes', () => {
    expect(decideConsent(snapshot, user(true), client(null), 'https://api', ['deploy', 'r'], false, NOW).withheld).toEqual([{ scope: 'deploy', reason: 'mfa_required' }]);
    expect(decideConsent(snapshot, user(false), client(null), 'https://api', ['deploy'], false, NOW).withheld).toEqual([{ scope: 'deploy', reason: 'mfa_not_enrolled' }]);
    expect(decideConsent(snapshot, user(true), client(null), 'https://api', ['deploy', 'r'], true, NOW).grantable).toEqual(['deploy', 'r']);
  });
});

describe('mfaFresh', () => {
  it('requires otp in amr and an auth_time within the window', () => {
    const sec = NOW / 1000;
    expect(mfaFresh(['pwd', 'otp'], sec - 100, 900, NOW)).toBe(true);
    expect(mfaFresh(['pwd', 'otp'], sec - 1000, 900, NOW)).toBe(false);
    expect(mfaFresh(['pwd'], sec, 900, NOW)).toBe(false);
    expect(mfaFresh(undefined, undefined, 900, NOW)).toBe(false);
  });
});

describe('TOTP (RFC 6238)', () => {
  it('accepts the current code and one step of drift, once per step', () => {
    const secret = newTotpSecret();
    const step = Math.floor(NOW / 30_000);
    expect(verifyTotp(secret, totpCode(secret, NOW), NOW, null)).toBe(step);
    expect(verifyTotp(secret, totpCode(secret, NOW - 30_000), NOW, null)).toBe(step - 1);
    expect(verifyTotp(secret, totpCode(secret, NOW - 90_000), NOW, null)).toBeUndefined();
    expect(verifyTotp(secret, totpCode(secret, NOW), NOW, step)).toBeUndefined(); // replay
    expect(verifyTotp(secret, '12345', NOW, null)).toBeUndefined();
  });

  it('matches the RFC 6238 appendix B test vector (SHA-1)', () => {
    // Secret "12345678901234567890" in base32; at T = 59 s the 8-digit code is 94287082.
    expect(totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 59_000)).toBe('287082');
  });
});

describe('normalizeEmail', () => {
  it('trims and lower-cases, and refuses what is not an address', () => {
    expect(normalizeEmail('  Ada@Example.COM ')).toBe('ada@example.com');
    for (const bad of ['', 'a', 'a@b', 'a b@c.d', 'a@b.c\u0000', `${'x'.repeat(250)}@b.cd`]) expect(() => normalizeEmail(bad)).toThrow();
  });
});

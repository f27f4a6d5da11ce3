// The pure rules behind passkeys: which amr counts for which factor (RFC 8176), what a role
// requires, and the relying party id configuration (removal: factor-rules.test.ts).
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { rpIdFor } from '../../src/config/webauthn-config.ts';
import { amrSatisfies, missingFactors, passkeyAmr, provesSecondFactor, requiredFactorsOf } from '../../src/governance/factors.ts';
import { mfaFresh } from '../../src/governance/policy-model.ts';

const NOW = Date.UTC(2026, 11, 5);
const roles = new Map([
  ['govauth-admin', { requireFactor: 'passkey' as const }],
  ['operator', { requireFactor: 'totp' as const }],
  ['viewer', { requireFactor: null }],
]);

describe('factors', () => {
  it('names a passkey hwk or swk (synced), with user when verified', () => {
    expect(passkeyAmr(false, true)).toEqual(['hwk', 'user']);
    expect(passkeyAmr(true, true)).toEqual(['swk', 'user']);
    expect(passkeyAmr(false, false)).toEqual(['hwk']);
  });

  it('counts a TOTP code or a passkey as a second factor, a password alone not', () => {
    expect(provesSecondFactor(['pwd'])).toBe(false);
    expect(provesSecondFactor(['pwd', 'otp'])).toBe(true);
    expect(provesSecondFactor(['hwk', 'user'])).toBe(true);
    expect(mfaFresh(['swk', 'user'], NOW / 1000 - 60, 900, NOW)).toBe(true);
    expect(mfaFresh(['swk', 'user'], NOW / 1000 - 901, 900, NOW)).toBe(false);
    expect(amrSatisfies(['pwd', 'otp'], 'passkey')).toBe(false);
    expect(amrSatisfies(['hwk', 'user'], 'totp')).toBe(false);
    expect(amrSatisfies(['hwk', 'user'], 'any')).toBe(true);
    expect(amrSatisfies(undefined, 'any')).toBe(false);
  });

  it('collects the factors required by the active roles only', () => {
    const grants = [
      { role: 'govauth-admin', expiresAt: null },
      { role: 'operator', expiresAt: NOW - 1 }, // expired: requires nothing
      { role: 'viewer', expiresAt: null },
    ];
    expect(requiredFactorsOf(roles, grants, NOW)).toEqual([{ factor: 'passkey', roles: ['govauth-admin'] }]);
    expect(missingFactors(requiredFactorsOf(roles, grants, NOW), { totp: true, passkeys: 0 })).toEqual([{ factor: 'passkey', roles: ['govauth-admin'] }]);
    expect(missingFactors(requiredFactorsOf(roles, grants, NOW), { totp: false, passkeys: 2 })).toEqual([]);
  });
});

describe('GOVAUTH_WEBAUTHN_RP_ID', () => {
  it('defaults to the issuer host, without the port', () => {
    expect(rpIdFor('https://auth.example.com:8443', loadConfig({}).webauthn)).toBe('auth.example.com');
  });

  it('accepts the issuer host or a parent domain, and refuses anything else with a clear message', () => {
    const base = { GOVAUTH_ISSUER: 'https://auth.example.com', GOVAUTH_TRUST_PROXY: 'true' };
    expect(loadConfig({ ...base, GOVAUTH_WEBAUTHN_RP_ID: 'Example.com' }).webauthn.rpId).toBe('example.com');
    expect(rpIdFor('https://auth.example.com', loadConfig({ ...base, GOVAUTH_WEBAUTHN_RP_ID: 'example.com' }).webauthn)).toBe('example.com');
    expect(() => loadConfig({ ...base, GOVAUTH_WEBAUTHN_RP_ID: 'evil.example' })).toThrow(/GOVAUTH_WEBAUTHN_RP_ID=evil\.example: must be the issuer's host \(auth\.example\.com\) or a parent domain/);
    expect(() => loadConfig({ ...base, GOVAUTH_WEBAUTHN_RP_ID: 'com' })).toThrow(/top-level domain/);
    expect(() => loadConfig({ ...base, GOVAUTH_WEBAUTHN_RP_ID: 'https://example.com' })).toThrow(/GOVAUTH_WEBAUTHN_RP_ID.*host name without scheme or port/);
  });
});

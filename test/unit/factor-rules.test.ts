import { describe, expect, it } from 'vitest';
import { decideFactorRemoval, rolesRequiringMfa } from '../../src/governance/factor-rules.ts';
import type { PolicySnapshot, RoleDef, ScopeDef } from '../../src/governance/policy-model.ts';

const scope = (name: string, sensitivity: ScopeDef['sensitivity']): [string, ScopeDef] => [name, { name, description: '', sensitivity, maxTtl: null }];
const role = (name: string, scopes: string[]): [string, RoleDef] => [name, { name, description: '', scopes: new Set(scopes) }];
const snapshot = {
  scopes: new Map([scope('deploy', 'high'), scope('read', 'low')]),
  roles: new Map([role('admin', ['deploy', 'read']), role('reader', ['read']), role('operator', ['deploy'])]),
  resources: new Map(),
  clients: new Map(),
  delegations: new Map(),
} as unknown as PolicySnapshot;
const NOW = 1_800_000_000_000;

describe('rolesRequiringMfa', () => {
  it('names the active roles with a high-sensitivity scope, or that a requirement names', () => {
    expect(rolesRequiringMfa(snapshot, [{ role: 'reader', expiresAt: null }], NOW)).toEqual([]);
    expect(rolesRequiringMfa(snapshot, [{ role: 'operator', expiresAt: null }, { role: 'admin', expiresAt: NOW + 1 }, { role: 'reader', expiresAt: null }], NOW)).toEqual(['admin', 'operator']);
    // An expired grant and an unknown role require nothing.
    expect(rolesRequiringMfa(snapshot, [{ role: 'admin', expiresAt: NOW }, { role: 'ghost', expiresAt: null }], NOW)).toEqual([]);
    // A per-role requirement (passkeys) counts too.
    expect(rolesRequiringMfa(snapshot, [{ role: 'reader', expiresAt: null }], NOW, (r) => r.name === 'reader')).toEqual(['reader']);
  });
});

describe('decideFactorRemoval', () => {
  const none = { totp: false, passkeys: 0, recoveryCodesLeft: 0 };
  it('refuses the last factor while a role requires one, naming the roles', () => {
    const d = decideFactorRemoval({ ...none, totp: true, recoveryCodesLeft: 10 }, 'totp', ['admin', 'operator']);
    expect(d.ok).toBe(false);
    expect(d.ok ? '' : d.message).toContain('roles admin, operator require one');
    expect(decideFactorRemoval({ ...none, passkeys: 1 }, 'passkey', ['admin'])).toMatchObject({ ok: false });
  });
  it('allows it when another factor stays, or no role requires one; last says the recovery codes go', () => {
    expect(decideFactorRemoval({ ...none, totp: true, passkeys: 1 }, 'totp', ['admin'])).toEqual({ ok: true, last: false });
    expect(decideFactorRemoval({ ...none, totp: true, passkeys: 2 }, 'passkey', ['admin'])).toEqual({ ok: true, last: false });
    expect(decideFactorRemoval({ ...none, totp: true }, 'totp', [])).toEqual({ ok: true, last: true });
  });
  it('refuses removing a factor the person does not have', () => {
    expect(decideFactorRemoval(none, 'totp', [])).toMatchObject({ ok: false });
    expect(decideFactorRemoval({ ...none, totp: true }, 'passkey', [])).toMatchObject({ ok: false });
  });
});

// The one rule for removing a factor (factor-rules.ts): roles requiring a factor by name
// (role require-factor) and roles carrying a high-sensitivity scope.
import { describe, expect, it } from 'vitest';
import { decideFactorRemoval, rolesRequiringMfa } from '../../src/governance/factor-rules.ts';
import type { RequiredFactor } from '../../src/governance/factors.ts';
import type { PolicySnapshot, RoleDef, RoleGrant, ScopeDef } from '../../src/governance/policy-model.ts';

const scope = (name: string, sensitivity: ScopeDef['sensitivity']): [string, ScopeDef] => [name, { name, description: '', sensitivity, maxTtl: null }];
const role = (name: string, scopes: string[], requireFactor: RequiredFactor | null = null): [string, RoleDef] => [name, { name, description: '', scopes: new Set(scopes), requireFactor }];
const snapshot = {
  scopes: new Map([scope('deploy', 'high'), scope('read', 'low')]),
  roles: new Map([
    role('admin', ['deploy', 'read']),
    role('reader', ['read']),
    role('operator', ['deploy']),
    role('keyholder', ['read'], 'passkey'),
    role('ops', ['read'], 'any'),
    role('sre', ['read'], 'any'),
    role('coder', ['read'], 'totp'),
  ]),
  resources: new Map(),
  clients: new Map(),
  delegations: new Map(),
} as unknown as PolicySnapshot;
const NOW = 1_800_000_000_000;
const held = (...names: string[]): RoleGrant[] => names.map((r) => ({ role: r, expiresAt: null }));
const none = { totp: false, passkeys: 0, recoveryCodesLeft: 0 };
const decide = (grants: RoleGrant[], status: typeof none, removing: 'totp' | 'passkey') => decideFactorRemoval({ snapshot, grants, now: NOW, status, removing });

describe('rolesRequiringMfa', () => {
  it('names the active roles with a high-sensitivity scope, or that require a factor by name', () => {
    expect(rolesRequiringMfa(snapshot, held('reader'), NOW)).toEqual([]);
    expect(rolesRequiringMfa(snapshot, [{ role: 'operator', expiresAt: null }, { role: 'admin', expiresAt: NOW + 1 }, { role: 'reader', expiresAt: null }], NOW)).toEqual(['admin', 'operator']);
    // An expired grant and an unknown role require nothing.
    expect(rolesRequiringMfa(snapshot, [{ role: 'admin', expiresAt: NOW }, { role: 'ghost', expiresAt: null }], NOW)).toEqual([]);
    expect(rolesRequiringMfa(snapshot, held('reader', 'keyholder'), NOW)).toEqual(['keyholder']);
  });
});

describe('decideFactorRemoval', () => {
  it('refuses the last factor while a high-sensitivity role is held, naming the roles', () => {
    const d = decide(held('admin', 'operator'), { ...none, totp: true, recoveryCodesLeft: 10 }, 'totp');
    expect(d.ok).toBe(false);
    expect(d.ok ? '' : d.message).toContain('roles admin, operator require one');
    expect(decide(held('admin'), { ...none, passkeys: 1 }, 'passkey')).toMatchObject({ ok: false });
  });

  it('allows it when another factor stays, or no role requires one; last says the recovery codes go', () => {
    expect(decide(held('admin'), { ...none, totp: true, passkeys: 1 }, 'totp')).toEqual({ ok: true, last: false });
    expect(decide(held('admin'), { ...none, totp: true, passkeys: 2 }, 'passkey')).toEqual({ ok: true, last: false });
    expect(decide(held('reader'), { ...none, totp: true }, 'totp')).toEqual({ ok: true, last: true });
  });

  it('keeps the last passkey of a role requiring a passkey, while TOTP may go', () => {
    const both = { totp: true, passkeys: 1, recoveryCodesLeft: 10 };
    const d = decide(held('keyholder'), both, 'passkey');
    expect(d.ok ? '' : d.message).toMatch(/keyholder requires a passkey, and this is your last one/);
    expect(decide(held('keyholder'), both, 'totp')).toEqual({ ok: true, last: false });
    expect(decide(held('keyholder'), { ...both, passkeys: 2 }, 'passkey')).toEqual({ ok: true, last: false });
    // TOTP and recovery codes do not stand in for the passkey: the last one stays with them.
    expect(decide(held('keyholder'), { totp: true, passkeys: 1, recoveryCodesLeft: 10 }, 'passkey')).toMatchObject({ ok: false });
  });

  it('keeps the last TOTP of a role requiring TOTP, and the last of either for any', () => {
    expect(decide(held('coder'), { ...none, totp: true, passkeys: 3 }, 'totp')).toMatchObject({ ok: false });
    const d = decide(held('ops', 'sre'), { ...none, totp: true }, 'totp');
    expect(d.ok ? '' : d.message).toMatch(/roles ops, sre require a second factor/);
    expect(decide(held('ops'), { ...none, totp: true, passkeys: 1 }, 'totp')).toEqual({ ok: true, last: false });
  });

  it('refuses removing a factor the person does not have', () => {
    expect(decide([], none, 'totp')).toMatchObject({ ok: false });
    expect(decide([], { ...none, totp: true }, 'passkey')).toMatchObject({ ok: false });
  });
});

describe('through the role hierarchy', () => {
  // `lead` includes `keyholder` (passkey required) and `admin` (a high-sensitivity scope): whoever
  // holds `lead` holds both, so both requirements apply to them (role-hierarchy.ts).
  const withIncludes = {
    ...snapshot,
    roles: new Map([...snapshot.roles, ['lead', { name: 'lead', description: '', scopes: new Set(['read']), requireFactor: null, includes: new Set(['keyholder', 'admin']) }]]),
  } as PolicySnapshot;

  it('a role held through an inclusion requires its factor, and its high scopes need one', () => {
    expect(rolesRequiringMfa(withIncludes, held('lead'), NOW)).toEqual(['admin', 'keyholder']);
    const both = { totp: true, passkeys: 1, recoveryCodesLeft: 10 };
    const d = decideFactorRemoval({ snapshot: withIncludes, grants: held('lead'), now: NOW, status: both, removing: 'passkey' });
    expect(d.ok ? '' : d.message).toMatch(/keyholder requires a passkey/);
    expect(decideFactorRemoval({ snapshot: withIncludes, grants: held('lead'), now: NOW, status: { ...both, passkeys: 0 }, removing: 'totp' })).toMatchObject({ ok: false });
  });
});

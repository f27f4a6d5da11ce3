import { describe, expect, it } from 'vitest';
import { decideClientCredentials } from '../../src/governance/effective-grant.ts';
import { defaultAudienceFor, heldScopes, type ClientDef, type PolicySnapshot } from '../../src/governance/policy-model.ts';

const NOW = Date.UTC(2026, 10, 23, 12);
const snapshot: PolicySnapshot = {
  scopes: new Map([
    ['a.read', { name: 'a.read', description: '', sensitivity: 'low', maxTtl: null }],
    ['a.write', { name: 'a.write', description: '', sensitivity: 'medium', maxTtl: 120 }],
    ['b.read', { name: 'b.read', description: '', sensitivity: 'low', maxTtl: null }],
  ]),
  resources: new Map([
    ['https://a.example', { audience: 'https://a.example', name: 'A', tokenTtl: null, scopes: new Set(['a.read', 'a.write']) }],
    ['https://b.example', { audience: 'https://b.example', name: 'B', tokenTtl: 600, scopes: new Set(['b.read']) }],
  ]),
  roles: new Map([
    ['reader', { name: 'reader', description: '', scopes: new Set(['a.read', 'b.read']) }],
    ['writer', { name: 'writer', description: '', scopes: new Set(['a.write']) }],
  ]),
  clients: new Map(),
  delegations: new Map(),
};
const defaults = { accessTokenTtl: 300, defaultResource: undefined };
const client = (roles: ClientDef['roles'], ceiling: string[] | null = null): ClientDef => ({
  id: 'cl_x',
  name: 'x',
  secretHash: 'h', secretExpiresAt: null, previousSecretHash: null, previousSecretValidUntil: null,
  grantTypes: ['client_credentials'],
  redirectUris: [],
  postLogoutRedirectUris: [],
  scopeCeiling: ceiling && new Set(ceiling),
  introspectAudience: null,
  adminAccess: false,
  disabled: false,
  roles,
});

describe('decideClientCredentials', () => {
  it('grants requested ∩ role scopes ∩ resource scopes', () => {
    const d = decideClientCredentials(snapshot, client([{ role: 'reader', expiresAt: null }]), 'https://a.example', ['a.read', 'a.write', 'b.read'], defaults, NOW);
    expect(d).toEqual({ audience: 'https://a.example', scopes: ['a.read'], roles: ['reader'], ttl: 300 });
  });

  it('grants everything held for the resource when no scope is requested', () => {
    const d = decideClientCredentials(snapshot, client([{ role: 'reader', expiresAt: null }, { role: 'writer', expiresAt: null }]), 'https://a.example', undefined, defaults, NOW);
    expect(d.scopes).toEqual(['a.read', 'a.write']);
    expect(d.roles).toEqual(['reader', 'writer']);
    expect(d.ttl).toBe(120); // a.write's max TTL
  });

  it('uses the resource TTL when no scope caps it', () => {
    expect(decideClientCredentials(snapshot, client([{ role: 'reader', expiresAt: null }]), 'https://b.example', undefined, defaults, NOW).ttl).toBe(600);
  });

  it('ignores expired role grants and clips the lifetime to the grant expiry', () => {
    const expired = client([{ role: 'reader', expiresAt: NOW - 1 }]);
    expect(() => decideClientCredentials(snapshot, expired, 'https://a.example', undefined, defaults, NOW)).toThrow(/holds no scopes/);
    const soon = client([{ role: 'reader', expiresAt: NOW + 42_000 }]);
    expect(decideClientCredentials(snapshot, soon, 'https://a.example', undefined, defaults, NOW).ttl).toBe(42);
  });

  it('honours the client ceiling', () => {
    const c = client([{ role: 'reader', expiresAt: null }, { role: 'writer', expiresAt: null }], ['a.write']);
    expect(decideClientCredentials(snapshot, c, 'https://a.example', undefined, defaults, NOW).scopes).toEqual(['a.write']);
  });

  it('refuses unknown resources and empty grants with the OAuth codes', () => {
    const c = client([{ role: 'reader', expiresAt: null }]);
    expect(() => decideClientCredentials(snapshot, c, 'https://nope.example', undefined, defaults, NOW)).toThrow(expect.objectContaining({ code: 'invalid_target' }));
    expect(() => decideClientCredentials(snapshot, c, 'https://a.example', ['a.write'], defaults, NOW)).toThrow(expect.objectContaining({ code: 'invalid_scope' }));
  });
});

describe('defaultAudienceFor', () => {
  it('prefers the configured default, else the single resource the client holds scopes on', () => {
    expect(defaultAudienceFor(snapshot, client([{ role: 'writer', expiresAt: null }]), defaults, NOW)).toBe('https://a.example');
    expect(defaultAudienceFor(snapshot, client([{ role: 'reader', expiresAt: null }]), defaults, NOW)).toBeUndefined(); // two resources
    expect(defaultAudienceFor(snapshot, client([]), { ...defaults, defaultResource: 'https://b.example' }, NOW)).toBe('https://b.example');
  });
});

describe('heldScopes', () => {
  it('keeps the longest-lived grant of a scope held through several roles', () => {
    const held = heldScopes(snapshot, [{ role: 'reader', expiresAt: NOW + 1000 }, { role: 'reader', expiresAt: null }], NOW);
    expect(held.get('a.read')?.until).toBe(Number.POSITIVE_INFINITY);
  });
});

// The trust policy's pure rules: host patterns, who is vetted, and the ceilings a self-registered
// client is held to, folded into the ClientDef the one per-scope rule reads.
import { describe, expect, it } from 'vitest';
import type { ScopeDef } from '../../src/governance/policy-model.ts';
import { withheldReason } from '../../src/governance/policy-model.ts';
import { selfRegisteredClientDefs } from '../../src/governance/self-registered-clients.ts';
import { checkHostPattern, DEFAULT_TRUST_POLICY, hostMatches, metadataDocumentRefusal, selfRegisteredCeilings, type SelfRegistration, type TrustPolicy } from '../../src/governance/self-registration.ts';

const scope = (name: string, sensitivity: ScopeDef['sensitivity']): [string, ScopeDef] => [name, { name, description: '', sensitivity, maxTtl: null }];
const SCOPES = new Map([scope('read', 'low'), scope('write', 'medium'), scope('deploy', 'high')]);
const reg = (over: Partial<SelfRegistration> = {}): SelfRegistration => ({ kind: 'metadata_document', host: 'agent.vendor.test', trust: 'unreviewed', scopeCeiling: null, resourceCeiling: null, ...over });
const policy = (over: Partial<TrustPolicy> = {}): TrustPolicy => ({ ...DEFAULT_TRUST_POLICY, ...over });

describe('trusted host patterns', () => {
  it('accepts host names and one-level wildcards, lower-cased; refuses the rest', () => {
    expect(checkHostPattern(' MCP.Example.com ')).toBe('mcp.example.com');
    expect(checkHostPattern('*.example.com')).toBe('*.example.com');
    for (const bad of ['*.com', '*', 'a..b', '-a.example', 'https://a.example', 'a.example/x', 'a b', '*.*.example.com', 'x'.repeat(254)]) expect(() => checkHostPattern(bad), bad).toThrow();
  });

  it('matches a wildcard below the domain only, never the domain itself or a look-alike', () => {
    expect(hostMatches('*.example.com', 'mcp.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'a.b.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'example.com')).toBe(false);
    expect(hostMatches('*.example.com', 'evilexample.com')).toBe(false);
    expect(hostMatches('mcp.example.com', 'MCP.example.com')).toBe(true);
  });
});

describe('ceilings', () => {
  it('holds an unvetted client below high sensitivity by default, or to the policy ceiling', () => {
    expect([...(selfRegisteredCeilings(policy(), reg(), SCOPES).scopes ?? [])].sort()).toEqual(['read', 'write']);
    expect([...(selfRegisteredCeilings(policy({ scopeCeiling: new Set(['read']) }), reg(), SCOPES).scopes ?? [])]).toEqual(['read']);
  });

  it('lifts the unvetted ceiling for an approved client or a trusted host; restricted gets its own; blocked gets nothing', () => {
    expect(selfRegisteredCeilings(policy(), reg({ trust: 'approved' }), SCOPES)).toEqual({ scopes: null, resources: null });
    expect(selfRegisteredCeilings(policy({ trustedHosts: ['*.vendor.test'] }), reg(), SCOPES)).toEqual({ scopes: null, resources: null });
    const restricted = selfRegisteredCeilings(policy({ trustedHosts: ['*.vendor.test'] }), reg({ trust: 'restricted', scopeCeiling: new Set(['write']) }), SCOPES);
    expect([...(restricted.scopes ?? [])]).toEqual(['write']);
    expect(selfRegisteredCeilings(policy(), reg({ trust: 'blocked' }), SCOPES)).toEqual({ scopes: new Set(), resources: new Set() });
  });

  it('reaches the one per-scope rule: a high-sensitivity scope is not_allowed_for_app for an unvetted client', () => {
    const row = { clientId: 'https://agent.vendor.test/client.json', kind: 'metadata_document', host: 'agent.vendor.test', name: 'Agent', redirectUris: '["http://127.0.0.1/cb"]', trust: 'unreviewed', scopeCeiling: null, resourceCeiling: null, createdAt: new Date(), reviewedAt: null };
    const clients = selfRegisteredClientDefs(new Map(), [row], policy({ resourceCeiling: new Set(['https://api.example']) }), SCOPES);
    const client = clients.get(row.clientId);
    if (!client) throw new Error('no client');
    const resource = { audience: 'https://api.example', name: 'API', tokenTtl: null, scopes: new Set(['read', 'deploy']) };
    const snapshot = { scopes: SCOPES, resources: new Map([[resource.audience, resource]]), roles: new Map(), clients, delegations: new Map() };
    const holder = { held: new Map([['read', { until: Infinity, roles: ['r'] }], ['deploy', { until: Infinity, roles: ['r'] }]]), person: { mfa: 'fresh' as const, mfaEnrolled: true } };
    expect(withheldReason(snapshot, resource, client, 'read', holder)).toBeUndefined();
    expect(withheldReason(snapshot, resource, client, 'deploy', holder)).toBe('not_allowed_for_app');
    expect(client.resourceCeiling?.has('https://api.example')).toBe(true);
    expect(client.adminAccess).toBe(false);
  });
});

describe('metadata documents from unknown hosts', () => {
  it('are refused when the policy admits none, unless an administrator decided on this client; a block always refuses', () => {
    const closed = policy({ allowUnknownHosts: false, trustedHosts: ['*.trusted.test'] });
    expect(metadataDocumentRefusal(closed, 'agent.vendor.test', undefined)).toMatch(/not trusted/);
    expect(metadataDocumentRefusal(closed, 'mcp.trusted.test', undefined)).toBeUndefined();
    expect(metadataDocumentRefusal(closed, 'agent.vendor.test', reg({ trust: 'approved' }))).toBeUndefined();
    expect(metadataDocumentRefusal(policy(), 'agent.vendor.test', reg({ trust: 'blocked' }))).toMatch(/blocked/);
  });
});

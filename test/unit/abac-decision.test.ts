// The Cedar policy step (src/governance/abac): table-driven decisions for time windows, CIDR
// zones, labels, second-factor freshness and delegation depth, evaluated by cedar-wasm for real;
// forbid always wins (property test); the step inside the one scope rule (effective-grant.ts);
// validation refuses what it must; hostile attribute input.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createScopeJudge, type AbacFacts, type AbacPrincipal } from '../../src/governance/abac/abac-decision.ts';
import { checkAttributeKey, checkAttributeValue, checkCidr, checkZoneName, parseAssignments, type AbacData, type AttributeSubject } from '../../src/governance/abac/abac-model.ts';
import { compilePolicySet, validatePolicySources } from '../../src/governance/abac/cedar-policy-set.ts';
import type { ActivePolicy } from '../../src/governance/abac/abac-store.ts';
import { effectiveGrant, evaluateGrant, livenessRefusal } from '../../src/governance/effective-grant.ts';
import type { ClientDef, PolicySnapshot, ResourceDef, UserDef } from '../../src/governance/policy-model.ts';

const client: ClientDef = { id: 'app', name: 'App', secretHash: null, secretExpiresAt: null, previousSecretHash: null, previousSecretValidUntil: null, grantTypes: ['client_credentials'], redirectUris: [], postLogoutRedirectUris: [], scopeCeiling: null, introspectAudience: null, adminAccess: false, disabled: false, roles: [{ role: 'ops', expiresAt: null }] };
const alice: UserDef = { id: 'usr_alice', email: 'alice@example.com', disabled: false, mfaEnrolled: true, roles: [{ role: 'ops', expiresAt: null }] };
const models: ResourceDef = { audience: 'https://models.example', name: 'Models', tokenTtl: null, scopes: new Set(['ai.deploy.manage', 'ai.training.write', 'data.pii.read']) };
const snapshot: PolicySnapshot = {
  scopes: new Map([
    ['ai.deploy.manage', { name: 'ai.deploy.manage', description: 'd', sensitivity: 'medium', maxTtl: null }],
    ['ai.training.write', { name: 'ai.training.write', description: 't', sensitivity: 'low', maxTtl: null }],
    ['data.pii.read', { name: 'data.pii.read', description: 'p', sensitivity: 'low', maxTtl: null }],
  ]),
  resources: new Map([[models.audience, models]]),
  roles: new Map([['ops', { name: 'ops', description: '', scopes: new Set(['ai.deploy.manage', 'ai.training.write', 'data.pii.read']) }]]),
  clients: new Map([[client.id, client]]),
  delegations: new Map(),
};
const data: AbacData = {
  attributes: new Map<AttributeSubject, Map<string, Record<string, string>>>([
    ['person', new Map([['usr_alice', { region: 'eu', employment: 'employee' }]])],
    ['client', new Map([['app', { team: 'ml' }]])],
    ['resource', new Map([['https://models.example', { classification: 'internal' }]])],
    ['scope', new Map([['data.pii.read', { classification: 'pii' }]])],
  ]),
  zones: [{ name: 'corporate', cidrs: ['10.0.0.0/8', '2001:db8::/32'] }],
};

const POLICIES = {
  'baseline.cedar': '@id("baseline")\npermit(principal, action, resource);',
  'deploy.cedar': `@id("deploy-corporate-working-days")
@reason("only from the corporate network on working days")
forbid(principal, action == Action::"ai.deploy.manage", resource)
unless { context.zones.contains("corporate") && context.weekday <= 5 && context.hour >= 8 && context.hour < 18 };`,
  'pii.cedar': `@id("pii-eu-mfa")
forbid(principal, action, resource)
when { context.scope.hasTag("classification") && context.scope.getTag("classification") == "pii" }
unless { principal is Person && principal.hasTag("region") && principal.getTag("region") == "eu" && context.mfa && context has mfaAgeSeconds && context.mfaAgeSeconds <= 900 };`,
  'agents.cedar': `@id("agent-depth")
forbid(principal is Agent, action == Action::"ai.training.write", resource) when { context.delegationDepth > 1 || context.hour >= 20 || context.hour < 6 };`,
};

const set = compilePolicySet(1, 'a'.repeat(64), POLICIES);
const judge = createScopeJudge(set, snapshot.scopes, data);
// Wednesday 2026-12-02, 10:00 UTC.
const WED_10 = Date.UTC(2026, 11, 2, 10);
const base: AbacFacts = { at: WED_10, sourceIp: '10.1.2.3', amr: ['pwd'], authTime: undefined, binding: 'bearer', delegationDepth: 0, grantType: 'authorization_code' };
const person: AbacPrincipal = { kind: 'person', user: alice, client };
const agent: AbacPrincipal = { kind: 'agent', user: alice, client };
const app: AbacPrincipal = { kind: 'client', client };

describe('policy decisions (cedar-wasm, compiled once)', () => {
  const rows: [string, AbacPrincipal, string, Partial<AbacFacts>, boolean, string[]][] = [
    // time windows
    ['working hours, corporate', person, 'ai.deploy.manage', {}, true, ['baseline']],
    ['07:59 is outside the window', person, 'ai.deploy.manage', { at: WED_10 - 2 * 3_600_000 - 60_000 }, false, ['deploy-corporate-working-days']],
    ['18:00 is outside the window', person, 'ai.deploy.manage', { at: WED_10 + 8 * 3_600_000 }, false, ['deploy-corporate-working-days']],
    ['17:59 is inside', person, 'ai.deploy.manage', { at: WED_10 + 8 * 3_600_000 - 60_000 }, true, ['baseline']],
    ['Saturday is not a working day', person, 'ai.deploy.manage', { at: WED_10 + 3 * 86_400_000 }, false, ['deploy-corporate-working-days']],
    // CIDR zones
    ['outside every zone', person, 'ai.deploy.manage', { sourceIp: '203.0.113.9' }, false, ['deploy-corporate-working-days']],
    ['IPv6 inside the zone', person, 'ai.deploy.manage', { sourceIp: '2001:db8::42' }, true, ['baseline']],
    ['IPv4-mapped IPv6 inside the zone', app, 'ai.deploy.manage', { sourceIp: '::ffff:10.9.9.9' }, true, ['baseline']],
    ['unknown address: no zone', app, 'ai.deploy.manage', { sourceIp: undefined }, false, ['deploy-corporate-working-days']],
    // labels and MFA freshness
    ['pii without a second factor', person, 'data.pii.read', {}, false, ['pii-eu-mfa']],
    ['pii with a fresh second factor', person, 'data.pii.read', { amr: ['pwd', 'otp'], authTime: WED_10 / 1000 - 60 }, true, ['baseline']],
    ['pii with a second factor 901 s old', person, 'data.pii.read', { amr: ['pwd', 'otp'], authTime: WED_10 / 1000 - 901 }, false, ['pii-eu-mfa']],
    ['pii to a client: never', app, 'data.pii.read', {}, false, ['pii-eu-mfa']],
    ['pii to an agent for alice: never', agent, 'data.pii.read', { amr: ['pwd', 'otp'], authTime: WED_10 / 1000, delegationDepth: 1 }, false, ['pii-eu-mfa']],
    // delegation depth
    ['agent at depth 1 by day', agent, 'ai.training.write', { delegationDepth: 1 }, true, ['baseline']],
    ['agent at depth 2', agent, 'ai.training.write', { delegationDepth: 2 }, false, ['agent-depth']],
    ['agent at night', agent, 'ai.training.write', { delegationDepth: 1, at: WED_10 + 11 * 3_600_000 }, false, ['agent-depth']],
    ['the person at night', person, 'ai.training.write', { at: WED_10 + 11 * 3_600_000 }, true, ['baseline']],
  ];
  it.each(rows)('%s', (_name, principal, scope, facts, permitted, policies) => {
    const v = judge.judge(principal, models, scope, { ...base, ...facts });
    expect(v.permitted).toBe(permitted);
    expect(v.policies).toEqual(policies);
    if (!permitted) expect(v.message).toMatch(/forbidden by policy/);
  });

  it('the @reason annotation is the message', () => {
    const v = judge.judge(person, models, 'ai.deploy.manage', { ...base, sourceIp: '192.0.2.1' });
    expect(v.message).toBe('forbidden by policy deploy-corporate-working-days: only from the corporate network on working days');
  });

  it('with no permit at all, Cedar denies (no_permit)', () => {
    const only = createScopeJudge(compilePolicySet(2, 'b'.repeat(64), { 'f.cedar': 'forbid(principal, action == Action::"data.pii.read", resource);' }), snapshot.scopes, data);
    expect(only.judge(person, models, 'ai.deploy.manage', base)).toMatchObject({ permitted: false, reason: 'no_permit', policies: [] });
  });

  it('an evaluation error in any policy denies, naming it (fail closed)', () => {
    // getTag without hasTag: an error for a principal without the tag; the forbid is skipped by Cedar but not by govauth.
    const erring = createScopeJudge(
      compilePolicySet(3, 'c'.repeat(64), { 'a.cedar': 'permit(principal, action, resource);\n@id("needs-team")\nforbid(principal is Person, action, resource) when { principal.getTag("team") == "x" };' }),
      snapshot.scopes,
      data,
    );
    const v = erring.judge(person, models, 'ai.deploy.manage', base);
    expect(v).toMatchObject({ permitted: false, reason: 'evaluation_error', policies: ['needs-team'] });
  });
});

describe('forbid always wins', () => {
  it('a forbid that applies denies whatever permits exist (property)', () => {
    const scopeArb = fc.constantFrom(...models.scopes);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 3 }), scopeArb, fc.integer({ min: 0, max: 23 }), fc.boolean(), (permits, forbids, scope, hour, withIp) => {
        const files: Record<string, string> = {};
        for (let i = 0; i < permits; i++) files[`p${i}.cedar`] = `permit(principal, action, resource) when { context.hour >= ${i} };`;
        for (let i = 0; i < forbids; i++) files[`f${i}.cedar`] = `forbid(principal, action == Action::"${scope}", resource) when { context.hour == ${hour} || ${i === 0 ? 'true' : 'false'} };`;
        files['all.cedar'] = 'permit(principal, action, resource);';
        const j = createScopeJudge(compilePolicySet(100, `${permits}${forbids}${hour}`.padEnd(12, '0'), files), snapshot.scopes, data);
        const v = j.judge(person, models, scope, { ...base, at: Date.UTC(2026, 11, 2, hour), sourceIp: withIp ? '10.0.0.1' : undefined });
        expect(v.permitted).toBe(forbids === 0);
        if (forbids) expect(v.reason).toBe('forbid');
      }),
      { numRuns: 60, seed: 24 },
    );
  });
});

describe('the policy step in the one scope rule (effective-grant.ts)', () => {
  const active: ActivePolicy = { state: 'active', version: 1, activatedAt: 0, judge };
  const revocations = { check: () => undefined };
  const defaults = { accessTokenTtl: 600, defaultResource: undefined };

  it('removes what the policy refuses, keeps the rest, and names the determining policies', () => {
    const g = effectiveGrant(snapshot, revocations, defaults, { principal: { kind: 'client' }, client, audience: models.audience, now: WED_10, policy: { active, facts: { ...base, grantType: 'client_credentials', sourceIp: '10.0.0.5' } } });
    expect(g.ok && g.scopes).toEqual(['ai.deploy.manage', 'ai.training.write']);
    expect(g.ok && g.policy?.removed.map((r) => [r.scope, r.verdict.policies])).toEqual([['data.pii.read', ['pii-eu-mfa']]]);
    expect(g.ok && g.policy?.permittedBy).toEqual(['baseline']);
  });

  it('invalid_scope with the policy named when nothing remains', () => {
    const g = effectiveGrant(snapshot, revocations, defaults, { principal: { kind: 'client' }, client, audience: models.audience, requested: ['data.pii.read'], now: WED_10, policy: { active, facts: base } });
    expect(g).toMatchObject({ ok: false, error: 'invalid_scope', reason: 'policy_denied' });
    expect(!g.ok && g.description).toContain('pii-eu-mfa');
  });

  it('an unloadable active set refuses with temporarily_unavailable', () => {
    const broken: ActivePolicy = { state: 'unavailable', version: 9, activatedAt: 0, error: 'parse error' };
    const g = effectiveGrant(snapshot, revocations, defaults, { principal: { kind: 'client' }, client, audience: models.audience, now: WED_10, policy: { active: broken, facts: base } });
    expect(g).toMatchObject({ ok: false, error: 'temporarily_unavailable', reason: 'policy_unavailable' });
  });

  it('no policy: exactly the roles (unchanged behaviour)', () => {
    const g = effectiveGrant(snapshot, revocations, defaults, { principal: { kind: 'client' }, client, audience: models.audience, now: WED_10 });
    expect(g.ok && g.scopes).toEqual(['ai.deploy.manage', 'ai.training.write', 'data.pii.read']);
  });

  it('introspection: a token carrying a scope the policy now refuses is policy_no_longer_permits', () => {
    const e = evaluateGrant(snapshot, revocations, { principal: { kind: 'client' }, client, audience: models.audience, requested: ['ai.deploy.manage', 'data.pii.read'], now: WED_10, policy: { active, facts: base } });
    expect(livenessRefusal([e], ['ai.deploy.manage', 'data.pii.read'], 'all')).toBe('policy_no_longer_permits');
  });
});

describe('validation', () => {
  it('refuses unknown actions, attributes and context fields against the generated schema', () => {
    const r = validatePolicySources(snapshot, {
      'x.cedar': 'permit(principal, action == Action::"no.such.scope", resource);',
      'y.cedar': 'permit(principal, action, resource) when { context.nosuch == 1 };',
      'z.cedar': 'permit(principal is Person, action, resource) when { principal.getTag("region") == "eu" };',
    });
    expect([...new Set(r.problems.map((p) => p.policy))].sort()).toEqual(['x#1', 'y#1', 'z#1']);
  });
  it('refuses syntax errors, templates, duplicate ids and bad file names', () => {
    expect(validatePolicySources(snapshot, { 'a.cedar': 'permit(principal, action, resource' }).problems[0]?.message).toMatch(/^a\.cedar:1:35: unexpected end of input/);
    expect(validatePolicySources(snapshot, { 'a.cedar': 'permit(principal == ?principal, action, resource);' }).problems.length).toBeGreaterThan(0);
    expect(validatePolicySources(snapshot, { 'a.cedar': '@id("x") permit(principal, action, resource);', 'b.cedar': '@id("x") permit(principal, action, resource);' }).problems[0]?.message).toMatch(/used twice/);
    expect(validatePolicySources(snapshot, { '../etc/passwd': 'permit(principal, action, resource);' }).problems[0]?.message).toMatch(/file name/);
  });
  it('says where a problem is as file:line:column, counting characters, not UTF-8 bytes', () => {
    const text = '// ünïcödé ✓\n@id("ok")\npermit(principal, action, resource);\n\n  @id("bad") permit(principal, action, resource) when { "✓" == context.nosuch };\n';
    const r = validatePolicySources(snapshot, { 'ok.cedar': 'permit(principal, action, resource);', 'p.cedar': text });
    expect(r.problems.length).toBeGreaterThan(0);
    for (const p of r.problems) expect(p.message).toMatch(/^p\.cedar:5:64: bad: .*attribute `nosuch` in context/);
    expect(text.split('\n')[4]?.slice(63)).toMatch(/^context\.nosuch/); // column 64, counted from 1
    const syntax = validatePolicySources(snapshot, { 's.cedar': '// ✓✓\npermit(principal, action, resource) when { ✓ };' });
    expect(syntax.problems[0]?.message).toMatch(/^s\.cedar:2:44: /);
  });
  it('warns when nothing is permitted', () => {
    expect(validatePolicySources(snapshot, { 'f.cedar': 'forbid(principal, action, resource);' }).warnings.join()).toMatch(/no policy permits/);
  });
  it('accepts the README policies', () => {
    expect(validatePolicySources(snapshot, POLICIES).problems).toEqual([]);
  });
});

describe('hostile attribute and zone input', () => {
  it.each(['', 'Region', '1x', 'a b', 'x'.repeat(65), 'a\u0000', 'ключ', '__proto__'])('key %j is refused', (k) => {
    expect(() => checkAttributeKey(k)).toThrow();
  });
  it.each(['', ' eu', 'eu ', 'a\nb', 'a\u2028b', 'x'.repeat(257)])('value %j is refused', (v) => {
    expect(() => checkAttributeValue('k', v)).toThrow();
  });
  it('parses key=value pairs, refusing pairs without a key', () => {
    expect(parseAssignments(['region=eu', 'note=a=b'])).toEqual({ region: 'eu', note: 'a=b' });
    expect(() => parseAssignments(['=eu'])).toThrow();
    expect(() => parseAssignments(['region'])).toThrow();
  });
  it.each(['10.0.0.0/33', '10.0.0/8', 'example.com/8', '10.0.0.0/8/1', '::/129', '10.0.0.0/-1'])('CIDR %j is refused', (c) => {
    expect(() => checkCidr(c)).toThrow();
  });
  it('normalises bare addresses to host ranges and refuses bad zone names', () => {
    expect(checkCidr('10.1.2.3')).toBe('10.1.2.3/32');
    expect(() => checkZoneName('Corp Net')).toThrow();
  });
});

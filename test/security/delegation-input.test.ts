// Hostile input to delegation policies, through the real CLI and the real admin API: unknown and
// malformed roles, resources and scopes, depths and lifetimes out of range or not numbers, text
// with control characters or too long, unknown and forged ids, duplicates, the admin API as a
// resource. Each refusal is a clear message with a stable code (CLI exit 1 or 2, HTTP 400, 404
// or 409), never a 5xx or a stack trace, and nothing is stored or recorded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventView } from '../../src/audit/audit-query.ts';
import type { DelegationPolicyView } from '../../src/governance/delegation-policies.ts';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { startTestServer, type CliResult, type TestServer } from '../helpers/test-server.ts';

const MODELS = 'https://models.example';
const ALLOW = ['delegation', 'allow', '--agent-role', 'coding-agent', '--for-role', 'data-scientist', '--resource', MODELS];

let t: TestServer;
let adminToken: string;
let existing: DelegationPolicyView;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await t.cliJson('role', 'create', 'coding-agent', '--scopes', '');
  await t.cliJson('resource', 'create', 'https://other.example', '--name', 'Other', '--scopes', 'ai.usage.log.read');
  existing = (await t.cliJson<{ policy: DelegationPolicyView }>(...ALLOW, '--scopes', 'ai.training.read', '--max-depth', '2')).policy;
  adminToken = await tokenFor(t.url, (await createAdminBots(t)).adminBot);
});
afterAll(() => t?.stop());

function expectRefused(r: CliResult, code: 1 | 2, error: string, message: RegExp, what: string): void {
  expect(r.code, `${what}: ${r.stderr}`).toBe(code);
  expect(r.stdout, what).toBe('');
  const out = JSON.parse(r.stderr) as { error: string; message: string };
  expect(Object.keys(out)).toEqual(['error', 'message']);
  expect(out.error, what).toBe(error);
  expect(out.message, what).toMatch(message);
  expect(out.message).not.toMatch(/internal error|prisma|\bat \/|Error:/i);
  expect(out.message).not.toMatch(/\p{Cc}/u);
}

const policiesNow = async (): Promise<string[]> => (await t.cliJson<{ policies: DelegationPolicyView[] }>('delegation', 'list')).policies.map((p) => p.id);

describe('govauth delegation allow refuses', () => {
  const cases: [string, string[], 1 | 2, string, RegExp][] = [
    ['a malformed agent role', ['delegation', 'allow', '--agent-role', 'Coding Agent', '--for-role', 'data-scientist', '--resource', MODELS], 1, 'invalid_request', /invalid role name "Coding Agent"/],
    ['an unknown agent role', ['delegation', 'allow', '--agent-role', 'ghost', '--for-role', 'data-scientist', '--resource', MODELS], 1, 'invalid_request', /no agent role named ghost \(create it first with: govauth role create\)/],
    ['an unknown person role', ['delegation', 'allow', '--agent-role', 'coding-agent', '--for-role', 'nobody', '--resource', MODELS], 1, 'invalid_request', /no person role named nobody/],
    ['every unknown name at once', ['delegation', 'allow', '--agent-role', 'ghost', '--for-role', 'nobody', '--resource', 'https://nowhere.example'], 1, 'invalid_request', /no agent role named ghost.*; no person role named nobody.*; no resource https:\/\/nowhere\.example \(register it first/],
    ['a resource that is not a URI', [...ALLOW.slice(0, 6), '--resource', 'models'], 1, 'invalid_request', /must be an absolute URI/],
    ['a resource with a fragment', [...ALLOW.slice(0, 6), '--resource', `${MODELS}#x`], 1, 'invalid_request', /without a fragment/],
    ['the admin API as the resource', [...ALLOW.slice(0, 6), '--resource', 'urn:govauth:admin'], 1, 'invalid_request', /the admin API \(urn:govauth:admin\) cannot be delegated/],
    ['a scope the resource does not offer', [...ALLOW, '--scopes', 'ai.training.read,ai.usage.log.nope'], 1, 'invalid_request', /scope\(s\) ai\.usage\.log\.nope not offered by https:\/\/models\.example \(it offers: ai\.deploy\.manage, /],
    ['a scope of another resource', [...ALLOW.slice(0, 6), '--resource', 'https://other.example', '--scopes', 'ai.training.read'], 1, 'invalid_request', /ai\.training\.read not offered by https:\/\/other\.example \(it offers: ai\.usage\.log\.read\)/],
    ['a reserved scope', [...ALLOW, '--scopes', 'openid'], 1, 'invalid_request', /reserved by OpenID Connect/],
    ['a malformed scope', [...ALLOW, '--scopes', 'a b'], 1, 'invalid_request', /invalid scope name "a b"/],
    ['an empty scope list', [...ALLOW, '--scopes', ' , '], 1, 'invalid_request', /at least one scope; leave them out to allow every scope/],
    ['depth 0', [...ALLOW, '--max-depth', '0'], 1, 'invalid_request', /max depth must be a whole number from 1 to 5/],
    ['depth 6', [...ALLOW, '--max-depth', '6'], 1, 'invalid_request', /max depth must be a whole number from 1 to 5/],
    ['depth "x"', [...ALLOW, '--max-depth', 'x'], 2, 'usage_error', /--max-depth must be a whole number \(got "x"\)/],
    ['depth -1', [...ALLOW, '--max-depth=-1'], 2, 'usage_error', /--max-depth must be a whole number/],
    ['depth 99999999999999999999', [...ALLOW, '--max-depth', '99999999999999999999'], 1, 'invalid_request', /max depth must be a whole number from 1 to 5/],
    ['a lifetime of garbage', [...ALLOW, '--max-ttl', 'soon'], 1, 'invalid_request', /--max-ttl must be seconds \(600\) or a duration such as 90s, 10m or 8h \(got "soon"\)/],
    ['a lifetime of 0', [...ALLOW, '--max-ttl', '0s'], 1, 'invalid_request', /--max-ttl must be between 1 second and 24 hours/],
    ['a lifetime past any token\'s', [...ALLOW, '--max-ttl', '2d'], 1, 'invalid_request', /--max-ttl must be between 1 second and 24 hours \(86400 seconds\)/],
    ['a negative lifetime', [...ALLOW, '--max-ttl=-5m'], 1, 'invalid_request', /--max-ttl must be seconds/],
    ['a fractional lifetime', [...ALLOW, '--max-ttl', '1.5h'], 1, 'invalid_request', /--max-ttl must be seconds/],
    ['a description that is too long', [...ALLOW, '--description', 'x'.repeat(501)], 1, 'invalid_request', /description must be at most 500 characters/],
    ['a description with control characters', [...ALLOW, '--description', 'ok\u001b[31mred'], 1, 'invalid_request', /description must not contain control characters/],
    ['a description with NUL', [...ALLOW, '--description', 'a\u0000b'], 1, 'invalid_request', /description must not contain control characters/],
    ['an empty description', [...ALLOW, '--description', '   '], 1, 'invalid_request', /description must not be empty/],
    ['a missing agent role', ['delegation', 'allow', '--for-role', 'data-scientist', '--resource', MODELS], 2, 'usage_error', /--agent-role is required/],
    ['a missing resource', ['delegation', 'allow', '--agent-role', 'coding-agent', '--for-role', 'data-scientist'], 2, 'usage_error', /--resource is required/],
    ['an unknown option', [...ALLOW, '--max-width', '3'], 2, 'usage_error', /Unknown option '--max-width'/],
    ['an identical policy', [...ALLOW, '--scopes', 'ai.training.read'], 1, 'conflict', new RegExp(`delegation policy ${'dp_\\S+'} already allows exactly this`)],
  ];

  it.each(cases)('%s', async (what, args, code, error, message) => {
    const before = await policiesNow();
    expectRefused(await t.cli(...args, '--json'), code, error, message, what);
    expect(await policiesNow()).toEqual(before);
  });

  it('records nothing for a refusal', async () => {
    const { events } = await t.cliJson<{ events: AuditEventView[] }>('audit', 'tail', '--action', 'admin.delegation_policy.*', '--limit', '100');
    expect(events.map((e) => e.subject)).toEqual([existing.id]);
  });
});

describe('govauth delegation show | remove | list refuse', () => {
  const ids: [string, RegExp][] = [
    ['dp_doesnotexist', /^no delegation policy dp_doesnotexist \(govauth delegation list shows them\)$/],
    ['cl_notapolicy', /^no delegation policy "cl_notapolicy"/],
    ["dp_x' OR '1'='1", /^no delegation policy "dp_x' OR '1'='1"/],
    ['dp_\u0007bell', /^no delegation policy "dp_\\u0007bell"/],
    [`dp_${'a'.repeat(5000)}`, /^no delegation policy "dp_a+"/],
    ['-dp_dash', /^no delegation policy "-dp_dash"/],
  ];
  it.each(ids)('an unknown or forged id: %s', async (id, message) => {
    for (const verb of ['show', 'remove']) {
      const r = await t.cli('delegation', verb, id, '--json');
      expectRefused(r, 1, 'not_found', message, `${verb} ${id.slice(0, 20)}`);
      expect(r.stderr.length).toBeLessThan(700);
    }
  });

  it('bad list filters', async () => {
    expectRefused(await t.cli('delegation', 'list', '--role', 'NOT A ROLE', '--json'), 1, 'invalid_request', /invalid role name/, 'role');
    expectRefused(await t.cli('delegation', 'list', '--resource', 'not a uri', '--json'), 1, 'invalid_request', /must be an absolute URI/, 'resource');
    expectRefused(await t.cli('delegation', 'show', '--json'), 2, 'usage_error', /expected <policy_id>/, 'no id');
  });
});

describe('POST /admin/v1/delegation-policies refuses', () => {
  type Err = { error: string; error_description: string };
  const base = { agent_role: 'coding-agent', subject_role: 'data-scientist', audience: MODELS };
  const cases: [string, unknown, number, string, RegExp][] = [
    ['a malformed role', { ...base, agent_role: 'Bad Role' }, 400, 'invalid_request', /^agent_role: invalid role name "Bad Role"/],
    ['an unknown role', { ...base, subject_role: 'nobody' }, 400, 'invalid_request', /no person role named nobody/],
    ['an unknown resource', { ...base, audience: 'https://nowhere.example' }, 400, 'invalid_request', /no resource https:\/\/nowhere\.example/],
    ['the admin API', { ...base, audience: 'urn:govauth:admin' }, 400, 'invalid_request', /cannot be delegated/],
    ['a scope not on the resource', { ...base, scopes: ['ai.usage.log.nope'] }, 400, 'invalid_request', /not offered by https:\/\/models\.example/],
    ['an empty scope list', { ...base, scopes: [] }, 400, 'invalid_request', /^scopes: /],
    ['scopes as a string', { ...base, scopes: 'ai.training.read' }, 400, 'invalid_request', /^scopes: /],
    ['depth 0', { ...base, max_depth: 0 }, 400, 'invalid_request', /^max_depth: /],
    ['depth 6', { ...base, max_depth: 6 }, 400, 'invalid_request', /^max_depth: /],
    ['depth "x"', { ...base, max_depth: 'x' }, 400, 'invalid_request', /^max_depth: /],
    ['depth 2.5', { ...base, max_depth: 2.5 }, 400, 'invalid_request', /^max_depth: /],
    ['a lifetime of garbage', { ...base, max_ttl: 'later' }, 400, 'invalid_request', /max_ttl/],
    ['a lifetime of 0', { ...base, max_ttl: 0 }, 400, 'invalid_request', /max_ttl/],
    ['a lifetime past any token\'s', { ...base, max_ttl: '2d' }, 400, 'invalid_request', /max_ttl/],
    ['a description that is too long', { ...base, description: 'x'.repeat(501) }, 400, 'invalid_request', /^description: /],
    ['a description with control characters', { ...base, description: 'a\u0000b' }, 400, 'invalid_request', /^description: must not contain control characters/],
    ['an unknown field', { ...base, max_width: 3 }, 400, 'invalid_request', /max_width: unknown field/],
    ['a missing field', { agent_role: 'coding-agent', audience: MODELS }, 400, 'invalid_request', /subject_role: is required/],
    ['an identical policy', { ...base, scopes: ['ai.training.read'], max_depth: 2 }, 409, 'conflict', /already allows exactly this/],
  ];

  it.each(cases)('%s', async (_what, body, status, error, message) => {
    const before = await policiesNow();
    const r = await callAdmin<Err>(t.url, adminToken, 'POST', '/delegation-policies', body);
    expect(r.status).toBe(status);
    expect(r.body.error).toBe(error);
    expect(r.body.error_description).toMatch(message);
    expect(await policiesNow()).toEqual(before);
  });

  it('GET and DELETE of an unknown or forged id: 404; bad list filters: 400', async () => {
    for (const id of ['dp_doesnotexist', 'cl_x', "dp_x'--", `dp_${'a'.repeat(3000)}`, '%00']) {
      for (const method of ['GET', 'DELETE']) {
        const r = await callAdmin<Err>(t.url, adminToken, method, `/delegation-policies/${encodeURIComponent(id)}`);
        expect(r.status, `${method} ${id.slice(0, 20)}`).toBe(404);
        expect(r.body.error).toBe('not_found');
      }
    }
    for (const query of ['role=Bad%20Role', 'resource=nope', 'role=a&role=b', 'other=1']) {
      expect((await callAdmin(t.url, adminToken, 'GET', `/delegation-policies?${query}`)).status, query).toBe(400);
    }
  });
});

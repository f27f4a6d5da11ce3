// Cedar policy sets end to end (issue 24): a real server on a real database, the real CLI and
// admin API, real OAuth clients. Roles AND policy at issuance (client_credentials and the
// authorization code flow, whose consent page says which policy left a scope out and why),
// policy_no_longer_permits at introspection after a change, validation before activation,
// rollback, fail closed on an unloadable active set, and hostile input to the new endpoints.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { policyDir } from '../helpers/cedar-policies.ts';
import { decodeJwt, tokenRequest, waitFor, type ClientCreds } from '../helpers/oauth.ts';
import { API, createResourceServer, createUser, createWebApp, discover, PASSWORD } from '../helpers/people.ts';
import { authorize, exchange, SignInSteps } from '../helpers/sign-in-steps.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let db: TestDatabase;
let t: TestServer;
let bot: ClientCreds;
let rs: ClientCreds;
let adminToken: string;

const ALL = 'ai.deploy.manage ai.prediction.run ai.predictions.execute ai.training.analyze ai.training.read ai.usage.log.read';

const BASELINE = '@id("baseline")\npermit(principal, action, resource);\n';
// The test client connects from 127.0.0.1: outside "corporate" until the zone is widened.
const DEPLOY_FROM_CORPORATE = `@id("deploy-from-corporate")
@reason("ai.deploy.manage only from the corporate network")
forbid(principal, action == Action::"ai.deploy.manage", resource) unless { context.zones.contains("corporate") };
`;
const NO_USAGE_LOGS_FOR_TEAM_X = `@id("usage-logs-not-for-team-x")
forbid(principal is Client, action == Action::"ai.usage.log.read", resource) when { principal.hasTag("team") && principal.getTag("team") == "x" };
`;

async function introspect(token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${t.url}/token/introspection`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${rs.client_id}:${rs.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  return (await res.json()) as Record<string, unknown>;
}

const cc = (scope?: string) => tokenRequest(t.url, { grant_type: 'client_credentials', resource: API, ...(scope && { scope }) }, { basic: bot });

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestServer({ db });
  await t.cliJson('init', '--demo');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'admin');
  rs = await createResourceServer(t);
  const { adminBot } = await createAdminBots(t);
  adminToken = await tokenFor(t.url, adminBot);
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await db?.drop();
});

describe('Cedar policy sets at issuance', () => {
  let before: string;

  it('with no active policy set, roles alone decide (unchanged behaviour)', async () => {
    const r = await cc();
    expect(r.status).toBe(200);
    expect(r.body.scope).toBe(ALL);
    before = String(r.body.access_token);
    expect((await introspect(before)).active).toBe(true);
  });

  it('refuses an invalid policy set at validate and at apply, and stores nothing', async () => {
    const dir = policyDir({ 'bad.cedar': 'permit(principal, action == Action::"no.such.scope", resource);' });
    const v = await t.cli('policy', 'validate', dir);
    expect(v.code).not.toBe(0);
    expect(v.stderr).toMatch(/no\.such\.scope/);
    const a = await t.cli('policy', 'apply', dir);
    expect(a.code).not.toBe(0);
    expect(await t.cliJson('policy', 'list')).toEqual({ versions: [] });
    const syntax = await t.cli('policy', 'apply', policyDir({ 'x.cedar': 'permit(principal, action, resource' }));
    expect(syntax.code).not.toBe(0);
  });

  it('applies a policy set: the scope it forbids is left out, the audit record names the policies', async () => {
    await t.cliJson('policy', 'zone', 'set', 'corporate', '--cidrs', '10.0.0.0/8');
    const applied = await t.cliJson<{ version: number; activated: boolean }>('policy', 'apply', policyDir({ 'baseline.cedar': BASELINE, 'deploy.cedar': DEPLOY_FROM_CORPORATE }));
    expect(applied).toMatchObject({ version: 1, activated: true });
    const r = await cc();
    expect(r.status).toBe(200);
    expect(r.body.scope).toBe(ALL.replace('ai.deploy.manage ', ''));
    const jti = decodeJwt(String(r.body.access_token)).payload.jti;
    const audit = await callAdmin<{ events: { action: string; detail: Record<string, unknown> }[] }>(t.url, adminToken, 'GET', '/audit?action=token.issued&limit=20');
    const record = audit.body.events.find((x) => x.detail.jti === jti);
    expect(record?.detail).toMatchObject({ policy_version: 1, policies: ['baseline'], policy_removed: [{ scope: 'ai.deploy.manage', reason: 'forbid', policies: ['deploy-from-corporate'] }] });
  });

  it('refuses with invalid_scope naming the policy when nothing requested remains', async () => {
    const r = await cc('ai.deploy.manage');
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_scope');
    expect(String(r.body.error_description)).toContain('deploy-from-corporate');
  });

  it('introspection reports a token issued before the change inactive (policy_no_longer_permits), a new one active', async () => {
    expect((await introspect(before)).active).toBe(false);
    // The introspection's audit record (written in the background) says why.
    const jti = decodeJwt(before).payload.jti;
    const { value } = await waitFor(async () => {
      const a = await callAdmin<{ events: { detail: Record<string, unknown> }[] }>(t.url, adminToken, 'GET', '/audit?action=token.introspected&limit=50');
      return a.body.events.find((e) => e.detail.jti === jti && e.detail.active === false);
    }, 5000, 50);
    expect(value.detail.reason).toBe('policy_no_longer_permits');
    const now = await cc();
    expect((await introspect(String(now.body.access_token))).active).toBe(true);
  });

  it('a zone change reaches issuance through the change feed', async () => {
    await t.cliJson('policy', 'zone', 'set', 'corporate', '--cidrs', '10.0.0.0/8,127.0.0.0/8,::1/128');
    expect((await cc('ai.deploy.manage')).status).toBe(200);
  });

  it('introspection judges a token again only after a change that concerns it', async () => {
    // Issued in a later second than the zone change (token times are in seconds), so judged by
    // the current state already.
    await new Promise((done) => setTimeout(done, 1100));
    const r = await cc('ai.deploy.manage');
    const token = String(r.body.access_token);
    expect((await introspect(token)).active).toBe(true);
    // Another client's attribute: not this token's concern (judged again, it would have no
    // source address and so no zone: inactive).
    await t.cliJson('client', 'attr', 'set', rs.client_id, 'team=api');
    expect((await introspect(token)).active).toBe(true);
    // A zone change concerns every token: judged again, without an address it is in no zone.
    await t.cliJson('policy', 'zone', 'set', 'lab', '--cidrs', '192.0.2.0/24');
    expect((await introspect(token)).active).toBe(false);
  });

  it('client attributes are read by policies; removing them restores the scope', async () => {
    await t.cliJson('policy', 'apply', policyDir({ 'baseline.cedar': BASELINE, 'deploy.cedar': DEPLOY_FROM_CORPORATE, 'logs.cedar': NO_USAGE_LOGS_FOR_TEAM_X }));
    await t.cliJson('client', 'attr', 'set', bot.client_id, 'team=x');
    expect((await cc('ai.usage.log.read')).body.error).toBe('invalid_scope');
    await t.cliJson('client', 'attr', 'remove', bot.client_id, 'team');
    expect((await cc('ai.usage.log.read')).status).toBe(200);
  });

  it('rolls back to the previous version, and activates none', async () => {
    expect(await t.cliJson('policy', 'rollback')).toMatchObject({ version: 1, previous: 2 });
    await t.cliJson('policy', 'activate', 'none');
    expect((await cc()).body.scope).toBe(ALL);
    await t.cliJson('policy', 'activate', '2');
  });

  it('an unloadable active set refuses issuance with temporarily_unavailable (fail closed)', async () => {
    const prisma = t.server.db.prisma;
    const row = await prisma.abacPolicySet.create({ data: { sources: JSON.stringify({ 'x.cedar': 'permit(principal, action, resource' }), sha256: 'f'.repeat(64), createdAt: new Date(), createdBy: 'test' } });
    await prisma.abacPolicyActivation.create({ data: { version: row.version, activatedAt: new Date(), activatedBy: 'test' } });
    await prisma.change.create({ data: { kind: 'abac-policy', key: String(row.version) } });
    await t.server.policy.sync();
    const r = await cc();
    expect(r.body.error).toBe('temporarily_unavailable');
    expect(r.body.access_token).toBeUndefined();
    await t.cliJson('policy', 'activate', '2');
    expect((await cc('ai.prediction.run')).status).toBe(200);
  });
});

describe('the consent page says which policy left a scope out, and why', () => {
  it('a person outside the eu region is not offered ai.training.read, and the page names the policy', async () => {
    await createUser(t, 'bob@example.com', ['data-scientist']);
    await t.cliJson('user', 'attr', 'set', 'bob@example.com', 'region=us');
    await t.cliJson('scope', 'label', 'set', 'ai.training.read', 'classification=pii');
    await t.cliJson('policy', 'apply', policyDir({
      'baseline.cedar': BASELINE,
      'pii.cedar': `@id("pii-eu-only")
@reason("pii training data only to people in the eu region")
forbid(principal, action, resource)
when { context.scope.hasTag("classification") && context.scope.getTag("classification") == "pii" }
unless { principal is Person && principal.hasTag("region") && principal.getTag("region") == "eu" };
`,
    }));
    const app = await createWebApp(t);
    const config = await discover(t, app);
    let consent = '';
    const { callback, req } = await authorize(config, 'openid ai.training.read ai.prediction.run', (page) => {
      if (page.kind === 'login') return { email: 'bob@example.com', password: PASSWORD };
      if (page.kind === 'consent') {
        consent = page.html;
        return { decision: 'allow' };
      }
      throw new Error(`unexpected ${page.kind} page`);
    }, { steps: new SignInSteps({ forwardedFor: null }) });
    expect(consent).toContain('Not included because of the access policy: ai.training.read (forbidden by policy pii-eu-only: pii training data only to people in the eu region).');
    // The token carries what the page offered: the policy's refusal holds at the token endpoint too.
    const tokens = await exchange(config, callback, req);
    expect(decodeJwt(tokens.access_token).payload.scope).toBe('ai.prediction.run');
  });
});

describe('hostile input', () => {
  it.each([
    ['PATCH', '/users/bob%40example.com/attributes', { attributes: { 'Bad Key': 'x' } }],
    ['PATCH', '/users/bob%40example.com/attributes', { attributes: { region: 'a\u0000b' } }],
    ['PATCH', '/users/bob%40example.com/attributes', { attributes: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v'])) }],
    ['PATCH', '/users/bob%40example.com/attributes', { attributes: { __proto__: 'x' } }],
    ['PATCH', '/users/bob%40example.com/attributes', { attributes: ['region=eu'] }],
    ['POST', '/policies', { files: { '../../etc/passwd': 'permit(principal, action, resource);' } }],
    ['POST', '/policies', { files: { 'a.cedar': 'permit(principal, action, resource' } }],
    ['POST', '/policies', { files: {} }],
    ['POST', '/policies/validate', { files: { 'a.cedar': 42 } }],
    ['PUT', '/policies/active', { version: 'v1' }],
    ['PUT', '/policy-zones/corporate', { cidrs: ['10.0.0.0/99'] }],
    ['PUT', '/policy-zones/Bad%20Name', { cidrs: ['10.0.0.0/8'] }],
    ['POST', '/policies/explain', { user: 'bob@example.com', resource: API, scope: 'ai.training.read', ip: '999.1.1.1' }],
    ['POST', '/policies/explain', { user: 'bob@example.com', client: bot?.client_id ?? 'x', resource: API, scope: 'ai.training.read' }],
  ])('%s %s is a 400, never a 500', async (method, path, body) => {
    const r = await callAdmin<{ error: string }>(t.url, adminToken, method, path, body);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/invalid_request|invalid_body/);
  });

  it('unknown subjects are 404s', async () => {
    expect((await callAdmin(t.url, adminToken, 'PATCH', '/users/nobody%40example.com/attributes', { attributes: { a: 'b' } })).status).toBe(404);
    expect((await callAdmin(t.url, adminToken, 'GET', '/policies/99999')).status).toBe(404);
    expect((await callAdmin(t.url, adminToken, 'GET', '/policies/abc')).status).toBe(404);
  });

  it('explain over the admin API answers like the CLI', async () => {
    const api = await callAdmin<{ decision: string; policy: { policies: string[] } }>(t.url, adminToken, 'POST', '/policies/explain', { user: 'bob@example.com', resource: API, scope: 'ai.training.read' });
    expect(api.status).toBe(200);
    expect(api.body).toMatchObject({ decision: 'deny', policy: { policies: ['pii-eu-only'] } });
    const cli = await t.cliJson<{ decision: string }>('policy', 'explain', '--user', 'bob@example.com', '--resource', API, '--scope', 'ai.training.read');
    expect(cli.decision).toBe('deny');
  });

  it('explain says what would change a decision: here, the network zone', async () => {
    const e = await t.cliJson<{ decision: string; version: number; policy: { policies: string[] }; wouldChange: string[] }>(
      'policy', 'explain', '--client', bot.client_id, '--resource', API, '--scope', 'ai.deploy.manage', '--ip', '203.0.113.5', '--version', '2', '--at', '2026-12-02T10:00Z',
    );
    expect(e).toMatchObject({ decision: 'deny', version: 2, policy: { policies: ['deploy-from-corporate'] } });
    expect(e.wouldChange).toEqual(['permitted from network zone corporate (e.g. 10.0.0.0)']);
    const text = await t.cli('policy', 'explain', '--client', bot.client_id, '--resource', API, '--scope', 'ai.deploy.manage', '--ip', '10.9.9.9', '--version', '2');
    expect(text.stdout).toContain('decision: PERMIT');
    expect(text.stdout).toContain('  - denied with no known source address');
  });

  it('the CLI refuses bad arguments with a message, not a stack trace', async () => {
    for (const args of [['user', 'attr', 'set', 'bob@example.com', 'novalue'], ['policy', 'explain', '--user', 'bob@example.com', '--resource', API, '--scope', 'ai.training.read', '--ip', 'x'], ['policy', 'activate', 'v1x'], ['policy', 'zone', 'set', 'corp', '--cidrs', 'nonsense'], ['policy', 'apply', '/nonexistent/dir']]) {
      const r = await t.cli(...args);
      expect(r.code).not.toBe(0);
      expect(r.stderr).not.toMatch(/\bat \S+\.ts:\d+/);
    }
  });
});

// Temporary access that expires by itself, and the access review that finds what is held but
// not used.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reviewAccess } from '../../src/governance/access-review.ts';
import { expireRoleGrants } from '../../src/governance/role-grants.ts';
import { basic, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { API, createUser, createResourceServer } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let rs: ClientCreds;
beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  rs = await createResourceServer(t);
});
afterAll(() => t?.stop());

const token = (creds: ClientCreds, scope?: string) => tokenRequest(t.url, { grant_type: 'client_credentials', resource: API, ...(scope && { scope }) }, { basic: creds });
const active = async (jwt: string): Promise<boolean> =>
  ((await (await fetch(`${t.url}/token/introspection`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs) }, body: new URLSearchParams({ token: jwt }) })).json()) as { active: boolean }).active;

describe('time-boxed role grants', () => {
  it('grants the scopes until the expiry, clips token lifetimes to it, then takes them away', async () => {
    const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'oncall-bot', '--grant', 'client_credentials', '--roles', 'end-user');
    const out = await t.cliJson<{ grants: { role: string; expires_at: string | null; reason: string | null }[] }>(
      'client', 'grant-role', bot.client_id, 'admin', '--expires-in', '2m', '--reason', 'incident INC-42',
    );
    expect(out.grants.find((g) => g.role === 'admin')).toMatchObject({ reason: 'incident INC-42' });
    expect(Date.parse(out.grants.find((g) => g.role === 'admin')?.expires_at ?? '')).toBeGreaterThan(Date.now() + 100_000);
    await t.server.policy.sync();

    const during = await token(bot, 'ai.training.read ai.prediction.run');
    expect(String(during.body.scope).split(' ').sort()).toEqual(['ai.prediction.run', 'ai.training.read']);
    expect(Number(during.body.expires_in)).toBeLessThanOrEqual(120); // never outlives the grant
    expect(Number(during.body.expires_in)).toBeGreaterThan(100);

    t.advance(121_000); // the grant has expired
    const after = await token(bot, 'ai.training.read ai.prediction.run');
    expect(after.body.scope).toBe('ai.prediction.run');
    expect(await active(String(during.body.access_token))).toBe(false);
    expect(await active(String(after.body.access_token))).toBe(true);
    t.advance(-121_000);

    const roles = await t.cliJson<{ grants: { role: string }[] }>('client', 'roles', bot.client_id);
    expect(roles.grants.map((g) => g.role)).toEqual(['admin', 'end-user']);
    expect(await expireRoleGrants(t.server.db, new Date(Date.now() + 121_000))).toBe(1);
    const expired = await t.server.db.prisma.auditEvent.findFirst({ where: { action: 'role_grant.expired' }, orderBy: { seq: 'desc' } });
    expect(JSON.parse(expired?.detail ?? '{}')).toMatchObject({ role: 'admin', principal_type: 'client', reason: 'incident INC-42' });
  });

  it('works the same for people, and refuses bad durations and past expiries', async () => {
    await createUser(t, 'sam@example.com', ['end-user']);
    const out = await t.cliJson<{ grants: { role: string; expires_at: string | null }[] }>('user', 'grant-role', 'sam@example.com', 'auditor', '--expires-in', '8h');
    expect(out.grants.map((g) => g.role)).toEqual(['auditor', 'end-user']);
    const shown = await t.cli('user', 'roles', 'sam@example.com');
    expect(shown.stdout).toMatch(/auditor\s+\d{4}-\d\d-\d\dT/);
    expect((await t.cli('user', 'grant-role', 'sam@example.com', 'auditor', '--expires-in', 'soon')).stderr).toMatch(/must look like 90s, 15m, 8h, 7d or 2w/);
    expect((await t.cli('user', 'grant-role', 'sam@example.com', 'nope', '--expires-in', '1h')).stderr).toMatch(/no role named nope/);
    expect((await t.cli('user', 'revoke-role', 'sam@example.com', 'auditor')).code).toBe(0);
    expect((await t.cli('user', 'revoke-role', 'sam@example.com', 'auditor')).stderr).toMatch(/does not hold role auditor/);
  });
});

describe('access review', () => {
  it('lists each principal with roles, scopes and last use, and finds unused and risky access', async () => {
    const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'review-bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
    await createUser(t, 'una@example.com', ['admin']); // admin without MFA
    await t.server.policy.sync();
    expect((await token(bot, 'ai.training.read')).status).toBe(200);
    await t.server.audit.flush();

    const now = Date.now();
    const today = await reviewAccess(t.server.db, { unusedDays: 30, now });
    const entry = today.principals.find((p) => p.id === bot.client_id);
    expect(entry?.scopes.find((s) => s.scope === 'ai.training.read')?.last_used_at).toBeTruthy();
    expect(entry?.scopes.find((s) => s.scope === 'ai.training.analyze')?.last_used_at).toBeNull();
    expect(today.principals.find((p) => p.name === 'una@example.com')?.findings).toContainEqual(expect.objectContaining({ kind: 'high_sensitivity_without_mfa', scope: 'ai.deploy.manage' }));

    const later = await reviewAccess(t.server.db, { unusedDays: 30, now: now + 40 * 86_400_000 });
    const findings = later.principals.find((p) => p.id === bot.client_id)?.findings ?? [];
    expect(findings).toContainEqual(expect.objectContaining({ kind: 'unused_scope', scope: 'ai.training.read' }));
    expect(findings).toContainEqual(expect.objectContaining({ kind: 'never_used_scope', scope: 'ai.training.analyze' }));

    const cli = await t.cliJson<{ principals: unknown[]; summary: { principals: number } }>('review', '--unused-days', '7');
    expect(cli.summary.principals).toBe(cli.principals.length);
    const human = await t.cli('review');
    expect(human.stdout).toMatch(/client review-bot/);
    expect(human.stdout).toMatch(/last used \d{4}-/);
    expect(human.stdout).toMatch(/FINDING high_sensitivity_without_mfa/);
  });

  it('flags grants that expire soon', async () => {
    const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'temp-bot', '--grant', 'client_credentials', '--roles', 'end-user');
    await t.cliJson('client', 'grant-role', bot.client_id, 'auditor', '--expires-in', '2d');
    const review = await reviewAccess(t.server.db, { unusedDays: 30, now: Date.now() });
    expect(review.principals.find((p) => p.id === bot.client_id)?.expiring_soon.map((e) => e.role)).toEqual(['auditor']);
  });
});

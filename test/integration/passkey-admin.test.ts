// The admin API for factors: requiring a factor per role and a phishing-resistant sign-in per
// scope, and reading a person's factors; hostile bodies and unknown names are refused with
// clear 4xx answers; every change is audited and in force in the policy every instance serves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { createUser } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let admin: string;
let auditor: string;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await createUser(t, 'ops@example.com', ['govauth-admin']);
  const { adminBot, auditorBot } = await createAdminBots(t);
  admin = await tokenFor(t.url, adminBot);
  auditor = await tokenFor(t.url, auditorBot);
});
afterAll(async () => {
  await t?.stop();
});

describe('PUT /roles/{name}/required-factor', () => {
  it('requires a passkey of govauth-admin holders, audited, in force, and reported as missing', async () => {
    const set = await callAdmin<{ role: { role: string; require_factor: string | null } }>(t.url, admin, 'PUT', '/roles/govauth-admin/required-factor', { factor: 'passkey' });
    expect(set.status).toBe(200);
    expect(set.body.role).toEqual({ role: 'govauth-admin', require_factor: 'passkey' });
    await t.server.policy.sync();
    expect(t.server.policy.snapshot().roles.get('govauth-admin')?.requireFactor).toBe('passkey');
    const { events } = await t.cliJson<{ events: { action: string; detail: Record<string, unknown> }[] }>('audit', 'tail', '--action', 'admin.role.require_factor');
    expect(events.at(-1)?.detail).toMatchObject({ before: { require_factor: null }, after: { require_factor: 'passkey' } });

    const factors = await callAdmin<{ factors: { totp: boolean; passkeys: number; missing: { factor: string; roles: string[] }[] } }>(t.url, auditor, 'GET', '/users/ops%40example.com/factors');
    expect(factors.status).toBe(200);
    expect(factors.body.factors).toEqual({ totp: false, passkeys: 0, recovery_codes_left: 0, required: [{ factor: 'passkey', roles: ['govauth-admin'] }], missing: [{ factor: 'passkey', roles: ['govauth-admin'] }] });
    const shown = await t.cli('user', 'show', 'ops@example.com');
    expect(shown.stdout).toMatch(/MISSING required factor: passkey for govauth-admin/);

    const cleared = await callAdmin<{ role: { require_factor: string | null } }>(t.url, admin, 'PUT', '/roles/govauth-admin/required-factor', { factor: null });
    expect(cleared.body.role.require_factor).toBeNull();
  });

  it('refuses an unknown factor, an unknown role, extra fields, and a read-only token', async () => {
    expect((await callAdmin(t.url, admin, 'PUT', '/roles/govauth-admin/required-factor', { factor: 'sms' })).status).toBe(400);
    expect((await callAdmin(t.url, admin, 'PUT', '/roles/govauth-admin/required-factor', { factor: 'passkey', extra: 1 })).status).toBe(400);
    expect((await callAdmin(t.url, admin, 'PUT', '/roles/no-such-role/required-factor', { factor: 'passkey' })).status).toBe(404);
    expect((await callAdmin(t.url, auditor, 'PUT', '/roles/govauth-admin/required-factor', { factor: 'passkey' })).status).toBe(403);
    expect((await callAdmin(t.url, admin, 'GET', '/users/nobody%40example.com/factors')).status).toBe(404);
    const cli = await t.cli('role', 'require-factor', 'govauth-admin', 'fingerprint');
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/passkey, totp, any, none/);
  });
});

describe('PUT /scopes/{name}/required-acr', () => {
  it('requires a phishing-resistant sign-in for a scope, and refuses anything but phr or null', async () => {
    const set = await callAdmin<{ scope: { scope: string; require_acr: string | null } }>(t.url, admin, 'PUT', '/scopes/ai.deploy.manage/required-acr', { acr: 'phr' });
    expect(set.body.scope).toEqual({ scope: 'ai.deploy.manage', require_acr: 'phr' });
    await t.server.policy.sync();
    expect(t.server.policy.snapshot().scopes.get('ai.deploy.manage')?.requireAcr).toBe('phr');
    expect((await callAdmin(t.url, admin, 'PUT', '/scopes/ai.deploy.manage/required-acr', { acr: 'mfa' })).status).toBe(400);
    expect((await callAdmin(t.url, admin, 'PUT', '/scopes/no.such.scope/required-acr', { acr: 'phr' })).status).toBe(404);
    expect((await callAdmin<{ scope: { require_acr: null } }>(t.url, admin, 'PUT', '/scopes/ai.deploy.manage/required-acr', { acr: null })).body.scope.require_acr).toBeNull();
  });
});

// Commands an operator may run by mistake must not quietly do something else: granting a role
// never shortens a grant in force without --replace (the admin API: "replace": true), revoking
// something that does not exist says so, and re-enrolling TOTP (which breaks the person's
// authenticator) needs --force ("force": true). CLI and admin API follow one rule each, kept in
// governance (src/governance/role-grants.ts, revocations.ts, user-registry.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { createUser } from '../helpers/people.ts';
import { startTestServer, type CliResult, type TestServer } from '../helpers/test-server.ts';

type Grant = { role: string; expires_at: string | null; reason: string | null };

let t: TestServer;
let adminToken: string;
let botId: string;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  const { adminBot } = await createAdminBots(t);
  adminToken = await tokenFor(t.url, adminBot);
  botId = (await t.cliJson<{ client_id: string }>('client', 'create', '--name', 'oncall-bot', '--grant', 'client_credentials')).client_id;
  await createUser(t, 'alice@example.com', []);
  await createUser(t, 'bob@example.com', []);
});
afterAll(() => t?.stop());

const admin = <B = Record<string, unknown>>(method: string, path: string, body?: unknown) => callAdmin<B & { error?: string; error_description?: string }>(t.url, adminToken, method, path, body);
const grantOf = (grants: Grant[], role: string): Grant | undefined => grants.find((g) => g.role === role);
const roles = async (kind: 'user' | 'client', who: string): Promise<Grant[]> => (await t.cliJson<{ grants: Grant[] }>(kind, 'roles', who)).grants;

/** A refusal: exit 1, nothing on stdout, the one JSON error object on stderr. */
function refusedJson(r: CliResult, error: string): string {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stdout).toBe('');
  const out = JSON.parse(r.stderr) as { error: string; message: string };
  expect(Object.keys(out)).toEqual(['error', 'message']);
  expect(out.error).toBe(error);
  return out.message;
}

describe('grant-role never shortens a grant in force by accident', () => {
  it('CLI: refuses to turn a permanent grant into an expiring one, showing the grant in force; --replace does it', async () => {
    await t.cliJson('user', 'grant-role', 'alice@example.com', 'admin', '--reason', 'on-call lead');
    const refused = await t.cli('user', 'grant-role', 'alice@example.com', 'admin', '--expires-in', '8h', '--reason', 'release 4.2', '--json');
    const message = refusedJson(refused, 'conflict');
    expect(message).toMatch(/alice@example\.com already holds role admin permanently \(granted \d{4}-\d\d-\d\dT[^,]+, reason "on-call lead"\)/);
    expect(message).toMatch(/would shorten it.*--replace/);
    const human = await t.cli('user', 'grant-role', 'alice@example.com', 'admin', '--expires-in', '8h');
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(/^govauth user grant-role: alice@example\.com already holds role admin permanently/);
    expect(grantOf(await roles('user', 'alice@example.com'), 'admin')).toEqual(expect.objectContaining({ expires_at: null, reason: 'on-call lead' }));

    const replaced = await t.cliJson<{ grants: Grant[] }>('user', 'grant-role', 'alice@example.com', 'admin', '--expires-in', '8h', '--replace', '--reason', 'release 4.2');
    const until = Date.parse(grantOf(replaced.grants, 'admin')?.expires_at ?? '');
    expect(until).toBeGreaterThan(Date.now() + 7.9 * 3600_000);
    expect(until).toBeLessThan(Date.now() + 8.1 * 3600_000);
  });

  it('CLI: refuses to move an expiry earlier, allows extending it and making it permanent without --replace', async () => {
    await t.cliJson('client', 'grant-role', botId, 'auditor', '--expires-in', '7d');
    const message = refusedJson(await t.cli('client', 'grant-role', botId, 'auditor', '--expires-in', '1h', '--json'), 'conflict');
    expect(message).toMatch(new RegExp(`${botId} already holds role auditor until \\d{4}-`));
    expect(Date.parse(grantOf(await roles('client', botId), 'auditor')?.expires_at ?? '')).toBeGreaterThan(Date.now() + 6 * 86_400_000);

    const extended = await t.cliJson<{ grants: Grant[] }>('client', 'grant-role', botId, 'auditor', '--expires-in', '2w');
    expect(Date.parse(grantOf(extended.grants, 'auditor')?.expires_at ?? '')).toBeGreaterThan(Date.now() + 13 * 86_400_000);
    const permanent = await t.cliJson<{ grants: Grant[] }>('client', 'grant-role', botId, 'auditor');
    expect(grantOf(permanent.grants, 'auditor')?.expires_at).toBeNull();
  });

  it('admin API: 409 naming the grant in force; "replace": true shortens it; extending needs nothing', async () => {
    const path = `/users/${encodeURIComponent('bob@example.com')}/roles`;
    expect((await admin('POST', path, { role: 'auditor' })).status).toBe(200);
    const refused = await admin('POST', path, { role: 'auditor', expires_in: '1h' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('conflict');
    expect(refused.body.error_description).toMatch(/bob@example\.com already holds role auditor permanently .*would shorten it; send "replace": true/);
    const at = new Date(Date.now() + 3600_000).toISOString();
    expect((await admin('POST', path, { role: 'auditor', expires_at: at })).status).toBe(409);

    const replaced = await admin<{ grants: Grant[] }>('POST', path, { role: 'auditor', expires_in: '1h', replace: true });
    expect(replaced.status).toBe(200);
    expect(grantOf(replaced.body.grants, 'auditor')?.expires_at).not.toBeNull();
    expect((await admin('POST', path, { role: 'auditor', expires_in: '30m' })).status).toBe(409);
    expect((await admin('POST', path, { role: 'auditor', expires_in: '2h' })).status).toBe(200);
    expect((await admin('POST', path, { role: 'auditor' })).status).toBe(200);
    expect((await admin('POST', path, { role: 'auditor', replace: 'yes' })).status).toBe(400);
  });
});

describe('revoking what does not exist is an error, not a success', () => {
  it('CLI: an unknown grant, user or client exits 1 naming what was not found', async () => {
    expect(refusedJson(await t.cli('revoke', '--grant', 'NoSuchGrant_123', '--json'), 'not_found')).toMatch(/^no grant NoSuchGrant_123: it was never issued, or it has ended/);
    expect(refusedJson(await t.cli('revoke', '--user', 'ghost@example.com', '--json'), 'not_found')).toBe('no user ghost@example.com');
    expect(refusedJson(await t.cli('revoke', '--client', 'cl_ghost', '--json'), 'not_found')).toBe('no client cl_ghost');
    const human = await t.cli('revoke', '--grant', 'NoSuchGrant_123');
    expect(human).toMatchObject({ code: 1, stdout: '' });
    expect(human.stderr).toMatch(/^govauth revoke: no grant NoSuchGrant_123/);
    const { revocations } = await t.cliJson<{ revocations: { key: string }[] }>('revocations', 'list');
    expect(revocations.map((r) => r.key)).not.toContain('NoSuchGrant_123');
  });

  it('admin API: 404 with the same message', async () => {
    for (const [body, message] of [
      [{ grant: 'NoSuchGrant_123' }, /^no grant NoSuchGrant_123/],
      [{ user: 'ghost@example.com' }, /^no user ghost@example\.com$/],
      [{ client: 'cl_ghost' }, /^no client cl_ghost$/],
    ] as const) {
      const r = await admin('POST', '/revocations', body);
      expect(r.status, JSON.stringify(body)).toBe(404);
      expect(r.body.error).toBe('not_found');
      expect(r.body.error_description).toMatch(message);
    }
  });
});

describe('re-enrolling TOTP needs --force', () => {
  it('CLI: refuses without --force and keeps the first secret; with --force says the old authenticator stops working', async () => {
    const first = await t.cliJson<{ secret: string; replaced: boolean }>('user', 'mfa', 'enroll', 'alice@example.com');
    expect(first.replaced).toBe(false);
    const before = await t.server.db.prisma.user.findUniqueOrThrow({ where: { email: 'alice@example.com' } });
    const message = refusedJson(await t.cli('user', 'mfa', 'enroll', 'alice@example.com', '--json'), 'conflict');
    expect(message).toMatch(/alice@example\.com is already enrolled in two-step verification \(since \d{4}-.*\); enrolling again replaces the secret and their current authenticator stops working\. Run it again with --force/);
    const after = await t.server.db.prisma.user.findUniqueOrThrow({ where: { email: 'alice@example.com' } });
    expect(after.mfaSecret).toBe(before.mfaSecret);

    const human = await t.cli('user', 'mfa', 'enroll', 'alice@example.com', '--force');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^The previous enrolment is replaced: the authenticator set up with it stops working now\.\nsecret: {6}[A-Z2-7]{32}\n/);
    const replaced = await t.cliJson<{ secret: string; replaced: boolean }>('user', 'mfa', 'enroll', 'alice@example.com', '--force');
    expect(replaced.replaced).toBe(true);
    expect(replaced.secret).not.toBe(first.secret);
  });

  it('admin API: 409 without "force": true; with it, replaced: true', async () => {
    const path = `/users/${encodeURIComponent('bob@example.com')}/mfa`;
    expect((await admin<{ replaced: boolean }>('POST', path)).body.replaced).toBe(false);
    const refused = await admin('POST', path);
    expect(refused.status).toBe(409);
    expect(refused.body.error_description).toMatch(/already enrolled .*send "force": true to replace it/);
    const forced = await admin<{ replaced: boolean }>('POST', path, { force: true });
    expect(forced.status).toBe(200);
    expect(forced.body.replaced).toBe(true);
  });
});

// "Who could access resource R with scope S at time T, and through which role or grant?" (issue
// 17, item 8): `govauth audit access` replays the audit trail's administrative records. A scripted
// history made with the real CLI (a time-boxed grant that expires, a role whose scopes change, a
// role revoked from a client, a person disabled, a revocation) is queried at instants between
// the steps; each answer names exactly the principals and paths in force then, with the since/
// until taken from the records. A pruned trail says what it cannot see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneAuditTrail } from '../../src/audit/audit-retention.ts';
import type { AccessReport } from '../../src/audit/audit-access.ts';
import { expireRoleGrants } from '../../src/governance/role-grants.ts';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const R = 'https://reports.example.com';
const S = 'reports:read';
let t: TestServer;
const marks: Record<string, string> = {};
const ids: Record<string, string> = {};
let bot: ClientCreds;

const pause = (ms = 30) => new Promise((r) => setTimeout(r, ms));
const mark = async (name: string) => {
  await pause();
  marks[name] = new Date().toISOString();
  await pause();
};
const ok = async (...args: string[]) => {
  const r = await t.cli(...args);
  if (r.code !== 0) throw new Error(`govauth ${args.join(' ')}: ${r.stderr}`);
  return r;
};
const access = (at: string): Promise<AccessReport> => t.cliJson<AccessReport>('audit', 'access', '--resource', R, '--scope', S, '--at', at);
/** When the records of `action` on `subject` were written, oldest first. */
const recordsAt = async (action: string, subject: string): Promise<string[]> => {
  await t.server.audit.flush();
  const rows = await t.server.db.prisma.auditEvent.findMany({ where: { action, subject }, orderBy: { seq: 'asc' } });
  return rows.map((r) => r.at.toISOString());
};
/** When the one record of `action` on `subject` was written. */
const recordAt = async (action: string, subject: string): Promise<string> => {
  const ats = await recordsAt(action, subject);
  expect(ats).toHaveLength(1);
  return ats[0] ?? '';
};
const who = (r: AccessReport) => r.could_access.map((p) => `${p.type}:${p.name}:${p.paths.map((x) => x.role).join('+')}`).sort();

beforeAll(async () => {
  t = await startTestServer();
  await mark('T0');
  await ok('scope', 'create', S, '--description', 'Read reports');
  await ok('resource', 'create', R, '--name', 'Reports', '--scopes', S);
  await ok('role', 'create', 'analyst', '--scopes', S);
  await ok('role', 'create', 'viewer', '--scopes', 'govauth.audit.read');
  for (const email of ['alice@example.com', 'bob@example.com']) {
    const r = await t.cliWithStdin('correct horse battery staple\n', 'user', 'create', email, '--password-stdin', '--json');
    ids[email] = (JSON.parse(r.stdout) as { id: string }).id;
  }
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'report-bot', '--grant', 'client_credentials', '--roles', 'analyst');
  const app = await t.cliJson<{ client_id: string }>('client', 'create', '--name', 'portal', '--grant', 'authorization_code', '--redirect-uri', 'https://portal.example.com/cb');
  ids.portal = app.client_id;
  const token = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: R, scope: S }, { basic: bot });
  expect(token.status).toBe(200);
  await mark('T1'); // bot holds analyst; alice and bob hold nothing with S
  await ok('user', 'grant-role', 'alice@example.com', 'analyst', '--expires-in', '1h', '--reason', 'quarter close');
  await ok('user', 'grant-role', 'bob@example.com', 'viewer');
  await mark('T2'); // + alice (time-boxed)
  await ok('role', 'update', 'viewer', '--scopes', `govauth.audit.read,${S}`);
  await mark('T3'); // + bob through viewer's new scope
  await ok('client', 'revoke-role', bot.client_id, 'analyst');
  await ok('revoke', '--client', bot.client_id, '--reason', 'rotated out');
  await mark('T4'); // - bot
  await ok('user', 'disable', 'bob@example.com');
  await mark('T5'); // bob blocked (disabled)
  // Alice's grant is cut short to 2 s (a grant shortened later: earlier answers' "until" moves
  // with it); wait it out and let the sweeper delete it (its record holds no before/after).
  await ok('user', 'grant-role', 'alice@example.com', 'analyst', '--expires-in', '2s', '--replace');
  const expiry = Date.parse((await t.cliJson<{ grants: { expires_at: string }[] }>('user', 'roles', 'alice@example.com')).grants[0]?.expires_at ?? '');
  await pause(Math.max(0, expiry - Date.now()) + 50);
  expect(await expireRoleGrants(t.server.db, new Date())).toBe(1);
  await mark('T6'); // alice's grant expired: nobody
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe('govauth audit access replays the trail', () => {
  it('before the resource existed: nobody, the scope was not offered', async () => {
    const r = await access(marks.T0 ?? '');
    expect(r.scope_on_resource).toEqual({ offered: false });
    expect(r.could_access).toEqual([]);
  });

  it('T1: only the client holding analyst, with the token it was issued', async () => {
    const r = await access(marks.T1 ?? '');
    expect(r.scope_on_resource).toEqual({ offered: true, since: await recordAt('admin.resource.create', R), until: null });
    expect(who(r)).toEqual(['client:report-bot:analyst']);
    const [p] = r.could_access;
    expect(p?.paths[0]).toEqual({
      role: 'analyst',
      grant: { since: await recordAt('admin.client.create', bot.client_id), until: await recordAt('admin.role_grant.remove', bot.client_id), expires_at: null },
      role_scope: { since: await recordAt('admin.role.create', 'analyst'), until: null },
    });
    expect(r.apps).toEqual([{ client_id: ids.portal, name: 'portal' }]);
    expect(r.tokens.live.map((x) => x.client_id)).toEqual([bot.client_id]);
    expect(r.history).toMatchObject({ complete: true, anchor: null, caveats: [] });
  });

  it('T2: alice joins through a time-boxed grant; its until is the expiry it was later cut to', async () => {
    const r = await access(marks.T2 ?? '');
    expect(who(r)).toEqual(['client:report-bot:analyst', 'user:alice@example.com:analyst']);
    const alice = r.could_access.find((p) => p.type === 'user');
    const [granted, shortened] = await recordsAt('admin.role_grant.create', ids['alice@example.com'] ?? '');
    const grant = alice?.paths[0]?.grant;
    expect(grant?.since).toBe(granted);
    // At T2 the grant ran for an hour; the later --replace cut it to 2 s after `shortened`.
    expect(Date.parse(grant?.expires_at ?? '') - Date.parse(granted ?? '')).toBeGreaterThan(3_500_000);
    const until = Date.parse(grant?.until ?? '') - Date.parse(shortened ?? '');
    expect(until).toBeGreaterThan(0);
    expect(until).toBeLessThanOrEqual(2000);
  });

  it('T3: bob joins when the viewer role gains the scope (role_scope since = the role change)', async () => {
    const r = await access(marks.T3 ?? '');
    expect(who(r)).toEqual(['client:report-bot:analyst', 'user:alice@example.com:analyst', 'user:bob@example.com:viewer']);
    const bob = r.could_access.find((p) => p.name === 'bob@example.com');
    expect(bob?.paths[0]?.role_scope).toEqual({ since: await recordAt('admin.role.update', 'viewer'), until: null });
    expect(bob?.paths[0]?.grant).toMatchObject({ since: await recordAt('admin.role_grant.create', ids['bob@example.com'] ?? ''), until: null });
  });

  it('T4: the client is gone once its role was revoked; its revocation is listed', async () => {
    const r = await access(marks.T4 ?? '');
    expect(who(r)).toEqual(['user:alice@example.com:analyst', 'user:bob@example.com:viewer']);
    expect(r.blocked).toEqual([]);
  });

  it('T5: bob is disabled: blocked, with the path he still held', async () => {
    const r = await access(marks.T5 ?? '');
    expect(who(r)).toEqual(['user:alice@example.com:analyst']);
    expect(r.blocked.map((p) => [p.name, p.blocked, p.paths.map((x) => x.role)])).toEqual([['bob@example.com', ['user disabled'], ['viewer']]]);
  });

  it('T6: alice\'s grant expired (and was swept): nobody could; earlier answers are unchanged by the sweep', async () => {
    expect(who(await access(marks.T6 ?? ''))).toEqual([]);
    expect(who(await access(marks.T2 ?? ''))).toEqual(['client:report-bot:analyst', 'user:alice@example.com:analyst']);
  });

  it('prints a readable answer and refuses a missing option with a usage error', async () => {
    const r = await t.cli('audit', 'access', '--resource', R, '--scope', S, '--at', marks.T3 ?? '');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('CAN     user bob@example.com');
    expect(r.stdout).toContain('via role viewer: granted since');
    expect(r.stdout).toContain('history: complete');
    const bad = await t.cli('audit', 'access', '--scope', S);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--resource/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('GET /admin/v1/audit/access', () => {
  it('gives an auditor the same answer as the CLI, records the read, and refuses bad input with 400', async () => {
    const { auditorBot } = await createAdminBots(t);
    const token = await tokenFor(t.url, auditorBot);
    const q = new URLSearchParams({ resource: R, scope: S, at: marks.T3 ?? '' });
    const r = await callAdmin<AccessReport>(t.url, token, 'GET', `/audit/access?${q.toString()}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(await access(marks.T3 ?? ''));
    await t.server.audit.flush();
    expect(await t.server.db.prisma.auditEvent.count({ where: { action: 'admin_api.read', detail: { contains: 'auditAccess' } } })).toBe(1);
    const bad = await callAdmin<{ error: string }>(t.url, token, 'GET', `/audit/access?resource=${encodeURIComponent(R)}&at=yesterday`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_request');
  });
});

describe('a pruned trail', () => {
  it('answers exactly after the anchor and says what it cannot see before it', async () => {
    const before = await access(marks.T4 ?? '');
    // Retention removes every record before T3 (the floor is the caller's; the API and CLI keep 30 days).
    const removed = await pruneAuditTrail(t.server.db, new Date(marks.T3 ?? ''), { actorType: 'system', actor: 'test' }, { floorDays: 0, now: Date.now() });
    expect(removed).toBeGreaterThan(0);
    const after = await access(marks.T4 ?? '');
    expect(who(after)).toEqual(who(before));
    expect(after.history.complete).toBe(true);
    expect(after.history.anchor?.seq).toBeGreaterThan(0);
    expect(after.history.caveats.join(' ')).toMatch(/pruned up to record \d+/);
    // Alice's grant was made before the anchor: its start is no longer visible.
    expect(after.could_access.find((p) => p.type === 'user' && p.name === 'alice@example.com')?.paths[0]?.grant.since).toBeNull();
    const early = await access(marks.T2 ?? '');
    expect(early.history.complete).toBe(false);
    expect(early.history.caveats.join(' ')).toMatch(/before the oldest retained record/);
  });
});

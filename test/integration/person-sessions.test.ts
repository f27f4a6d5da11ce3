// An administrator lists one person's sign-in sessions and ends one, through the admin API and
// the CLI, on a real server with real sign-ins: the session is named by an opaque id (never
// oidc-provider's uid), ending it signs that browser out and revokes what was issued in it
// (the access token turns inactive, the refresh token is refused), it is audited with the
// administrator as actor, and hostile input gets a 4xx problem, never a 500.
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { basic, decodeJwt, type ClientCreds } from '../helpers/oauth.ts';
import { createResourceServer, createUser, createWebApp, discover } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let adminToken: string;
let auditorToken: string;
let rs: ClientCreds;
let config: oidc.Configuration;

interface Session { id: string; browser: string; ip: string | null; apps: string[]; grants: string[]; methods: string[]; signed_in_at: string | null }
type Problem = { error: string; error_description: string };

const admin = <B>(method: string, path: string) => callAdmin<B>(t.url, adminToken, method, path);
const auditor = <B>(method: string, path: string) => callAdmin<B>(t.url, auditorToken, method, path);
const sessionsOf = async (email: string): Promise<Session[]> => {
  const res = await admin<{ sessions: Session[] }>('GET', `/users/${encodeURIComponent(email)}/sessions`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.sessions;
};
const active = async (token: string): Promise<boolean> => {
  const res = await fetch(`${t.issuer}/token/introspection`, { method: 'POST', headers: { authorization: basic(rs), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) });
  return ((await res.json()) as { active: boolean }).active;
};
const signIn = (email: string) => headlessSignIn(config, email, 'openid offline_access ai.training.read', { extra: { prompt: 'consent' } });

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  const bots = await createAdminBots(t);
  adminToken = await tokenFor(t.url, bots.adminBot);
  auditorToken = await tokenFor(t.url, bots.auditorBot);
  rs = await createResourceServer(t);
  config = await discover(t, await createWebApp(t));
  await createUser(t, 'sam@example.com', ['data-scientist']);
  await createUser(t, 'kim@example.com', ['data-scientist']);
}, 60_000);
afterAll(() => t?.stop());

describe("a person's sessions, for administrators", () => {
  it('lists each sign-in by an opaque id with the apps and grants issued in it, and records the read', async () => {
    await signIn('sam@example.com');
    await signIn('sam@example.com');
    const sessions = await sessionsOf('Sam@Example.com');
    expect(sessions).toHaveLength(2);
    const app = config.clientMetadata().client_id;
    for (const s of sessions) {
      expect(s.id).toMatch(/^[\w-]{22}$/);
      expect(s.apps).toEqual([app]);
      expect(s.grants).toHaveLength(1);
      expect(s.methods).toContain('pwd');
      expect(s.signed_in_at).toMatch(/^\d{4}-/);
    }
    // oidc-provider's own handle for a sign-in never leaves the server.
    const uids = await t.server.db.sql.query<{ uid: string }>(`SELECT "uid" FROM "OidcPayload" WHERE "model" = 'Session'`, []);
    expect(uids.length).toBeGreaterThanOrEqual(2);
    const shown = JSON.stringify(sessions);
    for (const { uid } of uids) expect(shown).not.toContain(uid);
    const reads = await t.cliJson<{ events: { detail: { operation: string } }[] }>('audit', 'tail', '--action', 'admin_api.read', '--limit', '20');
    expect(reads.events.some((e) => e.detail.operation === 'listUserSessions')).toBe(true);
    // The auditor reads them too.
    expect((await auditor<{ sessions: Session[] }>('GET', '/users/sam%40example.com/sessions')).body.sessions).toHaveLength(2);
  });

  it('ends one session: its tokens stop working, the other session is untouched, and it is audited', async () => {
    const kept = await signIn('kim@example.com');
    const ended = await signIn('kim@example.com');
    const grantOf = (tokens: { access_token: string }) => String(decodeJwt(tokens.access_token).payload.grant_id);
    const target = (await sessionsOf('kim@example.com')).find((s) => s.grants.includes(grantOf(ended)));
    expect(target).toBeDefined();

    // An auditor may not.
    const refused = await auditor<Problem>('DELETE', `/users/kim%40example.com/sessions/${target?.id ?? ''}`);
    expect(refused.status).toBe(403);
    expect(await active(ended.access_token)).toBe(true);

    const res = await admin<{ ended: { session: string; grants_revoked: number } }>('DELETE', `/users/kim%40example.com/sessions/${target?.id ?? ''}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.ended).toEqual({ session: target?.id, grants_revoked: 1 });
    expect(await active(ended.access_token)).toBe(false);
    await expect(oidc.refreshTokenGrant(config, ended.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' });
    // The other sign-in goes on.
    expect(await active(kept.access_token)).toBe(true);
    expect((await oidc.refreshTokenGrant(config, kept.refresh_token ?? '')).access_token).toBeTruthy();
    expect((await sessionsOf('kim@example.com')).map((s) => s.id)).not.toContain(target?.id);

    const audit = await t.cliJson<{ events: { actor: string; actor_type: string; subject: string; detail: { session: string; grants_revoked: number } }[] }>('audit', 'tail', '--action', 'admin.user.session.end', '--limit', '5');
    const record = audit.events.at(-1);
    expect(record?.detail).toMatchObject({ session: target?.id, grants_revoked: 1 });
    expect(record?.actor).toMatch(/^cl_/); // the admin bot
    const revs = await t.cliJson<{ revocations: { kind: string; reason: string | null }[] }>('revocations', 'list');
    expect(revs.revocations.some((r) => r.kind === 'grant' && r.reason === 'sign-in ended by an administrator')).toBe(true);
    // Ended once: a second time is a 404.
    expect((await admin<Problem>('DELETE', `/users/kim%40example.com/sessions/${target?.id ?? ''}`)).status).toBe(404);
  });

  it('answers hostile input with 400 or 404 problems, never a 500, and ends nothing', async () => {
    await signIn('sam@example.com');
    const before = await sessionsOf('sam@example.com');
    const someId = before[0]?.id ?? '';
    const cases: [string, string, number][] = [
      ['GET', '/users/nobody%40example.com/sessions', 404],
      ['DELETE', `/users/nobody%40example.com/sessions/${someId}`, 404],
      ['GET', '/users/not-an-email/sessions', 400],
      ['GET', `/users/${'a'.repeat(300)}%40example.com/sessions`, 400],
      // Another person's session, named in this person's URL.
      ['DELETE', `/users/kim%40example.com/sessions/${someId}`, 404],
      ['DELETE', `/users/sam%40example.com/sessions/${'A'.repeat(22)}`, 404],
      ['DELETE', '/users/sam%40example.com/sessions/short', 400],
      ['DELETE', `/users/sam%40example.com/sessions/${'x'.repeat(23)}`, 400],
      ['DELETE', '/users/sam%40example.com/sessions/%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00', 400],
      ['DELETE', `/users/sam%40example.com/sessions/${encodeURIComponent('../../clients')}`, 400],
      ['POST', `/users/sam%40example.com/sessions/${someId}`, 405],
    ];
    for (const [method, path, status] of cases) {
      const res = await admin<Problem>(method, path);
      expect(res.status, `${method} ${path}`).toBe(status);
      if (status !== 405) expect(res.body.error, path).toMatch(/^(not_found|invalid_request)$/);
    }
    // No token, or a token that is not for the admin API: refused before anything else.
    expect((await callAdmin(t.url, undefined, 'GET', '/users/sam%40example.com/sessions')).status).toBe(401);
    expect((await sessionsOf('sam@example.com')).map((s) => s.id).sort()).toEqual(before.map((s) => s.id).sort());
  });

  it('the CLI lists and ends sessions the same way', async () => {
    const sessions = await t.cliJson<{ sessions: Session[] }>('user', 'sessions', 'sam@example.com');
    expect(sessions.sessions.map((s) => s.id).sort()).toEqual((await sessionsOf('sam@example.com')).map((s) => s.id).sort());
    const id = sessions.sessions[0]?.id ?? '';
    const ended = await t.cliJson<{ ended: { session: string; grants_revoked: number } }>('user', 'end-session', 'sam@example.com', id);
    expect(ended.ended).toEqual({ session: id, grants_revoked: 1 });
    const again = await t.cli('user', 'end-session', 'sam@example.com', id);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/no live session/);
    expect(again.stderr).not.toMatch(/at .*\.ts:\d+/); // a message, not a stack trace
    const text = await t.cli('user', 'sessions', 'sam@example.com');
    expect(text.stdout).toMatch(/BROWSER/);
  });
});

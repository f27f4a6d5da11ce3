// The access review reads the policy where it already is: a server's review (GET /admin/v1/review,
// the console's review page) uses the snapshot and people the instance keeps in memory, the CLI
// (no server) loads them from the database. Both must report the same thing, and the server's
// must show a change committed a moment ago anywhere, even before this instance was woken up
// for it (a lost NOTIFY or file event; polling is only the safety net).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessReview } from '../../src/governance/access-review.ts';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import type { ClientCreds } from '../helpers/oauth.ts';
import { createUser } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const DAY = 86_400_000;
let a: TestServer;
let b: TestServer;
let token: string;

/** Principals by type and id (a principal's place in the list is not part of what it says), without the instant it was made. */
const comparable = (r: AccessReview) => ({ ...r, generated_at: undefined, principals: Object.fromEntries(r.principals.map((p) => [`${p.type}:${p.id}`, p])) });

/** Backdates a person or client (as if made long ago) the way every policy write is told: with a change row. */
async function backdate(kind: 'user' | 'client', id: string, days: number): Promise<void> {
  const createdAt = new Date(Date.now() - days * DAY);
  const { prisma } = a.server.db;
  await prisma.$transaction([
    kind === 'user' ? prisma.user.update({ where: { id }, data: { createdAt } }) : prisma.client.update({ where: { id }, data: { createdAt } }),
    prisma.change.create({ data: { kind, key: id } }),
  ]);
}

beforeAll(async () => {
  a = await startTestServer();
  // A second instance on the same database, polling the feed as rarely as allowed (1 s).
  b = await startTestServer({ db: a.db, masterKey: a.env.GOVAUTH_MASTER_KEY, env: { GOVAUTH_ISSUER: a.issuer, GOVAUTH_POLICY_POLL_MS: '1000' } });
  await a.cliJson('init', '--demo');
  const { auditorBot } = await createAdminBots(a);
  token = await tokenFor(a.url, auditorBot);
  // Findings of every kind the policy decides: old and new principals with unused scopes,
  // high-sensitivity scopes without a second factor or with a shared secret, grants about to
  // expire, secrets about to expire, and two exclusive roles held at once.
  const old = await createUser(a, 'old@example.com', ['data-scientist']);
  await createUser(a, 'new@example.com', ['admin']);
  await createUser(a, 'both@example.com', ['admin', 'auditor']);
  await a.cliJson('user', 'mfa', 'enroll', 'both@example.com');
  await a.cliJson('user', 'grant-role', 'new@example.com', 'auditor', '--expires-in', '2d');
  const bot = await a.cliJson<ClientCreds>('client', 'create', '--name', 'deploy-bot', '--grant', 'client_credentials', '--roles', 'admin', '--secret-expires', '3d');
  await a.cliJson('client', 'grant-role', bot.client_id, 'end-user', '--expires-in', '1d');
  await a.cliJson('client', 'create', '--name', 'plain-app', '--grant', 'authorization_code', '--redirect-uri', 'https://app.example/cb');
  await a.cliJson('role', 'exclusive', 'add', 'admin', 'auditor');
  await backdate('user', old, 60);
  await backdate('client', bot.client_id, 60);
  await a.server.policy.sync();
});
afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

describe('the access review', () => {
  it('reports the same from a server’s policy in memory as from the database (the CLI)', async () => {
    const served = await callAdmin<AccessReview>(a.url, token, 'GET', '/review?unused_days=30');
    expect(served.status).toBe(200);
    const loaded = await a.cliJson<AccessReview>('review', '--unused-days', '30');
    expect(comparable(served.body)).toEqual(comparable(loaded));
    // The fixture has something to compare: each kind of finding, and creation times at work.
    const kinds = new Set(served.body.principals.flatMap((p) => p.findings.map((f) => f.kind)));
    for (const kind of ['never_used_scope', 'high_sensitivity_without_mfa', 'grant_expiring_soon', 'secret_expiring_soon', 'high_sensitivity_with_shared_secret_bearer', 'exclusive_roles_held']) expect(kinds).toContain(kind);
    const never = (name: string) => served.body.principals.find((p) => p.name === name)?.findings.filter((f) => f.kind === 'never_used_scope').length;
    expect(never('old@example.com')).toBeGreaterThan(0);
    expect(never('new@example.com')).toBe(0); // younger than the window
  });

  it('shows on another instance a change committed a moment ago, before that instance was woken up for it', async () => {
    const id = await createUser(a, 'late@example.com', ['end-user']); // the CLI waits until b has applied it
    const before = await callAdmin<AccessReview>(b.url, token, 'GET', '/review');
    expect(before.body.principals.find((p) => p.id === id)?.roles.map((r) => r.role)).toEqual(['end-user']);
    // A grant committed with its change row but no wake-up: b learns of it only from the feed.
    const { prisma } = a.server.db;
    await prisma.$transaction([prisma.userRole.create({ data: { userId: id, roleName: 'admin' } }), prisma.change.create({ data: { kind: 'user', key: id } })]);
    const after = await callAdmin<AccessReview>(b.url, token, 'GET', '/review');
    expect(after.status).toBe(200);
    const late = after.body.principals.find((p) => p.id === id);
    expect(late?.roles.map((r) => r.role).sort()).toEqual(['admin', 'end-user']);
    expect(late?.findings).toContainEqual(expect.objectContaining({ kind: 'high_sensitivity_without_mfa', scope: 'ai.deploy.manage' }));
  });
});

// RFC 7009 revocation by clients, and governance revocation (`govauth revoke`) of users,
// clients, roles and grants: inactive at introspection at once, refresh tokens stop, new tokens
// still work; state survives restarts and is pruned when it can no longer matter.
import type * as oidc from 'openid-client';
import * as openid from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RevocationState } from '../../src/governance/revocation-state.ts';
import { pruneRevocations } from '../../src/governance/revocations.ts';
import { basic, decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { API, createUser, createWebApp, discover, createResourceServer } from '../helpers/people.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let db: TestDatabase;
let t: TestServer;
let rs: ClientCreds;
let app: { client_id: string; client_secret: string | null };
let appCreds: ClientCreds;
let config: oidc.Configuration;

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestServer({ db });
  await t.cliJson('init', '--demo');
  rs = await createResourceServer(t);
  app = await createWebApp(t);
  appCreds = { client_id: app.client_id, client_secret: app.client_secret ?? '' };
  for (const name of ['nina', 'omar', 'pia', 'quinn']) await createUser(t, `${name}@example.com`, ['data-scientist']);
  await t.server.policy.sync();
  config = await discover(t, app);
});
afterAll(async () => {
  await t?.stop();
  await db?.drop();
});

const form = (creds: ClientCreds | undefined, body: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...(creds && { authorization: basic(creds) }) },
  body: new URLSearchParams(body),
});
const revoke = (creds: ClientCreds | undefined, body: Record<string, string>) => fetch(`${t.url}/token/revocation`, form(creds, body));
const active = async (token: string, server: TestServer = t): Promise<boolean> =>
  ((await (await fetch(`${server.url}/token/introspection`, form(rs, { token }))).json()) as { active: boolean }).active;
/** Why introspection answered as it did, from the audit trail (for assertion messages). */
async function why(token: string): Promise<string> {
  await t.server.audit.flush();
  const jti = String(decodeJwt(token).payload.jti);
  const rows = await t.server.db.prisma.auditEvent.findMany({ where: { action: 'token.introspected' }, orderBy: { seq: 'desc' }, take: 50 });
  const hit = rows.find((r) => (JSON.parse(r.detail) as { jti?: string }).jti === jti);
  return `jti ${jti}: ${hit?.detail ?? 'no introspection record'}`;
}
const newBot = (roles = 'data-scientist') => t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', roles);
async function botToken(creds: ClientCreds, server: TestServer = t): Promise<string> {
  const res = await tokenRequest(server.url, { grant_type: 'client_credentials', resource: API }, { basic: creds });
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  return String(res.body.access_token);
}
const refreshFails = (rt: string) => openid.refreshTokenGrant(config, rt).then(() => 'success', (e: Error & { error?: string }) => e.error ?? e.message);

describe('RFC 7009 revocation', () => {
  it('lets a client revoke its own access token: 200, and inactive at once', async () => {
    const bot = await newBot();
    await t.server.policy.sync();
    const token = await botToken(bot);
    const res = await revoke(bot, { token, token_type_hint: 'access_token' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await active(token)).toBe(false);
  });

  it("does nothing to another client's token (200, no effect), to garbage, or with a wrong hint", async () => {
    const [owner, other] = [await newBot(), await newBot()];
    await t.server.policy.sync();
    const token = await botToken(owner);
    expect((await revoke(other, { token })).status).toBe(200);
    expect((await revoke(other, { token: 'not-a-token' })).status).toBe(200);
    expect(await active(token)).toBe(true);
    expect((await revoke(owner, { token, token_type_hint: 'refresh_token' })).status).toBe(200); // hint is only a hint
    expect(await active(token)).toBe(false);
  });

  it('answers 401 invalid_client without valid client authentication, and 400 without a token', async () => {
    const res = await revoke(undefined, { token: 'x' });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
    expect((await revoke({ client_id: rs.client_id, client_secret: 'wrong' }, { token: 'x' })).status).toBe(401);
    const missing = await revoke(rs, {});
    expect(missing.status).toBe(400);
  });

  it('revoking a refresh token revokes its grant: every access token from it, and the refresh token', async () => {
    const tokens = await headlessSignIn(config, 'nina@example.com', 'openid offline_access ai.training.read', { extra: { prompt: 'consent' } });
    const refreshed = await openid.refreshTokenGrant(config, tokens.refresh_token!);
    expect(await active(tokens.access_token)).toBe(true);
    expect((await revoke(appCreds, { token: refreshed.refresh_token!, token_type_hint: 'refresh_token' })).status).toBe(200);
    expect(await active(tokens.access_token)).toBe(false);
    expect(await active(refreshed.access_token)).toBe(false);
    expect(await refreshFails(refreshed.refresh_token!)).toBe('invalid_grant');
  });

  it('refresh-token reuse (theft) also turns the grant\'s access tokens inactive', async () => {
    const tokens = await headlessSignIn(config, 'omar@example.com', 'openid offline_access ai.training.read', { extra: { prompt: 'consent' } });
    const second = await openid.refreshTokenGrant(config, tokens.refresh_token!);
    expect(await refreshFails(tokens.refresh_token!)).toBe('invalid_grant'); // reuse
    expect(await active(second.access_token)).toBe(false);
    expect(await active(tokens.access_token)).toBe(false);
  });
});

describe('govauth revoke', () => {
  it('--client: every token issued before now is inactive; new tokens still work', async () => {
    const bot = await newBot();
    await t.server.policy.sync();
    const before = await botToken(bot);
    const out = await t.cliJson<{ revoked: { kind: string } }>('revoke', '--client', bot.client_id, '--reason', 'key leaked');
    expect(out.revoked.kind).toBe('client');
    await t.server.policy.sync();
    expect(await active(before)).toBe(false);
    const after = await botToken(bot);
    expect(await active(after), await why(after)).toBe(true);
  });

  it('--role: tokens carrying the role are inactive, others are not', async () => {
    const [scientist, user] = [await newBot('data-scientist'), await newBot('end-user')];
    await t.server.policy.sync();
    const [a, b] = [await botToken(scientist), await botToken(user)];
    await t.cliJson('revoke', '--role', 'data-scientist');
    await t.server.policy.sync();
    expect(await active(a), await why(a)).toBe(false);
    expect(await active(b), await why(b)).toBe(true);
    const fresh = await botToken(scientist);
    expect(await active(fresh), await why(fresh)).toBe(true);
  });

  it('--user: access tokens inactive, refresh tokens stop, signing in again works', async () => {
    const tokens = await headlessSignIn(config, 'pia@example.com', 'openid offline_access ai.training.read', { extra: { prompt: 'consent' } });
    await t.cliJson('revoke', '--user', 'pia@example.com', '--reason', 'left the team');
    await t.server.policy.sync();
    expect(await active(tokens.access_token)).toBe(false);
    expect(await refreshFails(tokens.refresh_token!)).toBe('invalid_grant');
    const again = await headlessSignIn(config, 'pia@example.com', 'openid ai.training.read');
    expect(await active(again.access_token), await why(again.access_token)).toBe(true);
  });

  it('--grant: the tokens of that grant only', async () => {
    const one = await headlessSignIn(config, 'quinn@example.com', 'openid offline_access ai.training.read', { extra: { prompt: 'consent' } });
    const grantId = String(decodeJwt(one.access_token).payload.grant_id);
    const bot = await newBot();
    await t.server.policy.sync();
    const unrelated = await botToken(bot);
    await t.cliJson('revoke', '--grant', grantId);
    await t.server.policy.sync();
    expect(await active(one.access_token)).toBe(false);
    expect(await refreshFails(one.refresh_token!)).toBe('invalid_grant');
    expect(await active(unrelated)).toBe(true);
  });

  it('lists what is in force, and refuses unknown principals with a clear message', async () => {
    const { revocations } = await t.cliJson<{ revocations: { kind: string; label: string; reason: string | null }[] }>('revocations', 'list');
    expect(revocations.find((r) => r.kind === 'user')).toMatchObject({ label: 'pia@example.com', reason: 'left the team' });
    expect(revocations.map((r) => r.kind)).toEqual(expect.arrayContaining(['token', 'grant', 'client', 'role', 'user']));
    expect((await t.cli('revoke', '--user', 'ghost@example.com')).stderr).toMatch(/no user ghost@example.com/);
    expect((await t.cli('revoke', '--role', 'ghost')).stderr).toMatch(/no role named ghost/);
    const none = await t.cli('revoke');
    expect(none.code).toBe(2); // a usage mistake, as documented
    expect(none.stderr).toMatch(/exactly one of --user, --client, --role, --grant/);
    const two = await t.cli('revoke', '--user', 'a@example.com', '--role', 'admin');
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/exactly one of .*\(got --user, --role\)/);
  });

  it('keeps every revocation across a restart', async () => {
    const bot = await newBot();
    await t.server.policy.sync();
    const token = await botToken(bot);
    await t.cliJson('revoke', '--client', bot.client_id);
    t = await t.restart();
    expect(await active(token)).toBe(false);
  });
});

describe('keeping revocation state small', () => {
  it('prunes a single-token entry once the token has expired', async () => {
    const before = await t.server.db.prisma.revocation.count({ where: { kind: 'token' } });
    expect(before).toBeGreaterThan(0);
    const later = Date.now() + 3600_000; // every test token expires within 5 minutes
    await pruneRevocations(t.server.db, later);
    expect(await t.server.db.prisma.revocation.count({ where: { kind: 'token' } })).toBe(0);
    expect(await t.server.db.prisma.revocation.count({ where: { kind: 'user' } })).toBe(1); // principal cutoffs outlive refresh tokens
    const state = new RevocationState();
    state.set({ id: 1, kind: 'token', key: 'j', cutoff: 0, expiresAt: 1000, reason: null, actor: null });
    expect(state.prune(1001)).toBe(1);
    expect(state.size).toBe(0);
  });
});

describe('across instances', () => {
  it('a revocation made on one instance (or the CLI) is seen by another within 1 s', async () => {
    // Instances behind one load balancer share one issuer.
    const other = await startTestServer({ db, masterKey: t.env.GOVAUTH_MASTER_KEY, env: { GOVAUTH_POLICY_POLL_MS: '250', GOVAUTH_ISSUER: t.issuer } });
    try {
      const bot = await newBot();
      await Promise.all([t.server.policy.sync(), other.server.policy.sync()]);
      const viaEndpoint = await botToken(bot);
      const viaCli = await botToken(bot);
      expect(await active(viaEndpoint, other)).toBe(true);
      let started = performance.now();
      await revoke(bot, { token: viaEndpoint }); // instance t
      while (await active(viaEndpoint, other)) {
        expect(performance.now() - started).toBeLessThan(1000);
        await new Promise((r) => setTimeout(r, 10));
      }
      const first = performance.now() - started;
      started = performance.now();
      await t.cliJson('revoke', '--client', bot.client_id);
      while (await active(viaCli, other)) {
        expect(performance.now() - started).toBeLessThan(1000);
        await new Promise((r) => setTimeout(r, 10));
      }
      console.log(`cross-instance revocation seen after ${first.toFixed(0)} ms (endpoint) and ${(performance.now() - started).toFixed(0)} ms (CLI)`);
    } finally {
      await other.stop();
    }
  });
});

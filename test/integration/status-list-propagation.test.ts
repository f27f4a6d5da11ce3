// Two server instances on one database, status lists with a 1 s ttl and the production poll
// interval: a token minted on either instance is in both instances' lists, indices never
// collide (small blocks, so the instances reserve many of them in turn and lists fill up and
// rotate), issuance carries on when a block runs out, and every kind of revocation turns the
// token's bit to 1 in the lists both instances serve within ttl + one poll interval, which is
// what a resource server caching the list for its ttl then sees within one more ttl.
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE, allowDelegation, createAgent } from '../helpers/agents.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { basic, decodeJwt, tokenRequest, waitFor, type ClientCreds } from '../helpers/oauth.ts';
import { API, createUser, createWebApp, discover } from '../helpers/people.ts';
import { statusBit, statusOf } from '../helpers/status-list.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const TTL_MS = 1000;
const POLL_MS = 250;
const LIST_SIZE = 64;
const statusList = { blockSize: 8, listSize: LIST_SIZE };

let db: TestDatabase;
const env = { GOVAUTH_STATUS_LIST_TTL: '1', GOVAUTH_POLICY_POLL_MS: String(POLL_MS) };
let a: TestServer;
let b: TestServer;
let appA: oidc.Configuration;
let agentB: oidc.Configuration;

beforeAll(async () => {
  db = await createTestDatabase();
  a = await startTestServer({ db, env, statusList });
  // One issuer, as instances behind one load balancer: each answers for the other's tokens.
  b = await startTestServer({ db, env: { ...env, GOVAUTH_ISSUER: a.issuer }, statusList, masterKey: a.env.GOVAUTH_MASTER_KEY });
  await a.cliJson('init', '--demo');
  await a.cliJson('role', 'create', 'coding-agent', '--description', 'AI coding assistants', '--scopes', 'ai.prediction.run');
  appA = await discover(a, await createWebApp(a));
  const agent = await createAgent(a, 'Agent', ['coding-agent']);
  agentB = await discover(b, agent);
  await allowDelegation(a, { agentRole: 'coding-agent', forRole: 'data-scientist', resource: API });
  await b.server.policy.sync();
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await db?.drop();
});

const bot = (name: string, roles = 'end-user') => a.cliJson<ClientCreds>('client', 'create', '--name', name, '--grant', 'client_credentials', '--roles', roles);
async function botToken(t: TestServer, creds: ClientCreds): Promise<string> {
  const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: creds });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return String(res.body.access_token);
}
let people = 0;
async function person(): Promise<{ email: string; tokens: Awaited<ReturnType<typeof headlessSignIn>> }> {
  const email = `p${++people}@example.com`;
  await createUser(a, email, ['data-scientist']);
  return { email, tokens: await headlessSignIn(appA, email, 'openid offline_access ai.prediction.run', { extra: { prompt: 'consent' } }) };
}

/** The token's bit in the list each instance serves (each at its own address). */
const bits = (token: string) => Promise.all([a, b].map((t) => statusBit(a.issuer, token, t.url)));

/** Milliseconds from `revoke` starting until both instances serve the token's bit as 1. */
async function flipTime(token: string, revoke: () => Promise<unknown>): Promise<number> {
  // Both instances know the token (from the audit trail) before it is revoked.
  await waitFor(() => Promise.resolve([a, b].every((t) => t.server.statusLists.knownToken(decodeJti(token))) ? true : undefined), 3000);
  expect(await bits(token)).toEqual([0, 0]);
  const started = performance.now();
  await revoke();
  await waitFor(async () => ((await bits(token)).every((bit) => bit === 1) ? true : undefined), 5000, 25);
  return performance.now() - started;
}
const decodeJti = (token: string): string => String(decodeJwt(token).payload.jti);

describe('two instances, one database', () => {
  it('hand out unique indices from small blocks (issuance carries on as each runs out), rotate full lists, and serve every token in both', async () => {
    const creds = await bot('burst-bot');
    // Concurrent bursts on both instances: blocks of 8 run out again and again mid-burst.
    const tokens = (await Promise.all(Array.from({ length: 120 }, (_, i) => botToken(i % 2 ? a : b, creds)))).map((tok) => ({ tok, ref: statusOf(tok) }));
    const keys = tokens.map(({ ref }) => `${ref.uri.replace(/^.*\/statuslists\//, '')}#${ref.idx}`);
    expect(new Set(keys).size).toBe(tokens.length);
    for (const { ref } of tokens) expect(ref.idx).toBeLessThan(LIST_SIZE);
    expect(new Set(tokens.map(({ ref }) => ref.uri)).size).toBeGreaterThan(1); // lists filled up and rotated
    await Promise.all([a, b].map((t) => t.server.statusLists.settled()));
    for (const { tok } of tokens.slice(0, 10)) expect(await bits(tok)).toEqual([0, 0]);
  });

  it('turn the bit to 1 in both lists within ttl + one poll interval, for every kind of revocation', async () => {
    const timings: Record<string, number> = {};
    const measure = async (kind: string, token: string, revoke: () => Promise<unknown>) => {
      timings[kind] = Math.round(await flipTime(token, revoke));
    };

    const own = await bot('own-bot');
    const ownToken = await botToken(b, own);
    await measure('single token (RFC 7009, at the other instance)', ownToken, () =>
      fetch(`${a.url}/token/revocation`, { method: 'POST', headers: { authorization: basic(own), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: ownToken }) }),
    );
    const revoked = await bot('revoked-bot');
    await measure('client revoked', await botToken(b, revoked), () => a.cliJson('revoke', '--client', revoked.client_id));
    const disabled = await bot('disabled-bot');
    await measure('client disabled', await botToken(a, disabled), () => a.cliJson('client', 'disable', disabled.client_id));
    await a.cliJson('role', 'create', 'batch-runner', '--scopes', 'ai.predictions.execute');
    const shrinking = await bot('shrinking-bot', 'batch-runner');
    await measure('scope no longer granted', await botToken(b, shrinking), () => a.cliJson('role', 'update', 'batch-runner', '--scopes', 'ai.prediction.run'));
    await a.cliJson('role', 'create', 'short-lived', '--scopes', 'ai.usage.log.read');
    const roleBot = await bot('role-bot', 'short-lived');
    await measure('role revoked', await botToken(a, roleBot), () => a.cliJson('revoke', '--role', 'short-lived'));

    const bob = await person();
    await measure('user revoked', bob.tokens.access_token, () => a.cliJson('revoke', '--user', bob.email));
    const carol = await person();
    await measure('user disabled', carol.tokens.access_token, () => a.cliJson('user', 'disable', carol.email));
    const dave = await person();
    await measure('grant revoked (its refresh token revoked by the app)', dave.tokens.access_token, () => oidc.tokenRevocation(appA, dave.tokens.refresh_token ?? ''));
    const erin = await person();
    const exchanged = (await oidc.genericGrantRequest(agentB, TOKEN_EXCHANGE, { subject_token: erin.tokens.access_token, subject_token_type: ACCESS_TOKEN_TYPE, resource: API })).access_token;
    await measure('delegation withdrawn', exchanged, async () => {
      await a.server.db.prisma.delegationPolicy.deleteMany({});
      await a.server.db.prisma.change.create({ data: { kind: 'delegation', key: 'all' } });
    });

    console.log('status list propagation (ms, both instances, ttl 1 s, poll 250 ms):', timings);
    for (const [kind, ms] of Object.entries(timings)) expect(ms, kind).toBeLessThanOrEqual(TTL_MS + POLL_MS);
  });

  it('a third instance started later reads the live tokens from the audit trail before it serves a list', async () => {
    const creds = await bot('catch-up-bot');
    const live = await botToken(a, creds);
    const revoked = await botToken(b, creds);
    const revocation = await fetch(`${a.url}/token/revocation`, { method: 'POST', headers: { authorization: basic(creds), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: revoked }) });
    expect(revocation.status).toBe(200);
    const c = await startTestServer({ db, env: { ...env, GOVAUTH_ISSUER: a.issuer }, statusList, masterKey: a.env.GOVAUTH_MASTER_KEY });
    try {
      await waitFor(async () => ((await fetch(`${c.url}/statuslists`)).status === 200 ? true : undefined), 5000);
      expect(await statusBit(a.issuer, live, c.url)).toBe(0);
      expect(await statusBit(a.issuer, revoked, c.url)).toBe(1);
    } finally {
      await c.stop();
    }
  });

  it('retire a list once no token in it can be live, and keep serving the newest', async () => {
    await botToken(a, await bot('late-bot'));
    const oldest = `${a.issuer}/statuslists/0`;
    expect((await fetch(oldest)).status).toBe(200);
    // Two hours later every token has expired and every block is long past its age.
    for (const t of [a, b]) t.advance(2 * 3600_000);
    for (const t of [a, b]) {
      expect((await fetch(`${t.url}/statuslists/0`)).status).toBe(404);
      const { status_lists: lists } = (await (await fetch(`${t.url}/statuslists`)).json()) as { status_lists: string[] };
      expect(lists).toHaveLength(1); // the newest, which tokens are still joining
      expect((await fetch((lists[0] ?? '').replace(a.issuer, t.url))).status).toBe(200);
    }
  });
});

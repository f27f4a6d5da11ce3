// Rate limits: token requests per authenticated client, sign-in attempts per account and per
// source address; 429 with Retry-After; counters shared between instances through the
// database; a refused token request consumes nothing.
import type * as oidc from 'openid-client';
import * as openid from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { CookieJar, field } from '../helpers/cookie-jar.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { API, authorizationRequest, createUser, createWebApp, discover } from '../helpers/people.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const LIMITS = {
  GOVAUTH_RATE_LIMIT_TOKEN: '5',
  GOVAUTH_RATE_LIMIT_SIGNIN_ACCOUNT: '3',
  GOVAUTH_RATE_LIMIT_SIGNIN_ADDRESS: '5',
  GOVAUTH_TRUST_PROXY: 'true', // so each test can sign in "from" its own address
};

let db: TestDatabase;
let a: TestServer;
let b: TestServer; // a second instance on the same database
let config: oidc.Configuration;

beforeAll(async () => {
  db = await createTestDatabase();
  a = await startTestServer({ db, env: LIMITS });
  b = await startTestServer({ db, env: { ...LIMITS, GOVAUTH_ISSUER: a.issuer }, masterKey: a.env.GOVAUTH_MASTER_KEY });
  await a.cliJson('init', '--demo');
  for (const name of ['ada', 'ben', 'cy', 'dee']) await createUser(a, `${name}@example.com`, ['data-scientist']);
  const app = await createWebApp(a);
  await a.server.policy.sync();
  await b.server.policy.sync();
  config = await discover(a, app);
});
afterAll(async () => {
  await b?.stop();
  await a?.stop();
  await db?.drop();
});

const newBot = () => a.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
const token = (server: TestServer, creds: ClientCreds) => tokenRequest(server.url, { grant_type: 'client_credentials', resource: API }, { basic: creds });
async function synced(): Promise<void> {
  await a.server.policy.sync();
  await b.server.policy.sync();
}

describe('token endpoint, per client', () => {
  it('answers 429 slow_down with Retry-After once a client has spent its budget, and only that client', async () => {
    const [bot, other] = [await newBot(), await newBot()];
    await synced();
    for (let i = 0; i < 5; i++) expect((await token(a, bot)).status).toBe(200);
    const refused = await token(a, bot);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: 'slow_down' });
    expect(String(refused.body.error_description)).toMatch(/retry after \d+ s/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 120).toBe(true);
    expect((await token(a, other)).status).toBe(200);
    // The budget returns as the window slides.
    a.advance(120_000);
    b.advance(120_000);
    expect((await token(a, bot)).status).toBe(200);
  });

  it('does not let anyone spend a client budget with wrong secrets', async () => {
    const bot = await newBot();
    await synced();
    for (let i = 0; i < 8; i++) expect((await token(a, { client_id: bot.client_id, client_secret: 'wrong' })).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await token(a, bot)).status).toBe(200);
  });

  it('is shared between instances on one database', async () => {
    const bot = await newBot();
    await synced();
    for (let i = 0; i < 5; i++) expect((await token(a, bot)).status).toBe(200);
    await a.server.limiter.flush(); // what the background flush does every 200 ms
    expect((await token(b, bot)).status).toBe(429);
  });

  it('records the first refusal in the audit trail, not the whole flood', async () => {
    const bot = await newBot();
    await synced();
    for (let i = 0; i < 5; i++) await token(a, bot);
    for (let i = 0; i < 10; i++) expect((await token(a, bot)).status).toBe(429);
    await a.server.audit.flush();
    const rows = await a.server.db.prisma.auditEvent.findMany({ where: { action: 'token.refused', clientId: bot.client_id } });
    expect(rows.map((r) => JSON.parse(r.detail) as { error: string })).toEqual([expect.objectContaining({ error: 'slow_down' })]);
  });

  it('refuses before the grant is processed: a refused refresh does not rotate the refresh token', async () => {
    // A confidential app: one code exchange, then four refreshes spend its budget of 5.
    const tokens = await headlessSignIn(config, 'ada@example.com', 'openid offline_access ai.training.read', { extra: { prompt: 'consent' } });
    let rt = tokens.refresh_token!;
    for (let i = 0; i < 4; i++) rt = (await openid.refreshTokenGrant(config, rt)).refresh_token!;
    const refused = await openid.refreshTokenGrant(config, rt).then(
      () => undefined,
      (e: Error & { error?: string; status?: number }) => e,
    );
    expect(refused).toMatchObject({ error: 'slow_down', status: 429 });
    a.advance(120_000);
    b.advance(120_000);
    // The same refresh token still works: the refused request did not use it up.
    expect((await openid.refreshTokenGrant(config, rt)).access_token).toBeTruthy();
  });
});

/** The login page of a fresh authorization request, and a way to submit it from an address. */
async function loginForm(address: string): Promise<(email: string, password: string) => Promise<{ status: number; retryAfter: string | null; html: string }>> {
  const req = await authorizationRequest(config, 'openid ai.training.read');
  const jar = new CookieJar();
  const headers = (): Record<string, string> => ({ cookie: jar.header(), 'x-forwarded-for': address, 'x-forwarded-proto': 'http' });
  let res = await fetch(req.url, { redirect: 'manual', headers: headers() });
  jar.store(res);
  const location = new URL(res.headers.get('location') ?? '', req.url);
  res = await fetch(location, { headers: headers() });
  jar.store(res);
  let html = await res.text();
  return async (email, password) => {
    const action = new URL(/<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? '', location);
    const post = await fetch(action, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...headers(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: field(html, 'csrf') ?? '', email, password }),
    });
    jar.store(post);
    html = await post.text();
    return { status: post.status, retryAfter: post.headers.get('retry-after'), html };
  };
}

describe('sign-in, per account and per address', () => {
  it('limits attempts on one account, with a clear page and Retry-After', async () => {
    const submit = await loginForm('203.0.113.10');
    for (let i = 0; i < 3; i++) expect((await submit('ben@example.com', 'wrong')).status).toBe(401);
    const limited = await submit('ben@example.com', 'wrong');
    expect(limited.status).toBe(429);
    expect(limited.html).toMatch(/Too many sign-in attempts\. Try again in \d+ seconds?\./);
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    // The right password does not get through either while the account is limited.
    expect((await submit('ben@example.com', 'correct horse battery staple')).status).toBe(429);
    // The same account from another address is limited too (guessing from many addresses).
    const elsewhere = await loginForm('198.51.100.7');
    expect((await elsewhere('ben@example.com', 'wrong')).status).toBe(429);
  });

  it('limits attempts from one address across accounts', async () => {
    const submit = await loginForm('203.0.113.20');
    for (const email of ['cy@example.com', 'dee@example.com', 'nobody1@example.com', 'nobody2@example.com', 'nobody3@example.com']) {
      expect((await submit(email, 'wrong')).status).toBe(401);
    }
    expect((await submit('nobody4@example.com', 'wrong')).status).toBe(429);
    // Another address is unaffected.
    const other = await loginForm('203.0.113.21');
    expect((await other('cy@example.com', 'wrong')).status).toBe(401);
  });

  it('records a rate-limited sign-in in the audit trail', async () => {
    await a.server.audit.flush();
    const rows = await a.server.db.prisma.auditEvent.findMany({ where: { action: 'login.throttled' } });
    const reasons = rows.map((r) => JSON.parse(r.detail) as { reason?: string; limit?: string });
    expect(reasons).toEqual(expect.arrayContaining([expect.objectContaining({ reason: 'rate_limit', limit: 'account' }), expect.objectContaining({ reason: 'rate_limit', limit: 'address' })]));
  });
});

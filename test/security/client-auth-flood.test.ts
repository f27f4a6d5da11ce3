// Failed client authentications per source address (security checklist 23, RFC 6819 §4.3.5):
// wrong secrets at a client whose secret this process has not verified yet would each cost an
// argon2 run, so an address that keeps failing is answered 429 before any argon2 work, at
// every endpoint that authenticates clients, for unknown client_ids alike; clients already
// verified keep working from it, other addresses are unaffected, and the flood is audited once.
import argon2 from 'argon2';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { basic, type ClientCreds } from '../helpers/oauth.ts';
import { API, createResourceServer } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const LIMIT = 3;
let t: TestServer;
let rs: ClientCreds;

beforeAll(async () => {
  t = await startTestServer({ env: { GOVAUTH_RATE_LIMIT_CLIENT_AUTH_FAILURES: String(LIMIT), GOVAUTH_TRUST_PROXY: 'true' } });
  await t.cliJson('init', '--demo');
  rs = await createResourceServer(t);
  await t.server.policy.sync();
});
afterAll(() => t?.stop());
afterEach(() => vi.restoreAllMocks());

const newBot = async (): Promise<ClientCreds> => {
  const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  await t.server.policy.sync();
  return bot;
};

type Path = '/token' | '/token/introspection' | '/token/revocation';
const PARAMS: Record<Path, Record<string, string>> = {
  '/token': { grant_type: 'client_credentials', resource: API },
  '/token/introspection': { token: 'not-a-token' },
  '/token/revocation': { token: 'not-a-token' },
};

async function post(path: Path, from: string, creds: ClientCreds, mode: 'basic' | 'post' = 'basic') {
  const form = new URLSearchParams(PARAMS[path]);
  if (mode === 'post') {
    form.set('client_id', creds.client_id);
    form.set('client_secret', creds.client_secret);
  }
  const res = await fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from, ...(mode === 'basic' && { authorization: basic(creds) }) },
    body: form,
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown>, retryAfter: res.headers.get('retry-after'), challenge: res.headers.get('www-authenticate') };
}

const wrong = (c: ClientCreds): ClientCreds => ({ client_id: c.client_id, client_secret: `${c.client_secret}x` });
const unknown: ClientCreds = { client_id: 'cl_doesnotexist', client_secret: 'some secret' };

describe('failed client authentication, per source address', () => {
  it(`answers 429 slow_down once an address has failed ${LIMIT} times, before any argon2, unknown client_ids alike`, async () => {
    const [known, fresh] = [await newBot(), await newBot()];
    const from = '203.0.113.1';
    expect((await post('/token', from, known)).status).toBe(200); // verified once: cached from now on
    for (let i = 0; i < LIMIT; i++) expect((await post('/token', from, wrong(fresh))).status).toBe(401);

    const argon = vi.spyOn(argon2, 'verify');
    const refused = await post('/token', from, wrong(fresh));
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: 'slow_down' });
    expect(String(refused.body.error_description)).toMatch(/failed client authentications .* retry after \d+ s/);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    // The same answer whether the client_id exists or not, in the body and in the form.
    for (const mode of ['basic', 'post'] as const) {
      const u = await post('/token', from, unknown, mode);
      expect({ status: u.status, error: u.body.error, challenge: u.challenge }).toEqual({ status: 429, error: 'slow_down', challenge: null });
    }
    // A right secret that would need argon2 waits too; the attacker's address is spent.
    expect((await post('/token', from, fresh)).status).toBe(429);
    // govauth's own endpoints share the budget.
    for (const path of ['/token/introspection', '/token/revocation'] as const) {
      const r = await post(path, from, wrong(rs));
      expect([path, r.status, r.body.error, Number(r.retryAfter) >= 1]).toEqual([path, 429, 'slow_down', true]);
      expect((await post(path, from, unknown)).status).toBe(429);
    }
    expect(argon).not.toHaveBeenCalled();

    // A client whose secret is already verified is not locked out by whoever shares its address.
    expect((await post('/token', from, known)).status).toBe(200);
    // Other addresses are unaffected.
    expect((await post('/token', '198.51.100.9', wrong(fresh))).status).toBe(401);
    expect((await post('/token', '198.51.100.9', fresh)).status).toBe(200);
    // The budget returns as the window slides.
    t.advance(120_000);
    expect((await post('/token', from, wrong(fresh))).status).toBe(401);
  });

  it('counts failures only: successful authentications, argon2 ones included, give their unit back', async () => {
    const from = '203.0.113.2';
    for (let i = 0; i < LIMIT + 2; i++) expect((await post('/token', from, await newBot())).status).toBe(200); // each a first (argon2) verification
    expect((await post('/token/introspection', from, rs)).status).toBe(200);
    for (let i = 0; i < LIMIT; i++) expect((await post('/token/introspection', from, unknown)).status).toBe(401);
    expect((await post('/token/introspection', from, unknown)).status).toBe(429);
  });

  it('counts a burst of first verifications as one argon2 run: right secrets all pass, a wrong one counts every failure', async () => {
    const from = '203.0.113.4';
    const [fresh, other] = [await newBot(), await newBot()];
    // The real argon2, held open long enough that all ten requests arrive while it runs.
    const real = argon2.verify.bind(argon2);
    const argon = vi.spyOn(argon2, 'verify').mockImplementation(async (...args: Parameters<typeof argon2.verify>) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return real(...args);
    });
    // Ten at once, more than the budget, before this process has verified the secret (as after
    // a restart, a fleet behind one NAT): one argon2 run, one unit spent and given back.
    const burst = await Promise.all(Array.from({ length: 10 }, () => post('/token', from, fresh)));
    expect(burst.map((r) => r.status)).toEqual(Array<number>(10).fill(200));
    expect(argon).toHaveBeenCalledTimes(1);
    // The same wrong secret ten times at once: still one argon2 run, but ten failures.
    argon.mockClear(); // the calls, not the implementation
    const guesses = await Promise.all(Array.from({ length: 10 }, () => post('/token', from, wrong(other))));
    expect(argon).toHaveBeenCalledTimes(1);
    const statuses = guesses.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array<number>(LIMIT).fill(401), ...Array<number>(10 - LIMIT).fill(429)]);
    expect((await post('/token', from, wrong(other))).status).toBe(429);
  });

  it('records the first refusal of a flood in the audit trail, not every one', async () => {
    const bot = await newBot();
    const from = '203.0.113.3';
    for (let i = 0; i < LIMIT; i++) expect((await post('/token', from, wrong(bot))).status).toBe(401);
    for (let i = 0; i < 10; i++) expect((await post('/token', from, i % 2 ? unknown : wrong(bot))).status).toBe(429);
    await t.server.audit.flush();
    const rows = await t.server.db.prisma.auditEvent.findMany({ where: { action: 'token.refused', ip: from }, orderBy: { seq: 'asc' } });
    expect(rows.map((r) => (JSON.parse(r.detail) as { error: string }).error)).toEqual([...Array<string>(LIMIT).fill('invalid_client'), 'slow_down']);
  });
});

// Which X-Forwarded-For entry is the client. Behind a proxy that appends (the common case) the
// header arrives as "<whatever the client sent>, <the address the proxy saw>": a client that
// rotates the leftmost entry must not escape per-address limits, and the audit trail must
// record the address the proxy saw. GOVAUTH_TRUSTED_PROXY_HOPS says how many proxies append;
// without GOVAUTH_TRUST_PROXY the header is ignored altogether.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { basic, type ClientCreds } from '../helpers/oauth.ts';
import { API, authorizationRequest, createUser, createWebApp, discover } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { Agent, openLogin, pageOf, submitLogin } from './helpers/flows.ts';

const LIMIT = 3;
const LOOPBACK = /^(?:(?:::ffff:)?127\.0\.0\.1|::1)$/;
let spoofs = 0;
/** A fresh leftmost entry for every request, as a client rotating it would send. */
const spoofed = (): string => `10.66.${Math.floor(++spoofs / 250)}.${spoofs % 250}`;

async function startServer(env: Record<string, string>): Promise<{ t: TestServer; bot: ClientCreds }> {
  const t = await startTestServer({ env: { GOVAUTH_RATE_LIMIT_CLIENT_AUTH_FAILURES: String(LIMIT), GOVAUTH_RATE_LIMIT_SIGNIN_ADDRESS: String(LIMIT), ...env } });
  await t.cliJson('init', '--demo');
  const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  await t.server.policy.sync();
  return { t, bot };
}

/** A client_credentials request with a wrong secret (one unit of the address's failure budget). */
async function wrongSecret(t: TestServer, bot: ClientCreds, forwardedFor: string): Promise<number> {
  const res = await fetch(`${t.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor, authorization: basic({ ...bot, client_secret: 'wrong' }) },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: API }),
  });
  await res.body?.cancel();
  return res.status;
}

async function addressesOf(t: TestServer, action: string): Promise<(string | null)[]> {
  await t.server.audit.flush();
  const rows = await t.server.db.prisma.auditEvent.findMany({ where: { action }, orderBy: { seq: 'asc' }, select: { ip: true } });
  return rows.map((r) => r.ip);
}

describe('behind one appending proxy (GOVAUTH_TRUST_PROXY=true, default GOVAUTH_TRUSTED_PROXY_HOPS=1)', () => {
  let t: TestServer;
  let bot: ClientCreds;
  beforeAll(async () => {
    ({ t, bot } = await startServer({ GOVAUTH_TRUST_PROXY: 'true' }));
    await createUser(t, 'kai@example.com', ['data-scientist']);
  });
  afterAll(() => t?.stop());

  it('a rotating leftmost entry does not escape the failed-client-authentication budget, and the trail records the real address', async () => {
    const real = '198.51.100.7';
    for (let i = 0; i < LIMIT; i++) expect(await wrongSecret(t, bot, `${spoofed()}, ${real}`)).toBe(401);
    expect(await wrongSecret(t, bot, `${spoofed()}, ${real}`)).toBe(429);
    expect(await wrongSecret(t, bot, `${spoofed()},${real}`)).toBe(429);
    // Another client address behind the same proxy still has its budget.
    expect(await wrongSecret(t, bot, `${real}, 198.51.100.8`)).toBe(401);
    const ips = await addressesOf(t, 'token.refused');
    expect(ips).toEqual([...Array<string>(LIMIT).fill(real), real, '198.51.100.8']);
  });

  it('a rotating leftmost entry does not escape the sign-in limit per address, and the trail records the real address', async () => {
    const real = '198.51.100.20';
    const config = await discover(t, await createWebApp(t));
    await t.server.policy.sync();
    const attempt = async (): Promise<number> => {
      // Each attempt from a fresh browser claiming a fresh address; the proxy saw `real` each time.
      const agent = new Agent({ 'x-forwarded-for': `${spoofed()}, ${real}` });
      const login = await openLogin(agent, (await authorizationRequest(config, 'openid ai.training.read')).url);
      return pageOf(await submitLogin(agent, login, 'kai@example.com', 'wrong')).status;
    };
    for (let i = 0; i < LIMIT; i++) expect(await attempt()).toBe(401);
    expect(await attempt()).toBe(429);
    expect(new Set(await addressesOf(t, 'login.failed'))).toEqual(new Set([real]));
    expect(await addressesOf(t, 'login.throttled')).toEqual([real]);
  });
});

describe('behind two appending proxies (GOVAUTH_TRUSTED_PROXY_HOPS=2)', () => {
  let t: TestServer;
  let bot: ClientCreds;
  beforeAll(async () => ({ t, bot } = await startServer({ GOVAUTH_TRUST_PROXY: 'true', GOVAUTH_TRUSTED_PROXY_HOPS: '2' })));
  afterAll(() => t?.stop());

  it('the second entry from the right is the client; the first from the right is the outer proxy', async () => {
    const [client, outerProxy] = ['198.51.100.30', '192.0.2.10'];
    for (let i = 0; i < LIMIT; i++) expect(await wrongSecret(t, bot, `${spoofed()}, ${client}, ${outerProxy}`)).toBe(401);
    expect(await wrongSecret(t, bot, `${spoofed()}, ${client}, ${outerProxy}`)).toBe(429);
    expect(await addressesOf(t, 'token.refused')).toEqual(Array<string>(LIMIT + 1).fill(client));
  });
});

describe('without GOVAUTH_TRUST_PROXY', () => {
  let t: TestServer;
  let bot: ClientCreds;
  beforeAll(async () => ({ t, bot } = await startServer({})));
  afterAll(() => t?.stop());

  it('ignores X-Forwarded-For: the address is the TCP peer, whatever the header says', async () => {
    for (let i = 0; i < LIMIT; i++) expect(await wrongSecret(t, bot, `${spoofed()}, 198.51.100.${i}`)).toBe(401);
    expect(await wrongSecret(t, bot, '198.51.100.99')).toBe(429); // one budget: the peer's
    const ips = await addressesOf(t, 'token.refused');
    expect(ips).toHaveLength(LIMIT + 1);
    for (const ip of ips) expect(ip).toMatch(LOOPBACK);
  });
});

describe('GOVAUTH_TRUSTED_PROXY_HOPS is checked at start', () => {
  const base = { GOVAUTH_TRUST_PROXY: 'true' };
  it('defaults to 1 and accepts a small whole number', () => {
    expect(loadConfig(base).trustedProxyHops).toBe(1);
    expect(loadConfig({ ...base, GOVAUTH_TRUSTED_PROXY_HOPS: '3' }).trustedProxyHops).toBe(3);
  });
  it('refuses 0, negative, fractional and non-numeric values, and a hop count without a trusted proxy', () => {
    for (const v of ['0', '-1', '1.5', 'two', '11']) expect(() => loadConfig({ ...base, GOVAUTH_TRUSTED_PROXY_HOPS: v })).toThrow(/GOVAUTH_TRUSTED_PROXY_HOPS=.*whole number between 1 and 10/);
    expect(() => loadConfig({ GOVAUTH_TRUSTED_PROXY_HOPS: '2' })).toThrow(/GOVAUTH_TRUSTED_PROXY_HOPS is more than 1 but GOVAUTH_TRUST_PROXY is not true/);
    expect(loadConfig({ GOVAUTH_TRUSTED_PROXY_HOPS: '1' }).trustProxy).toBe(false); // .env.example's default line starts
  });
});

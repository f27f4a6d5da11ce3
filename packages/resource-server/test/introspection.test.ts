// `introspect: true` on a route: govauth's RFC 7662 introspection is asked (with this resource
// server's own credentials, cached briefly), so a revocation applies at once; when govauth cannot
// answer, the token's status list decides, and without one the request is refused (503).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourceServer, type ResourceServer, type ResourceServerOptions } from '../src/index.ts';
import { startApp, type App } from './helpers/apps.ts';
import { API, startGovauth, type Govauth } from './helpers/govauth.ts';
import { AUDIENCE, startStubIssuer, type StubIssuer } from './helpers/stub-issuer.ts';

let g: Govauth;
beforeAll(async () => {
  g = await startGovauth();
});
afterAll(() => g?.t.stop());

/** fetch that counts introspection calls and can be cut off. */
function countingFetch(): { fetch: typeof fetch; calls: () => number; cut: (down: boolean) => void } {
  let calls = 0;
  let down = false;
  return {
    calls: () => calls,
    cut: (d) => void (down = d),
    fetch: (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url.endsWith('/token/introspection')) {
        calls++;
        if (down) return Promise.reject(new TypeError('fetch failed'));
      }
      return fetch(input, init);
    },
  };
}

describe('against govauth', () => {
  let kit: ResourceServer;
  let app: App;
  let net: ReturnType<typeof countingFetch>;
  beforeAll(async () => {
    net = countingFetch();
    kit = createResourceServer({ issuer: g.t.issuer, audience: API, client: { id: g.rs.client_id, secret: g.rs.client_secret }, introspection: { cacheTtl: 2 }, fetch: net.fetch });
    app = await startApp('express', kit, { sensitive: true });
  });
  afterAll(() => app?.close());
  const get = (path: string, token: string) => fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

  it('asks govauth once per token within the cache time', async () => {
    const token = await g.token();
    const before = net.calls();
    expect((await get('/sensitive', token)).status).toBe(200);
    expect((await get('/sensitive', token)).status).toBe(200);
    expect(net.calls() - before).toBe(1);
  });

  it('refuses a revoked token on an introspected route at once, and a route on local checks once its status list says so', async () => {
    const token = await g.token();
    const uncached = createResourceServer({ issuer: g.t.issuer, audience: API, client: { id: g.rs.client_id, secret: g.rs.client_secret }, introspection: { cacheTtl: 0 } });
    const route = uncached.route({ introspect: true });
    const facts = { method: 'GET', url: '/', headers: { authorization: [`Bearer ${token}`] } };
    expect((await uncached.authorize(facts, route)).ok).toBe(true);
    await g.t.cliJson('revoke', '--client', g.bot.client_id, '--reason', 'test');
    const decision = await uncached.authorize(facts, route);
    expect(decision.ok ? 'accepted' : decision.refusal.description).toBe('The access token is no longer active');
    // Without introspection the token's status list decides: this kit fetches it only now, after
    // the revocation, so it already says so (a kit holding an older copy learns within its ttl:
    // govauth-end-to-end.test.ts).
    const local = await uncached.authorize(facts, uncached.route());
    expect(local.ok ? 'accepted' : local.refusal.description).toBe('The access token has been revoked');
  });

  it('fails closed (503) when govauth can be asked neither by introspection nor for the status list', async () => {
    const errors: unknown[] = [];
    // Keys and metadata are reachable; introspection and the status lists are not.
    const cutFetch: typeof fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      return url.includes('/token/introspection') || url.includes('/statuslists/') ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init);
    };
    const cut = createResourceServer({ issuer: g.t.issuer, audience: API, client: { id: g.rs.client_id, secret: g.rs.client_secret }, fetch: cutFetch, onError: (e) => errors.push(e) });
    const decision = await cut.authorize({ method: 'GET', url: '/', headers: { authorization: [`Bearer ${await freshToken()}`] } }, cut.route({ introspect: true }));
    expect(decision.ok ? 'accepted' : `${decision.refusal.status} ${decision.refusal.description}`).toBe('503 The token status list cannot be fetched');
    expect(errors.length).toBeGreaterThanOrEqual(1);
  });

  it('treats refused resource-server credentials like an outage: the status list decides, and the error is reported', async () => {
    const errors: unknown[] = [];
    const wrong = createResourceServer({ issuer: g.t.issuer, audience: API, client: { id: g.rs.client_id, secret: 'wrong' }, onError: (e) => errors.push(e) });
    const decision = await wrong.authorize({ method: 'GET', url: '/', headers: { authorization: [`Bearer ${await freshToken()}`] } }, wrong.route({ introspect: true }));
    expect(decision.ok ? 200 : decision.refusal.status).toBe(200);
    expect(String(errors[0])).toMatch(/introspection answered 401/);
  });

  it('needs client credentials: introspect without them is a TypeError when the route is made', () => {
    const bare = createResourceServer({ issuer: g.t.issuer, audience: API });
    expect(() => bare.route({ introspect: true })).toThrow(TypeError);
  });
});

// The bot was revoked above; a new client's tokens are live.
async function freshToken(): Promise<string> {
  const other = await g.t.cliJson<{ client_id: string; client_secret: string }>('client', 'create', '--name', `bot-${Date.now()}`, '--grant', 'client_credentials', '--roles', 'data-scientist');
  await g.t.server.policy.sync();
  const res = await fetch(`${g.t.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${other.client_id}:${other.client_secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: API }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

describe('falling back to the status list', () => {
  let stub: StubIssuer;
  let answer: number | { active: boolean };
  beforeAll(async () => {
    stub = await startStubIssuer();
    stub.route('/token/introspection', (_req, res) => (typeof answer === 'number' ? res.writeHead(answer).end() : res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer))));
  });
  afterAll(() => stub?.close());
  const kitFor = (o: Partial<ResourceServerOptions> = {}) => createResourceServer({ issuer: stub.issuer, audience: AUDIENCE, client: { id: 'rs', secret: 's' }, introspection: { cacheTtl: 0 }, ...o });
  const check = async (kit: ResourceServer, token: string) => {
    const d = await kit.authorize({ method: 'GET', url: '/', headers: { authorization: [`Bearer ${token}`] } }, kit.route({ introspect: true }));
    return d.ok ? 'ok' : `${d.refusal.status} ${d.refusal.description}`;
  };

  it('lets introspection decide when it answers, and the list when it does not', async () => {
    const uri = await stub.setStatusList('fallback', [0, 1]);
    const kit = kitFor();
    const valid = await stub.mint({ status: { status_list: { idx: 0, uri } } });
    const revoked = await stub.mint({ status: { status_list: { idx: 1, uri } } });
    answer = { active: false };
    expect(await check(kit, valid)).toBe('401 The access token is no longer active');
    answer = { active: true };
    expect(await check(kit, valid)).toBe('ok');
    answer = 500;
    expect(await check(kit, valid)).toBe('ok');
    expect(await check(kit, revoked)).toBe('401 The access token has been revoked');
    expect(stub.hits.get('/token/introspection')).toBeGreaterThanOrEqual(4);
  });
});

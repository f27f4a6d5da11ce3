// Adversarial suite: client authentication at /token (oidc-provider), /token/introspection and
// /token/revocation (govauth's own), who may introspect and revoke what, which grants a client
// may use, and what a token without govauth.admin gets at the admin API. Every refusal is
// paired with the same request succeeding for the right caller, so no test passes vacuously.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { basic, decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { API, createUser, createWebApp, discover, createResourceServer } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const ADMIN = 'urn:govauth:admin';
const BASIC_CHALLENGE = 'Basic realm="govauth", error="invalid_client"';
type Endpoint = '/token' | '/token/introspection' | '/token/revocation';
const ENDPOINTS: readonly Endpoint[] = ['/token', '/token/introspection', '/token/revocation'];

let t: TestServer;
let bot: ClientCreds;
let rs: ClientCreds;
let auditorBot: ClientCreds;
let appCreds: ClientCreds;
let app: { client_id: string; client_secret: string | null };

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'training-bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  rs = await createResourceServer(t);
  auditorBot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'audit-bot', '--grant', 'client_credentials', '--roles', 'govauth-auditor', '--admin-access');
  app = await createWebApp(t);
  appCreds = { client_id: app.client_id, client_secret: app.client_secret ?? '' };
  await createUser(t, 'lena@example.com', ['data-scientist']);
  await t.server.policy.sync();
});
afterAll(() => t?.stop());

interface Answer {
  status: number;
  body: Record<string, unknown>;
  challenge: string | null;
}

async function post(path: Endpoint, creds: ClientCreds | undefined, params: Record<string, string>, mode: 'basic' | 'post' = 'basic'): Promise<Answer> {
  const form = new URLSearchParams(params);
  if (creds && mode === 'post') {
    form.set('client_id', creds.client_id);
    form.set('client_secret', creds.client_secret);
  }
  const res = await fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(creds && mode === 'basic' && { authorization: basic(creds) }) },
    body: form,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, challenge: res.headers.get('www-authenticate') };
}

/** A request each endpoint answers 200 to once the caller is authenticated. */
const PARAMS: Record<Endpoint, Record<string, string>> = {
  '/token': { grant_type: 'client_credentials', resource: API },
  '/token/introspection': { token: 'not-a-token' },
  '/token/revocation': { token: 'not-a-token' },
};
/** Introspection needs a resource server; the other endpoints take the bot. */
const callerFor = (path: Endpoint, botCreds: ClientCreds, rsCreds: ClientCreds): ClientCreds => (path === '/token/introspection' ? rsCreds : botCreds);

async function expectAuthenticated(path: Endpoint, creds: ClientCreds, params = PARAMS[path]): Promise<void> {
  const r = await post(path, creds, params);
  expect(r.status, `${path} ${JSON.stringify(r.body)}`).toBe(200);
}

/** RFC 6749 §5.2: 401 invalid_client; with Basic credentials, a WWW-Authenticate challenge. */
async function expectInvalidClient(path: Endpoint, creds: ClientCreds, mode: 'basic' | 'post' = 'basic'): Promise<void> {
  const r = await post(path, creds, PARAMS[path], mode);
  expect(r.status, `${path} ${mode}`).toBe(401);
  expect(r.body.error, `${path} ${mode}`).toBe('invalid_client');
  expect(Object.keys(r.body).sort(), path).toEqual(['error', 'error_description']);
  // oidc-provider's challenge names the issuer as realm and adds the description.
  if (path !== '/token') expect(r.challenge).toBe(BASIC_CHALLENGE);
  else if (mode === 'basic') expect(r.challenge).toMatch(/^Basic realm="[^"]+", error="invalid_client"/);
}

async function botToken(creds: ClientCreds = bot, resource = API): Promise<string> {
  const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource }, { basic: creds });
  if (res.status !== 200) throw new Error(`token request failed: ${JSON.stringify(res.body)}`);
  return String(res.body.access_token);
}

const introspect = (token: string, caller: ClientCreds = rs, extra: Record<string, string> = {}): Promise<Answer> => post('/token/introspection', caller, { token, ...extra });

describe('client authentication', () => {
  it('a wrong secret is 401 invalid_client at every endpoint, with client_secret_basic and client_secret_post', async () => {
    for (const path of ENDPOINTS) {
      const caller = callerFor(path, bot, rs);
      await expectAuthenticated(path, caller);
      const last = caller.client_secret.slice(-1) === 'A' ? 'B' : 'A';
      for (const secret of ['wrong', `${caller.client_secret.slice(0, -1)}${last}`, `${caller.client_secret} `, caller.client_secret.slice(0, -1)]) {
        for (const mode of ['basic', 'post'] as const) await expectInvalidClient(path, { ...caller, client_secret: secret }, mode);
      }
    }
  });

  it('an empty secret never authenticates: 401 invalid_client at every endpoint (RFC 6749 §5.2)', async () => {
    for (const path of ENDPOINTS) {
      const caller = { ...callerFor(path, bot, rs), client_secret: '' };
      await expectInvalidClient(path, caller, 'post');
      await expectInvalidClient(path, caller, 'basic');
    }
  });

  it('no client authentication at all, or an unreadable Basic header, is 401 invalid_client with a challenge at /token', async () => {
    for (const authorization of [undefined, 'Basic !!!', 'Basic Og==', `Basic ${Buffer.from('no-colon').toString('base64')}`]) {
      const res = await fetch(`${t.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization && { authorization }) },
        body: new URLSearchParams(PARAMS['/token']),
      });
      expect(res.status, String(authorization)).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(BASIC_CHALLENGE);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
    }
  });

  it('a disabled client is 401 invalid_client at every endpoint', async () => {
    const paused = await t.cliJson<ClientCreds>('client', 'create', '--name', 'paused-bot', '--grant', 'client_credentials', '--roles', 'end-user');
    const pausedRs = await t.cliJson<ClientCreds>('client', 'create', '--name', 'paused-api', '--resource', API, '--introspect');
    await t.server.policy.sync();
    for (const path of ENDPOINTS) await expectAuthenticated(path, callerFor(path, paused, pausedRs));
    for (const c of [paused, pausedRs]) await t.cliJson('client', 'disable', c.client_id);
    await t.server.policy.sync();
    for (const path of ENDPOINTS) await expectInvalidClient(path, callerFor(path, paused, pausedRs));
  });

  it('a rotated secret: the old one is 401 invalid_client at once, the new one 200, at every endpoint', async () => {
    const rotating = await t.cliJson<ClientCreds>('client', 'create', '--name', 'rotating-bot', '--grant', 'client_credentials', '--roles', 'end-user');
    const rotatingRs = await t.cliJson<ClientCreds>('client', 'create', '--name', 'rotating-api', '--resource', API, '--introspect');
    await t.server.policy.sync();
    // Authenticated once first, so the old secret sits in the verified-secret cache.
    for (const path of ENDPOINTS) await expectAuthenticated(path, callerFor(path, rotating, rotatingRs));
    const [fresh, freshRs] = [await t.cliJson<ClientCreds>('client', 'rotate-secret', rotating.client_id), await t.cliJson<ClientCreds>('client', 'rotate-secret', rotatingRs.client_id)];
    await t.server.policy.sync();
    for (const path of ENDPOINTS) {
      await expectInvalidClient(path, callerFor(path, rotating, rotatingRs));
      await expectAuthenticated(path, callerFor(path, fresh, freshRs));
    }
  });
});

describe('timing', () => {
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

  it('a wrong secret for an existing client and an unknown client_id take comparable time (no client enumeration)', async () => {
    // Three callers per endpoint: an unknown client_id, a client that never authenticated (its
    // wrong secret is checked with argon2 against the stored hash) and one that did (its secret
    // is in the verified-secret cache). The band is wide because this is wall-clock time on a
    // shared 2-core machine with other suites running: noise moves single medians by tens of
    // per cent, while the leak it guards against is a whole argon2 verification (before the
    // fix in client-secrets.ts: unknown 5 ms, cold 42 ms, warm 6 ms), far outside 0.33–3.
    const cold = await t.cliJson<ClientCreds>('client', 'create', '--name', 'cold-bot', '--grant', 'client_credentials', '--roles', 'end-user');
    const coldRs = await t.cliJson<ClientCreds>('client', 'create', '--name', 'cold-api', '--resource', API, '--introspect');
    await t.server.policy.sync();
    await expectAuthenticated('/token', bot);
    await expectAuthenticated('/token/introspection', rs);
    const unknown = { client_id: `cl_${'A'.repeat(22)}`, client_secret: bot.client_secret };
    for (const path of ['/token', '/token/introspection'] as const) {
      const callers = { unknown, cold: callerFor(path, cold, coldRs), warm: callerFor(path, bot, rs) };
      const times: Record<keyof typeof callers, number[]> = { unknown: [], cold: [], warm: [] };
      const names = Object.keys(callers) as (keyof typeof callers)[];
      for (let round = -3; round < 15; round++) {
        // Interleaved, in a rotating order, so drift in machine load hits every series alike.
        for (let i = 0; i < names.length; i++) {
          const name = names[(i + round + 3) % names.length] as keyof typeof callers;
          const started = performance.now();
          const r = await post(path, { ...callers[name], client_secret: `${callers[name].client_secret}x` }, PARAMS[path]);
          const ms = performance.now() - started;
          expect(r.status).toBe(401);
          if (round >= 0) times[name].push(ms); // the first three rounds warm up
        }
      }
      const [u, c, w] = [median(times.unknown), median(times.cold), median(times.warm)];
      const detail = `${path}: unknown ${u.toFixed(1)} ms, cold ${c.toFixed(1)} ms, warm ${w.toFixed(1)} ms`;
      for (const ratio of [c / u, w / u]) {
        expect(ratio, detail).toBeGreaterThan(0.33);
        expect(ratio, detail).toBeLessThan(3);
      }
    }
  });
});

describe('who may introspect and revoke', () => {
  it('a client_credentials bot may not introspect, not even its own token: 401 invalid_client, no token data', async () => {
    const token = await botToken();
    expect((await introspect(token)).body.active).toBe(true); // the resource server may
    const r = await introspect(token, bot);
    expect(r.status).toBe(401);
    expect(r.challenge).toBe(BASIC_CHALLENGE);
    expect(r.body).toEqual({ error: 'invalid_client', error_description: 'this client is not allowed to introspect tokens' });
  });

  it('an authorization_code app learns nothing about access tokens: exactly {"active":false} (RFC 7662 §2.2)', async () => {
    // Apps hold the refresh_token grant and may introspect their own refresh tokens (README),
    // so they are authenticated introspection callers, but access tokens are for resource
    // servers: theirs and anyone else's answer inactive.
    const config = await discover(t, app);
    const tokens = await headlessSignIn(config, 'lena@example.com', 'openid offline_access ai.training.read', { extra: { prompt: 'consent' } });
    expect((await introspect(tokens.access_token)).body.active).toBe(true);
    for (const token of [await botToken(), tokens.access_token]) {
      const r = await introspect(token, appCreds);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ active: false });
    }
    expect((await introspect(tokens.refresh_token ?? '', appCreds, { token_type_hint: 'refresh_token' })).body).toMatchObject({ active: true, client_id: app.client_id });
  });

  it("revoking another client's access token answers 200 and has no effect (RFC 7009 §2.1)", async () => {
    const other = await t.cliJson<ClientCreds>('client', 'create', '--name', 'other-bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
    await t.server.policy.sync();
    const token = await botToken();
    for (const hint of [{}, { token_type_hint: 'access_token' }, { token_type_hint: 'refresh_token' }] as Record<string, string>[]) {
      const r = await post('/token/revocation', other, { token, ...hint });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({});
    }
    expect((await introspect(token)).body).toMatchObject({ active: true, jti: decodeJwt(token).payload.jti });
    // The owner's own revocation does take effect: the check above could fail.
    expect((await post('/token/revocation', bot, { token })).status).toBe(200);
    expect((await introspect(token)).body).toEqual({ active: false });
  });

  it("revoking another app's refresh token answers 200 and has no effect", async () => {
    const config = await discover(t, app);
    const tokens = await headlessSignIn(config, 'lena@example.com', 'openid offline_access ai.training.read', { extra: { prompt: 'consent' } });
    const rt = tokens.refresh_token ?? '';
    const otherApp = await createWebApp(t);
    await t.server.policy.sync();
    const r = await post('/token/revocation', { client_id: otherApp.client_id, client_secret: otherApp.client_secret ?? '' }, { token: rt, token_type_hint: 'refresh_token' });
    expect(r.status).toBe(200);
    expect((await introspect(rt, appCreds, { token_type_hint: 'refresh_token' })).body.active).toBe(true);
    expect((await introspect(tokens.access_token)).body.active).toBe(true);
  });
});

describe('admin API without govauth.admin', () => {
  const adminCall = async (token: string, method: string, path: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(`${t.url}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, challenge: res.headers.get('www-authenticate') };
  };

  it("a data-scientist bot's token for https://models.example is 401 invalid_token, and it cannot get an admin token", async () => {
    const r = await adminCall(await botToken(), 'GET', '/roles');
    expect(r.status).toBe(401);
    expect(r.challenge).toBe('Bearer realm="govauth", error="invalid_token"');
    expect(r.body).toEqual({ error: 'invalid_token', error_description: `the access token is not for ${ADMIN} (request one with resource=${ADMIN})` });
    const denied = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: ADMIN }, { basic: bot });
    expect(denied.status).toBe(400);
    // Refused before its scopes are considered: it was never allowed the admin API.
    expect(denied.body.error).toBe('invalid_target');
  });

  it('a govauth-auditor token reads but every write is 403 insufficient_scope with the challenge, and nothing changes', async () => {
    const token = await botToken(auditorBot, ADMIN);
    expect((await adminCall(token, 'GET', '/roles')).status).toBe(200);
    const writes: [string, string, unknown][] = [
      ['POST', '/roles', { name: 'auditor-made', description: 'must not exist', scopes: ['ai.training.read'] }],
      ['PATCH', '/roles/data-scientist', { scopes: ['ai.deploy.manage'] }],
      ['POST', `/clients/${bot.client_id}/disable`, undefined],
      ['POST', `/clients/${auditorBot.client_id}/rotate-secret`, undefined],
    ];
    for (const [method, path, body] of writes) {
      const r = await adminCall(token, method, path, body);
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.challenge).toBe('Bearer realm="govauth", error="insufficient_scope", scope="govauth.admin"');
      expect(r.body.error).toBe('insufficient_scope');
    }
    const roles = (await adminCall(token, 'GET', '/roles')).body.roles as { name: string; scopes: string[] }[];
    expect(roles.map((x) => x.name)).not.toContain('auditor-made');
    expect(roles.find((x) => x.name === 'data-scientist')?.scopes).not.toContain('ai.deploy.manage');
    await expectAuthenticated('/token', bot); // not disabled
    await expectAuthenticated('/token', auditorBot, { grant_type: 'client_credentials', resource: ADMIN }); // secret not rotated
  });
});

describe('grant types', () => {
  it('client_credentials by an introspect-only client or an authorization_code app is refused: 400 unauthorized_client', async () => {
    // RFC 6749 §5.2 (oidc-provider says invalid_request; src/oidc/token-error-codes.ts).
    for (const creds of [rs, appCreds]) {
      const r = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: creds });
      expect(r.status, creds.client_id).toBe(400);
      expect(r.body).toEqual({ error: 'unauthorized_client', error_description: 'this client may not use this grant type' });
    }
  });
});

// The access log (src/http/access-log.ts) on a real server whose logger writes to a capture:
// one JSON line per request with method, route template, status, duration, client, request id
// and address; none for health checks; none at all with GOVAUTH_ACCESS_LOG=false. And the
// no-secrets rule over everything a whole sign-in writes at debug level: client secrets, the
// password, the authorization code, the PKCE verifier, tokens and cookies appear nowhere, even
// when a client puts them in a query string.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.ts';
import { basic, tokenRequest, waitFor, type ClientCreds } from '../helpers/oauth.ts';
import { PASSWORD, createUser, createWebApp, discover, createResourceServer } from '../helpers/people.ts';
import { SignInSteps, authorize, exchange, type Answer } from '../helpers/sign-in-steps.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

type Line = Record<string, unknown>;

function captureLog(level: 'debug' | 'info'): { log: ReturnType<typeof createLogger>; raw: () => string; lines: () => Line[] } {
  const chunks: string[] = [];
  const log = createLogger({ level, destination: { write: (s: string) => void chunks.push(s) } });
  const raw = (): string => chunks.join('');
  return { log, raw, lines: () => raw().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line) };
}

const capture = captureLog('debug');
let t: TestServer;
let bot: ClientCreds;
let rs: ClientCreds;

beforeAll(async () => {
  t = await startTestServer({ log: capture.log });
  await t.cliJson('init', '--demo');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  rs = await createResourceServer(t, 'rs');
  await t.server.policy.sync();
});
afterAll(() => t?.stop());

/** The access line of one request (written when its response is over, so wait for it). */
async function accessLine(requestId: string | null): Promise<Line> {
  expect(requestId).toBeTruthy();
  const { value } = await waitFor(() => {
    const mine = capture.lines().filter((l) => l.msg === 'request' && l.requestId === requestId);
    if (mine.length > 1) throw new Error(`${mine.length} access lines for one request`);
    return Promise.resolve(mine[0]);
  }, 2000);
  return value;
}

const introspect = (caller: ClientCreds, token: string, hint?: string): Promise<Response> =>
  fetch(`${t.issuer}/token/introspection`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(caller) },
    body: new URLSearchParams({ token, ...(hint && { token_type_hint: hint }) }),
  });

describe('access log', () => {
  it('a token request and an introspection each write one line: method, route, status, duration, client, request id, address, bytes', async () => {
    const token = await tokenRequest(t.issuer, { grant_type: 'client_credentials', scope: 'ai.training.read' }, { basic: bot });
    expect(token.status).toBe(200);
    const line = await accessLine(token.headers.get('x-request-id'));
    expect(line).toMatchObject({ level: 'info', msg: 'request', method: 'POST', route: '/token', status: 200, clientId: bot.client_id });
    expect(line.durationMs).toEqual(expect.any(Number));
    expect(line.ip).toMatch(/127\.0\.0\.1$/);
    expect(line.bytes).toBeGreaterThan(100);
    expect(line).not.toHaveProperty('aborted');

    const res = await introspect(rs, String(token.body.access_token));
    expect(await res.json()).toMatchObject({ active: true });
    const intro = await accessLine(res.headers.get('x-request-id'));
    expect(intro).toMatchObject({ method: 'POST', route: '/token/introspection', status: 200, clientId: rs.client_id, requestId: res.headers.get('x-request-id') });

    // A refusal is logged too, and a client nobody registered is not named.
    const refused = await tokenRequest(t.issuer, { grant_type: 'client_credentials' }, { basic: { client_id: 'cl_nobody', client_secret: 'x' } });
    expect(refused.status).toBe(401);
    const refusedLine = await accessLine(refused.headers.get('x-request-id'));
    expect(refusedLine).toMatchObject({ route: '/token', status: 401 });
    expect(refusedLine).not.toHaveProperty('clientId');
  });

  it('names route templates, not paths: an admin path carries a person’s email', async () => {
    const res = await fetch(`${t.issuer}/admin/v1/users/${encodeURIComponent('ada@example.com')}`);
    expect(res.status).toBe(401);
    const line = await accessLine(res.headers.get('x-request-id'));
    expect(line.route).toBe('/admin/v1/users/{email}');
    expect(JSON.stringify(line)).not.toContain('ada');
  });

  it('writes no line for health checks', async () => {
    for (const path of ['/healthz', '/readyz']) expect((await fetch(`${t.issuer}${path}`)).status).toBe(200);
    // A request after them: once its line is there, theirs would have been too.
    const after = await fetch(`${t.issuer}/.well-known/openid-configuration`);
    expect((await accessLine(after.headers.get('x-request-id'))).route).toBe('/.well-known/openid-configuration');
    const routes = capture.lines().filter((l) => l.msg === 'request').map((l) => l.route);
    expect(routes).not.toContain('/healthz');
    expect(routes).not.toContain('/readyz');
  });

  it('writes nothing secret anywhere, at debug level, through a whole sign-in, refresh and introspection', async () => {
    const email = 'logan@example.com';
    await createUser(t, email, ['data-scientist']);
    const app = await createWebApp(t);
    await t.server.policy.sync();
    const appCreds = { client_id: app.client_id, client_secret: app.client_secret ?? '' };
    const config = await discover(t, app);
    const steps = new SignInSteps({ forwardedFor: null });
    // A wrong password first (a refusal path), then the right one.
    const wrong = 'wrong horse battery staple';
    const answer: Answer = (page) => (page.kind === 'login' ? { email, password: page.seen === 0 ? wrong : PASSWORD } : { decision: 'allow' });
    const { req, callback } = await authorize(config, 'openid offline_access ai.training.read', answer, { steps, extra: { prompt: 'consent' } });
    const code = callback.searchParams.get('code') ?? '';
    const tokens = await exchange(config, callback, req);
    const refreshed = await tokenRequest(t.issuer, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' }, { post: appCreds });
    expect(refreshed.status).toBe(200);
    expect((await introspect(appCreds, String(refreshed.body.refresh_token), 'refresh_token')).status).toBe(200);
    // Replaying the code and the first refresh token: refusals (and a grant revocation) are logged.
    expect((await tokenRequest(t.issuer, { grant_type: 'authorization_code', code, code_verifier: req.verifier, redirect_uri: 'https://app.example/callback' }, { basic: appCreds })).status).toBe(400);
    expect((await tokenRequest(t.issuer, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' }, { basic: appCreds })).status).toBe(400);
    // Secrets in a query string, where no client should put them.
    const query = new URLSearchParams({ client_id: bot.client_id, client_secret: bot.client_secret, code, refresh_token: String(refreshed.body.refresh_token) });
    const leaky = await fetch(`${t.issuer}/token?${query.toString()}`, { method: 'POST' });
    await accessLine(leaky.headers.get('x-request-id'));

    const cookies = steps.jar
      .header()
      .split('; ')
      .map((c) => c.slice(c.indexOf('=') + 1))
      .filter((v) => v.length >= 16);
    const secrets: Record<string, string> = {
      'bot client secret': bot.client_secret,
      'resource server secret': rs.client_secret,
      'app client secret': appCreds.client_secret,
      password: PASSWORD,
      'wrong password': wrong,
      'authorization code': code,
      'PKCE verifier': req.verifier,
      'access token': tokens.access_token,
      'id token': tokens.id_token ?? '',
      'refresh token': tokens.refresh_token ?? '',
      'rotated refresh token': String(refreshed.body.refresh_token),
      ...Object.fromEntries(cookies.map((c, i) => [`cookie ${i}`, c])),
    };
    expect(Object.values(secrets).every((s) => s.length >= 16)).toBe(true);
    expect(cookies.length).toBeGreaterThan(0);
    // Not vacuous: the capture holds this flow's lines, including its token requests.
    const lines = capture.lines();
    expect(lines.filter((l) => l.msg === 'request' && l.route === '/token').length).toBeGreaterThanOrEqual(5);
    expect(lines.some((l) => l.level === 'debug')).toBe(true);
    const all = capture.raw();
    for (const [name, value] of Object.entries(secrets)) expect(all.includes(value), `${name} is in the log`).toBe(false);
    // Query strings are never logged, whatever they hold.
    expect(all).not.toContain('client_secret=');
    expect(all).not.toMatch(/"route":"[^"]*\?/);
  });

  it('every line is one JSON object with level, time and msg', () => {
    const raw = capture.raw();
    expect(raw.endsWith('\n')).toBe(true);
    for (const text of raw.split('\n').filter(Boolean)) {
      const line = JSON.parse(text) as Line;
      expect(line).toMatchObject({ level: expect.stringMatching(/^(debug|info|warn|error)$/) as unknown, time: expect.any(String) as unknown, msg: expect.any(String) as unknown });
    }
  });
});

describe('access log settings', () => {
  it('GOVAUTH_ACCESS_LOG=false writes no access line', async () => {
    const quiet = captureLog('info');
    const s = await startTestServer({ log: quiet.log, env: { GOVAUTH_ACCESS_LOG: 'false' } });
    expect((await fetch(`${s.issuer}/.well-known/openid-configuration`)).status).toBe(200);
    await s.stop(); // the request's connection is closed: its line would have been written
    expect(quiet.lines().filter((l) => l.msg === 'request')).toEqual([]);
  });

  it('an access line is an info line: GOVAUTH_LOG_LEVEL=warn writes none', async () => {
    const chunks: string[] = [];
    const s = await startTestServer({ log: createLogger({ level: 'warn', destination: { write: (l: string) => void chunks.push(l) } }) });
    expect((await fetch(`${s.issuer}/.well-known/openid-configuration`)).status).toBe(200);
    await s.stop();
    expect(chunks.join('')).not.toContain('"msg":"request"');
  });
});

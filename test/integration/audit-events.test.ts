// The audit records of the sign-in's second factor (mfa.succeeded, mfa.failed), a refused
// consent (consent.denied), RP-initiated sign-out (logout) and RFC 7009 revocation
// (token.revoked): each names the actor, the app, the request and the source address (never
// one a client claims in X-Forwarded-For without GOVAUTH_TRUST_PROXY), and no record holds a
// secret: no token, password, client secret, TOTP code or TOTP secret.
import * as openid from 'openid-client';
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/audit-chain.ts';
import { totpCode } from '../../src/governance/totp.ts';
import { basic, decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { API, PASSWORD, createUser, createWebApp, discover } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { CLAIMED_ADDRESS, SignInSteps, authorize, exchange, type Answer } from '../helpers/sign-in-steps.ts';

type Row = AuditRecord;

const BYE = 'https://app.example/bye';
const LOOPBACK = /^(?:(?:::ffff:)?127\.0\.0\.1|::1)$/;

let t: TestServer;
let app: { client_id: string; client_secret: string | null };
let appCreds: ClientCreds;
let bot: ClientCreds;
let config: oidc.Configuration;
let totpSecret: string;
const users: Record<string, string> = {};
/** Every secret seen in this file, checked against the whole trail at the end. */
const secrets = new Map<string, string>();

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  users.mia = await createUser(t, 'mia@example.com', ['admin']);
  totpSecret = (await t.cliJson<{ secret: string }>('user', 'mfa', 'enroll', 'mia@example.com')).secret;
  users.dan = await createUser(t, 'dan@example.com', ['data-scientist']);
  users.lou = await createUser(t, 'lou@example.com', ['data-scientist']);
  app = await createWebApp(t);
  appCreds = { client_id: app.client_id, client_secret: app.client_secret ?? '' };
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  await t.server.policy.sync();
  config = await discover(t, app);
  secrets.set('password', PASSWORD);
  secrets.set('app client secret', appCreds.client_secret);
  secrets.set('bot client secret', bot.client_secret);
  secrets.set('TOTP secret', totpSecret);
});
afterAll(() => t?.stop());

async function records(action: string, where: Partial<Pick<Row, 'actor' | 'clientId'>> = {}): Promise<Row[]> {
  await t.server.audit.flush();
  return t.server.db.prisma.auditEvent.findMany({ where: { action, ...where }, orderBy: { seq: 'asc' } });
}

const detailOf = (row: Row | undefined): Record<string, unknown> => JSON.parse(row?.detail ?? 'null') as Record<string, unknown>;

function keepTokens(label: string, tokens: { access_token: string; refresh_token?: string; id_token?: string }): void {
  secrets.set(`${label} access token`, tokens.access_token);
  secrets.set(`${label} access token signature`, tokens.access_token.split('.')[2] ?? '');
  if (tokens.refresh_token) secrets.set(`${label} refresh token`, tokens.refresh_token);
  if (tokens.id_token) secrets.set(`${label} ID token`, tokens.id_token);
}

/** The whole serialized record (every column) holds none of these values. */
function expectNoSecrets(row: Row | undefined, values: Record<string, string | undefined>): void {
  const serialized = JSON.stringify(row);
  for (const [name, value] of Object.entries(values)) {
    expect(value, `${name} is known to the test`).toBeTruthy();
    expect(serialized.includes(value ?? ''), `the ${name} reached the ${row?.action} record`).toBe(false);
  }
}

/** Who, from where, in which request: the same for every request-path record. */
function expectProvenance(row: Row | undefined, expected: { actorType: string; actor: string; clientId: string; requestId: string | null; outcome: string }): void {
  expect(row, 'the record exists').toBeDefined();
  expect(expected.requestId, 'the response carried X-Request-Id').toMatch(/^[0-9a-f-]{36}$/);
  expect(row).toMatchObject({ ...expected, subject: expected.actor });
  expect(row?.ip).toMatch(LOOPBACK);
  expect(row?.ip).not.toBe(CLAIMED_ADDRESS);
}

const answers = (overrides: Partial<Record<string, Answer>> = {}): Answer => (page) => {
  const own = overrides[page.kind];
  if (own) return own(page);
  if (page.kind === 'consent') return { decision: 'allow' };
  throw new Error(`no answer for the ${page.kind} page (${page.status})`);
};
const login = (email: string): Answer => () => ({ email, password: PASSWORD });

/** A six-digit code valid in no time step the server would accept now (±2 steps, for margin). */
function wrongCode(secret: string, now: number): string {
  const valid = new Set([-2, -1, 0, 1, 2].map((k) => totpCode(secret, now + k * 30_000)));
  for (let i = 0; ; i++) {
    const code = String(i).padStart(6, '0');
    if (!valid.has(code)) return code;
  }
}

describe('two-step verification', () => {
  let steps: SignInSteps;
  const codes = { wrong: '', right: '' };
  const statuses: number[] = [];

  beforeAll(async () => {
    const flow = await authorize(
      config,
      'openid ai.deploy.manage',
      answers({
        login: login('mia@example.com'),
        mfa(page) {
          statuses.push(page.status);
          // First a wrong code, then the current one.
          if (page.seen === 0) return { code: (codes.wrong = wrongCode(totpSecret, Date.now())) };
          return { code: (codes.right = totpCode(totpSecret, Date.now())) };
        },
      }),
    );
    steps = flow.steps;
    const tokens = await exchange(config, flow.callback, flow.req);
    keepTokens('step-up', tokens);
    expect(decodeJwt(tokens.access_token).payload).toMatchObject({ scope: 'ai.deploy.manage', acr: 'urn:govauth:acr:mfa' });
  });

  it('records mfa.failed for a wrong code: the person, the app, the request, the address, and not the code', async () => {
    const failedPost = steps.posts.filter((p) => p.kind === 'mfa')[0];
    expect(failedPost?.status).toBe(401); // the code page again, with an error
    expect(statuses).toEqual([200, 401]);
    const rows = await records('mfa.failed', { actor: users.mia });
    expect(rows).toHaveLength(1);
    expectProvenance(rows[0], { actorType: 'user', actor: users.mia ?? '', clientId: app.client_id, requestId: failedPost?.requestId ?? null, outcome: 'failure' });
    expectNoSecrets(rows[0], { 'wrong TOTP code': codes.wrong, 'TOTP secret': totpSecret, password: PASSWORD, 'app client secret': appCreds.client_secret });
  });

  it('records mfa.succeeded with amr pwd+otp, after the failure, and not the code', async () => {
    const passed = steps.last('mfa');
    expect(passed.status).toBe(303); // on to the consent page
    const [failed] = await records('mfa.failed', { actor: users.mia });
    const rows = await records('mfa.succeeded', { actor: users.mia });
    expect(rows).toHaveLength(1);
    expectProvenance(rows[0], { actorType: 'user', actor: users.mia ?? '', clientId: app.client_id, requestId: passed.requestId, outcome: 'success' });
    expect(detailOf(rows[0])).toEqual({ amr: ['pwd', 'otp'] });
    expect(rows[0]?.seq).toBeGreaterThan(failed?.seq ?? Infinity);
    expect(codes.right).not.toBe(codes.wrong);
    expectNoSecrets(rows[0], { 'TOTP code': codes.right, 'TOTP secret': totpSecret, password: PASSWORD, 'app client secret': appCreds.client_secret });
  });
});

describe('consent', () => {
  it('records consent.denied when the person presses Deny, with the scopes the app asked for', async () => {
    const flow = await authorize(config, 'openid ai.training.read', answers({ login: login('dan@example.com'), consent: () => ({ decision: 'deny' }) }));
    expect(flow.callback.searchParams.get('error')).toBe('access_denied');
    expect(flow.callback.searchParams.get('code')).toBeNull();
    const denied = flow.steps.last('consent');
    const rows = await records('consent.denied', { actor: users.dan });
    expect(rows).toHaveLength(1);
    expectProvenance(rows[0], { actorType: 'user', actor: users.dan ?? '', clientId: app.client_id, requestId: denied.requestId, outcome: 'failure' });
    expect(detailOf(rows[0])).toEqual({ requested: ['openid', 'ai.training.read'] });
    expect(await records('consent.granted', { actor: users.dan })).toHaveLength(0);
    expectNoSecrets(rows[0], { password: PASSWORD, 'app client secret': appCreds.client_secret });
  });
});

describe('sign-out', () => {
  it('records logout at the end_session_endpoint: the person, the app, the request, the address', async () => {
    const steps = new SignInSteps();
    const first = await authorize(config, 'openid ai.training.read', answers({ login: login('lou@example.com') }), { steps });
    const tokens = await exchange(config, first.callback, first.req);
    keepTokens('sign-out', tokens);
    // While the session lasts, the app gets a code without any page.
    const silent = await authorize(config, 'openid ai.training.read', answers({ login: () => { throw new Error('asked for the password while signed in'); } }), { steps });
    expect(silent.callback.searchParams.get('code')).toBeTruthy();
    const pagesBefore = steps.posts.length;

    const sessionCookie = /(?:^|; )_session=([^;]+)/.exec(steps.jar.header())?.[1];
    expect(sessionCookie, 'the browser holds a session cookie').toBeTruthy();
    secrets.set('session cookie', sessionCookie ?? '');
    const logout = openid.buildEndSessionUrl(config, { id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: BYE, state: 'see-you' });
    const bye = await steps.walk(logout.href, BYE, (page) => {
      if (page.kind !== 'logout') throw new Error(`expected the sign-out page, got ${page.kind}`);
      return { logout: 'yes' };
    });
    expect(bye.searchParams.get('state')).toBe('see-you');
    const signedOut = steps.last('logout');
    expect(steps.posts.length).toBe(pagesBefore + 1);

    const rows = await records('logout', { actor: users.lou });
    expect(rows).toHaveLength(1);
    expectProvenance(rows[0], { actorType: 'user', actor: users.lou ?? '', clientId: app.client_id, requestId: signedOut.requestId, outcome: 'success' });
    expect(detailOf(rows[0])).toEqual({ everywhere: true });
    expectNoSecrets(rows[0], { 'ID token': tokens.id_token, 'access token': tokens.access_token, 'session cookie': sessionCookie, password: PASSWORD, 'app client secret': appCreds.client_secret });

    // The record is of a real sign-out: the same browser is asked for the password again.
    const kinds: string[] = [];
    await authorize(config, 'openid ai.training.read', (page) => {
      kinds.push(page.kind);
      return answers({ login: login('lou@example.com') })(page);
    }, { steps });
    expect(kinds[0]).toBe('login');
  });
});

describe('RFC 7009 revocation', () => {
  const revoke = (creds: ClientCreds, body: Record<string, string>) =>
    fetch(`${t.url}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(creds), 'x-forwarded-for': CLAIMED_ADDRESS },
      body: new URLSearchParams(body),
    });
  const botToken = async (): Promise<string> => {
    const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: bot });
    expect(res.status).toBe(200);
    return String(res.body.access_token);
  };

  it('records token.revoked for an access token: the client, the request, the address, the jti, never the token', async () => {
    const token = await botToken();
    keepTokens('revoked', { access_token: token });
    const res = await revoke(bot, { token, token_type_hint: 'access_token' });
    expect(res.status).toBe(200);
    const rows = await records('token.revoked', { actor: bot.client_id });
    expect(rows).toHaveLength(1);
    expectProvenance(rows[0], { actorType: 'client', actor: bot.client_id, clientId: bot.client_id, requestId: res.headers.get('x-request-id'), outcome: 'success' });
    expect(detailOf(rows[0])).toEqual({ effect: `access_token ${String(decodeJwt(token).payload.jti)}` });
    expectNoSecrets(rows[0], { token, signature: token.split('.')[2], 'bot client secret': bot.client_secret });
  });

  it('records token.revoked for a refresh token (its grant) and for a token that is not the caller\'s (no effect)', async () => {
    const flow = await authorize(config, 'openid offline_access ai.training.read', answers({ login: login('dan@example.com') }), { extra: { prompt: 'consent' } });
    const tokens = await exchange(config, flow.callback, flow.req);
    keepTokens('app', tokens);
    const refreshToken = tokens.refresh_token ?? '';
    const grantId = String(decodeJwt(tokens.access_token).payload.grant_id);

    // Another client presenting the app's refresh token: 200, nothing revoked, recorded as such.
    const foreign = await revoke(bot, { token: refreshToken });
    expect(foreign.status).toBe(200);
    const own = await revoke(appCreds, { token: refreshToken, token_type_hint: 'refresh_token' });
    expect(own.status).toBe(200);
    await expect(openid.refreshTokenGrant(config, refreshToken)).rejects.toMatchObject({ error: 'invalid_grant' });

    const byBot = (await records('token.revoked', { actor: bot.client_id })).at(-1);
    expectProvenance(byBot, { actorType: 'client', actor: bot.client_id, clientId: bot.client_id, requestId: foreign.headers.get('x-request-id'), outcome: 'success' });
    expect(detailOf(byBot)).toEqual({ effect: 'none' });
    const byApp = await records('token.revoked', { actor: app.client_id });
    expect(byApp).toHaveLength(1);
    expectProvenance(byApp[0], { actorType: 'client', actor: app.client_id, clientId: app.client_id, requestId: own.headers.get('x-request-id'), outcome: 'success' });
    expect(detailOf(byApp[0])).toEqual({ effect: `grant ${grantId}` });
    for (const row of [byBot, byApp[0]]) expectNoSecrets(row, { 'refresh token': refreshToken, 'access token': tokens.access_token, 'app client secret': appCreds.client_secret, 'bot client secret': bot.client_secret });
  });
});

describe('the whole trail', () => {
  it('holds none of the secrets used in this file, in any column of any record', async () => {
    await t.server.audit.flush();
    const rows = await t.server.db.prisma.auditEvent.findMany({ orderBy: { seq: 'asc' } });
    const actions = new Set(rows.map((r) => r.action));
    for (const action of ['mfa.succeeded', 'mfa.failed', 'consent.denied', 'logout', 'token.revoked']) expect(actions.has(action), action).toBe(true);
    const everything = rows.map((r) => JSON.stringify(r)).join('\n');
    expect(secrets.size).toBeGreaterThanOrEqual(10);
    // Six-digit codes are left out here: over the whole trail one could occur in a hash by chance
    // (each record above was checked for its own codes).
    for (const [name, value] of secrets) expect(everything.includes(value), `the ${name} reached the audit trail`).toBe(false);
  });
});

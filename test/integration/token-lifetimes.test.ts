// GOVAUTH_REFRESH_TOKEN_TTL and GOVAUTH_SESSION_MAX_AGE (src/oidc/token-lifetimes.ts): each
// refresh token lives the refresh TTL (an idle timeout: every use rotates it), a sign-in ends
// at the session max age however often it is refreshed (refresh chain, grant and browser
// session), the defaults are the documented 86400 s and 604800 s, and bad values stop the
// server at start.
//
// The smallest accepted values are 60 s and 300 s, too long to wait for, so the process clock
// is moved instead: only Date is faked (timers stay real), and it keeps advancing in real time.
// oidc-provider's expiry checks (epochTime), the storage adapter, govauth's own clock and
// openid-client all read Date, so server and client see the same jumps.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as openid from 'openid-client';
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';
import { basic, type ClientCreds } from '../helpers/oauth.ts';
import { PASSWORD, createUser, createWebApp, discover } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { SignInSteps, authorize, exchange, type Answer } from '../helpers/sign-in-steps.ts';

const SCOPE = 'openid offline_access ai.training.read';

interface Fixture {
  t: TestServer;
  app: ClientCreds;
  config: oidc.Configuration;
}

async function setUp(env: Record<string, string>, emails: string[]): Promise<Fixture> {
  const t = await startTestServer({ env });
  await t.cliJson('init', '--demo');
  for (const email of emails) await createUser(t, email, ['data-scientist']);
  const created = await createWebApp(t);
  await t.server.policy.sync();
  return { t, app: { client_id: created.client_id, client_secret: created.client_secret ?? '' }, config: await discover(t, created) };
}

const answer = (email: string): Answer => (page) => {
  if (page.kind === 'login') return { email, password: PASSWORD };
  if (page.kind === 'consent') return { decision: 'allow' };
  throw new Error(`unexpected ${page.kind} page`);
};

async function signIn(f: Fixture, email: string, steps = new SignInSteps()): Promise<{ refreshToken: string; steps: SignInSteps }> {
  const flow = await authorize(f.config, SCOPE, answer(email), { steps, extra: { prompt: 'consent' } });
  const tokens = await exchange(f.config, flow.callback, flow.req);
  expect(tokens.refresh_token, 'offline_access with prompt=consent yields a refresh token').toBeTruthy();
  return { refreshToken: tokens.refresh_token ?? '', steps };
}

/** The app introspects its own refresh token (README: "Apps may introspect their own refresh tokens"). */
async function introspect(f: Fixture, token: string): Promise<{ active: boolean; iat?: number; exp?: number }> {
  const res = await fetch(`${f.t.url}/token/introspection`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(f.app) },
    body: new URLSearchParams({ token, token_type_hint: 'refresh_token' }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { active: boolean; iat?: number; exp?: number };
}

async function lifetime(f: Fixture, token: string): Promise<{ iat: number; exp: number }> {
  const r = await introspect(f, token);
  expect(r.active, 'the refresh token is active').toBe(true);
  expect(typeof r.iat === 'number' && typeof r.exp === 'number').toBe(true);
  return { iat: r.iat ?? NaN, exp: r.exp ?? NaN };
}

const refresh = (f: Fixture, token: string) =>
  openid.refreshTokenGrant(f.config, token).then(
    (r) => ({ ok: true as const, refreshToken: r.refresh_token ?? '' }),
    (err: Error & { error?: string }) => ({ ok: false as const, error: err.error ?? err.message }),
  );

/** Moves the process clock forward (Date only). */
const jump = (seconds: number): void => {
  vi.setSystemTime(Date.now() + seconds * 1000);
};

/**
 * Refreshes every `stepSec` until a refresh fails; returns each new token's lifetime, when the
 * chain failed (seconds after its first token) and how.
 */
async function refreshUntilRefused(f: Fixture, first: string, stepSec: number, maxSteps: number) {
  const start = await lifetime(f, first);
  const issued: { iat: number; exp: number }[] = [];
  let token = first;
  for (let i = 0; i < maxSteps; i++) {
    jump(stepSec);
    const r = await refresh(f, token);
    if (!r.ok) return { start, issued, error: r.error, failedAfter: Date.now() / 1000 - start.iat };
    token = r.refreshToken;
    issued.push(await lifetime(f, token));
  }
  return { start, issued, error: undefined, failedAfter: undefined };
}

beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
});
afterAll(() => {
  vi.useRealTimers();
});

describe('with GOVAUTH_REFRESH_TOKEN_TTL=60 and GOVAUTH_SESSION_MAX_AGE=300', () => {
  const RT_TTL = 60;
  const MAX_AGE = 300;
  let f: Fixture;
  beforeAll(async () => {
    f = await setUp({ GOVAUTH_REFRESH_TOKEN_TTL: String(RT_TTL), GOVAUTH_SESSION_MAX_AGE: String(MAX_AGE) }, ['ada@example.com', 'bea@example.com', 'cy@example.com', 'dot@example.com']);
  });
  afterAll(() => f?.t.stop());

  it('issues refresh tokens that live the refresh TTL, renewed at each rotation; an unused one expires (invalid_grant)', async () => {
    const { refreshToken } = await signIn(f, 'ada@example.com');
    const first = await lifetime(f, refreshToken);
    expect(first.exp - first.iat).toBe(RT_TTL);

    jump(RT_TTL / 2);
    const rotated = await refresh(f, refreshToken);
    expect(rotated).toMatchObject({ ok: true });
    const second = rotated.ok ? rotated.refreshToken : '';
    const renewed = await lifetime(f, second);
    expect(renewed.iat).toBeGreaterThanOrEqual(first.iat + RT_TTL / 2);
    expect(renewed.exp - renewed.iat).toBe(RT_TTL);

    jump(RT_TTL + 1);
    expect((await introspect(f, second)).active).toBe(false);
    expect(await refresh(f, second)).toEqual({ ok: false, error: 'invalid_grant' });
  });

  it('never extends the refresh chain past the session max age, however often it rotates', async () => {
    const { refreshToken } = await signIn(f, 'bea@example.com');
    // A refresh every 50 s keeps each token inside its 60 s; only the max age can stop the chain.
    const chain = await refreshUntilRefused(f, refreshToken, 50, 12);
    expect(chain.error).toBe('invalid_grant');
    expect(chain.failedAfter).toBeGreaterThan(MAX_AGE);
    expect(chain.failedAfter).toBeLessThan(MAX_AGE + 50);
    expect(chain.issued).toHaveLength(5); // at 50, 100, 150, 200 and 250 s
    for (const rt of chain.issued) expect(rt.exp, 'no refresh token outlives the sign-in').toBeLessThanOrEqual(chain.start.iat + MAX_AGE);
    const last = chain.issued.at(-1);
    expect(last && last.exp - last.iat, 'the last one is cut short at the max age').toBeLessThan(RT_TTL);
  });

  it('counts the max age from the sign-in, not from a later authorization that reuses its session', async () => {
    const steps = new SignInSteps();
    const pages: string[] = [];
    const record: Answer = (page) => {
      pages.push(page.kind);
      return answer('dot@example.com')(page);
    };
    await authorize(f.config, 'openid ai.training.read', record, { steps });
    expect(pages).toEqual(['login', 'consent']);
    // Late in the session the app asks again for offline access: consent only, no password.
    jump(MAX_AGE - 30);
    const late = await authorize(f.config, SCOPE, record, { steps, extra: { prompt: 'consent' } });
    expect(pages).toEqual(['login', 'consent', 'consent']);
    const tokens = await exchange(f.config, late.callback, late.req);
    const authTime = Number(tokens.claims()?.auth_time);
    const lateRt = await lifetime(f, tokens.refresh_token ?? '');
    expect(lateRt.iat - authTime).toBeGreaterThanOrEqual(MAX_AGE - 30);
    expect(lateRt.exp, 'the refresh token ends with the sign-in').toBeLessThanOrEqual(authTime + MAX_AGE);
    const chain = await refreshUntilRefused(f, tokens.refresh_token ?? '', 25, 12);
    expect(chain.error).toBe('invalid_grant');
    expect(chain.start.iat + (chain.failedAfter ?? Infinity) - authTime, 'refused once the sign-in is over').toBeLessThan(MAX_AGE + 50);
    for (const rt of chain.issued) expect(rt.exp).toBeLessThanOrEqual(authTime + MAX_AGE);
  });

  it('ends the browser session at the max age too: before it no page is shown, after it the password is asked again', async () => {
    const { steps } = await signIn(f, 'cy@example.com');
    const pages: string[] = [];
    const record: Answer = (page) => {
      pages.push(page.kind);
      return answer('cy@example.com')(page);
    };
    jump(MAX_AGE / 2);
    await authorize(f.config, 'openid ai.training.read', record, { steps });
    expect(pages, 'the session is still there').toEqual([]);
    jump(MAX_AGE / 2 + 1);
    await authorize(f.config, 'openid ai.training.read', record, { steps });
    expect(pages[0], 'the session has ended').toBe('login');
  });
});

describe('with neither variable set', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await setUp({}, ['dee@example.com']);
  });
  afterAll(() => f?.t.stop());

  it('uses the documented defaults: refresh tokens live 86400 s, a sign-in lasts 604800 s', async () => {
    const { refreshToken } = await signIn(f, 'dee@example.com');
    const first = await lifetime(f, refreshToken);
    expect(first.exp - first.iat).toBe(86_400);
    // A refresh every 23 h keeps each token alive; the chain must stop after 7 days.
    const chain = await refreshUntilRefused(f, refreshToken, 23 * 3600, 12);
    expect(chain.error).toBe('invalid_grant');
    expect(chain.failedAfter).toBeGreaterThan(604_800);
    expect(chain.issued).toHaveLength(7); // 23 h × 7 = 161 h < 168 h < 184 h
    expect(chain.issued[0] && chain.issued[0].exp - chain.issued[0].iat).toBe(86_400);
    for (const rt of chain.issued) expect(rt.exp).toBeLessThanOrEqual(chain.start.iat + 604_800);
  });
});

describe('invalid values are refused at start', () => {
  const base = { NODE_ENV: 'test' };
  const problemsOf = (env: Record<string, string>): string => {
    try {
      loadConfig({ ...base, ...env });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems.join('\n');
    }
    throw new Error(`accepted ${JSON.stringify(env)}`);
  };

  it('reads both variables, and falls back to 86400 and 604800', () => {
    expect(loadConfig({ ...base, GOVAUTH_REFRESH_TOKEN_TTL: '60', GOVAUTH_SESSION_MAX_AGE: '300' }).signIn).toMatchObject({ refreshTokenTtl: 60, sessionMaxAge: 300 });
    expect(loadConfig(base).signIn).toMatchObject({ refreshTokenTtl: 86_400, sessionMaxAge: 604_800 });
  });

  it('refuses zero, negative and non-integer values, naming the variable and the accepted range', () => {
    for (const bad of ['0', '-5', '1.5', '10s', '59']) {
      expect(problemsOf({ GOVAUTH_REFRESH_TOKEN_TTL: bad })).toContain(`GOVAUTH_REFRESH_TOKEN_TTL=${JSON.stringify(bad)}: must be a whole number between 60 and 7776000`);
    }
    for (const bad of ['0', '-1', '299', 'week']) {
      expect(problemsOf({ GOVAUTH_SESSION_MAX_AGE: bad })).toContain(`GOVAUTH_SESSION_MAX_AGE=${JSON.stringify(bad)}: must be a whole number between 300 and 31536000`);
    }
  });

  it('refuses a refresh token TTL longer than the session max age', () => {
    expect(problemsOf({ GOVAUTH_REFRESH_TOKEN_TTL: '7200', GOVAUTH_SESSION_MAX_AGE: '3600' })).toMatch(
      /GOVAUTH_REFRESH_TOKEN_TTL=7200 exceeds GOVAUTH_SESSION_MAX_AGE=3600: a refresh token cannot outlive the sign-in/,
    );
    // The default refresh TTL (one day) against a shorter max age is caught as well.
    expect(problemsOf({ GOVAUTH_SESSION_MAX_AGE: '3600' })).toMatch(/GOVAUTH_REFRESH_TOKEN_TTL=86400 exceeds GOVAUTH_SESSION_MAX_AGE=3600/);
    expect(loadConfig({ ...base, GOVAUTH_REFRESH_TOKEN_TTL: '3600', GOVAUTH_SESSION_MAX_AGE: '3600' }).signIn.refreshTokenTtl).toBe(3600);
  });

  it('stops the server process (exit 78) with both problems listed', async () => {
    const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
    const dataDir = mkdtempSync(join(tmpdir(), 'govauth-ttl-'));
    const child = spawn(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? '', GOVAUTH_DATA_DIR: dataDir, GOVAUTH_REFRESH_TOKEN_TTL: '0', GOVAUTH_SESSION_MAX_AGE: '-5' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
    expect(code).toBe(78);
    expect(stderr).toMatch(/GOVAUTH_REFRESH_TOKEN_TTL="0": must be a whole number between 60/);
    expect(stderr).toMatch(/GOVAUTH_SESSION_MAX_AGE="-5": must be a whole number between 300/);
  });
});

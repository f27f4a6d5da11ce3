// Sign-out ends access (README "Sign in a person"): a confirmed RP-initiated logout at
// /session/end revokes every grant issued in that browser session, offline_access ones
// included, with their refresh tokens and every access token issued under them; grants of the
// person's other browser sessions are untouched. oidc-provider alone keeps offline_access grants
// ("persistsLogout"), and lists only an app's latest grant in the session.
import * as openid from 'openid-client';
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, type ClientCreds } from '../helpers/oauth.ts';
import { PASSWORD, createUser, createWebApp, discover, createResourceServer } from '../helpers/people.ts';
import { SignInSteps, authorize, exchange, type Answer } from '../helpers/sign-in-steps.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { isActive, oauthError } from './helpers/flows.ts';

const BYE = 'https://app.example/bye';
const OFFLINE = 'openid offline_access ai.training.read';

let t: TestServer;
let rs: ClientCreds;
let config: oidc.Configuration;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  rs = await createResourceServer(t, 'rs');
  await createUser(t, 'olga@example.com', ['data-scientist']);
  config = await discover(t, await createWebApp(t));
  await t.server.policy.sync();
});
afterAll(() => t?.stop());

const answer =
  (email: string): Answer =>
  (page) => {
    if (page.seen > 0) throw new Error(`${page.kind} page shown again (${page.status})`);
    if (page.kind === 'login') return { email, password: PASSWORD };
    if (page.kind === 'consent') return { decision: 'allow' };
    throw new Error(`unexpected ${page.kind} page`);
  };

/** One authorization in the browser `steps` (prompt=consent: a fresh grant each time). */
async function signIn(steps: SignInSteps, scope = OFFLINE) {
  const { req, callback } = await authorize(config, scope, answer('olga@example.com'), { steps, extra: { prompt: 'consent' } });
  return exchange(config, callback, req);
}

const grantOf = (accessToken: string): string => String(decodeJwt(accessToken).payload.grant_id);

describe('RP-initiated sign-out', () => {
  it('revokes every grant of the browser session, offline_access ones included, and only those; each revocation is audited', async () => {
    const browser = new SignInSteps();
    const offline = await signIn(browser); // refresh token: persistsLogout in oidc-provider
    const again = await signIn(browser); // the app consents again: a second grant, same session
    const online = await signIn(browser, 'openid ai.training.read'); // no refresh token
    const elsewhere = await signIn(new SignInSteps()); // the same person in another browser
    expect(offline.refresh_token && again.refresh_token && elsewhere.refresh_token).toBeTruthy();
    const sessionGrants = new Set([offline, again, online].map((x) => grantOf(x.access_token)));
    expect(sessionGrants.size).toBe(3);
    // Before sign-out everything works, so what follows is the sign-out's doing.
    const refreshed = await openid.refreshTokenGrant(config, offline.refresh_token ?? '');
    for (const x of [offline, again, online, elsewhere, refreshed]) expect(await isActive(t.issuer, rs, x.access_token)).toBe(true);

    const logout = openid.buildEndSessionUrl(config, { id_token_hint: again.id_token ?? '', post_logout_redirect_uri: BYE });
    await browser.walk(logout.href, BYE, (page) => {
      if (page.kind !== 'logout') throw new Error(`expected the sign-out page, got ${page.kind}`);
      return { logout: 'yes' };
    });

    for (const [name, rt] of [['first offline grant', refreshed.refresh_token], ['second offline grant', again.refresh_token]] as const) {
      expect(await oauthError(openid.refreshTokenGrant(config, rt ?? '')), `refresh token of the ${name}`).toBe('invalid_grant');
    }
    for (const [name, x] of Object.entries({ offline, again, online, refreshed })) {
      expect(await isActive(t.issuer, rs, x.access_token), `access token "${name}" after sign-out`).toBe(false);
    }
    // The other browser session is not signed out.
    expect(await isActive(t.issuer, rs, elsewhere.access_token)).toBe(true);
    const stillThere = await openid.refreshTokenGrant(config, elsewhere.refresh_token ?? '');
    expect(await isActive(t.issuer, rs, stillThere.access_token)).toBe(true);

    await t.server.audit.flush();
    const rows = await t.server.db.prisma.auditEvent.findMany({ where: { action: 'revocation.grant', subject: { in: [...sessionGrants] } } });
    expect(new Set(rows.map((r) => r.subject))).toEqual(sessionGrants);
    for (const r of rows) expect(JSON.parse(r.detail ?? '{}')).toMatchObject({ kind: 'grant', reason: 'signed out' });
  });

  it('"Stay signed in" still ends the grants of the app that asked for the sign-out', async () => {
    const browser = new SignInSteps();
    const tokens = await signIn(browser);
    const logout = openid.buildEndSessionUrl(config, { id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: BYE });
    await browser.walk(logout.href, BYE, () => ({})); // the secondary button: no logout=yes
    expect(await oauthError(openid.refreshTokenGrant(config, tokens.refresh_token ?? ''))).toBe('invalid_grant');
    expect(await isActive(t.issuer, rs, tokens.access_token)).toBe(false);
  });
});

// Who can obtain tokens for the admin API (urn:govauth:admin). A person's roles say what they may
// do, not through which app: a person holding govauth-auditor or govauth-admin who signs in to an
// ordinary web app, or to a public SPA anyone can impersonate, must not hand that app an admin
// token. Only clients an administrator allowed the admin API get one (RFC 8707 §2
// invalid_target otherwise), and the admin API re-checks the allowance on every call, so
// withdrawing it ends tokens already issued.
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { REDIRECT, authorizationRequest, createUser, createWebApp, discover } from '../helpers/people.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { NAVIGATE } from './helpers/flows.ts';

type App = { client_id: string; client_secret: string | null };
type ClientBody = { client?: { admin_access: boolean }; error?: string; error_description?: string };
const AUDITOR = 'auditor@example.com';
const SCOPE = 'openid govauth.audit.read';

let t: TestServer;
let adminBot: ClientCreds;
let web: App; // an ordinary confidential web app
let spa: App; // a public single-page app
let console_: App; // a confidential admin console, allowed the admin API below

beforeAll(async () => {
  t = await startTestServer();
  ({ adminBot } = await createAdminBots(t));
  await createUser(t, AUDITOR, ['govauth-auditor']);
  web = await createWebApp(t);
  spa = await t.cliJson<App>('client', 'create', '--name', 'Notebook SPA', '--grant', 'authorization_code', '--redirect-uri', REDIRECT, '--public');
  console_ = await t.cliJson<App>('client', 'create', '--name', 'Admin console', '--grant', 'authorization_code', '--redirect-uri', REDIRECT, '--admin-access');
  await t.server.policy.sync();
});
afterAll(() => t?.stop());

const admin = async (method: string, path: string, body?: unknown) => callAdmin<ClientBody>(t.url, await tokenFor(t.url, adminBot), method, path, body);

/**
 * Where /auth sends the browser when `app` asks for the admin API. Without `resource`, the
 * requested admin scope alone names the admin audience (defaultResource).
 */
async function authorizeAdmin(config: oidc.Configuration, withResource: boolean): Promise<URL> {
  const req = await authorizationRequest(config, SCOPE, { resource: ADMIN });
  if (!withResource) req.url.searchParams.delete('resource');
  const res = await fetch(req.url, { redirect: 'manual', headers: NAVIGATE });
  return new URL(res.headers.get('location') ?? `${t.issuer}/(no redirect: ${res.status})`, t.issuer);
}

describe('an app not allowed the admin API', () => {
  for (const [label, app] of [['a confidential web app', () => web], ['a public SPA (code + PKCE)', () => spa]] as const) {
    it(`${label}: /auth for resource=urn:govauth:admin is refused with invalid_target before anyone signs in`, async () => {
      const config = await discover(t, app());
      for (const withResource of [true, false]) {
        const location = await authorizeAdmin(config, withResource);
        expect(location.href.startsWith(REDIRECT), `${label} (resource ${withResource ? 'given' : 'left out'}): ${location.href}`).toBe(true);
        expect(location.searchParams.get('error')).toBe('invalid_target');
        expect(location.searchParams.get('error_description')).toContain(ADMIN);
        expect(location.searchParams.get('code')).toBeNull();
      }
    });
  }

  it('a person holding govauth-auditor gets no admin token through it', async () => {
    // The same person through the allowed console does get one (the next describe): the role is
    // not what is missing here, the app's allowance is.
    await expect(headlessSignIn(await discover(t, web), AUDITOR, SCOPE, { extra: { resource: ADMIN } })).rejects.toMatchObject({ error: 'invalid_target' });
  });

  it('a bot holding govauth-admin without admin access is refused at /token (invalid_target)', async () => {
    const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'role-only-bot', '--grant', 'client_credentials', '--roles', 'govauth-admin');
    await t.server.policy.sync();
    const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: ADMIN }, { basic: bot });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_target');
    expect(res.body.access_token).toBeUndefined();
  });
});

describe('setting admin access', () => {
  it('is refused on a public client, by the CLI and the admin API, and nothing changes', async () => {
    const created = await t.cli('client', 'create', '--name', 'spa2', '--grant', 'authorization_code', '--redirect-uri', REDIRECT, '--public', '--admin-access');
    expect(created.code).not.toBe(0);
    expect(created.stderr).toMatch(/public client/);
    const updated = await t.cli('client', 'update', spa.client_id, '--admin-access');
    expect(updated.code).not.toBe(0);
    expect(updated.stderr).toMatch(/public client/);
    const patched = await admin('PATCH', `/clients/${spa.client_id}`, { admin_access: true });
    expect(patched.status).toBe(400);
    expect(patched.body.error).toBe('invalid_request');
    const posted = await admin('POST', '/clients', { name: 'spa3', grants: ['authorization_code'], redirect_uris: [REDIRECT], public: true, admin_access: true });
    expect(posted.status).toBe(400);
    expect((await admin('GET', `/clients/${spa.client_id}`)).body.client?.admin_access).toBe(false);
  });
});

describe('an app allowed the admin API', () => {
  it('signs the person in and its token works at the admin API; withdrawing the allowance ends that token, audited', async () => {
    const tokens = await headlessSignIn(await discover(t, console_), AUDITOR, SCOPE, { extra: { resource: ADMIN } });
    const token = tokens.access_token;
    expect(decodeJwt(token).payload).toMatchObject({ aud: ADMIN, client_id: console_.client_id, scope: 'govauth.audit.read' });
    expect((await callAdmin(t.url, token, 'GET', '/clients')).status).toBe(200);

    const shown = await t.cli('client', 'show', console_.client_id);
    expect(shown.stdout).toMatch(/admin API:\s+allowed/);
    const withdrawn = await t.cliJson<{ client: { admin_access: boolean } }>('client', 'update', console_.client_id, '--no-admin-access');
    expect(withdrawn.client.admin_access).toBe(false);
    await t.server.policy.sync();

    const after = await callAdmin<{ error: string; error_description: string }>(t.url, token, 'GET', '/clients');
    expect(after.status).toBe(401);
    expect(after.body.error).toBe('invalid_token');
    expect(after.body.error_description).toMatch(/not allowed the admin API/);
    expect(after.headers.get('www-authenticate')).toContain('error="invalid_token"');

    const audit = await admin('GET', `/audit?action=admin.client.admin_access&limit=10`);
    const records = (audit.body as unknown as { events: { subject: string; detail: unknown }[] }).events.filter((e) => e.subject === console_.client_id);
    expect(records.map((r) => r.detail)).toContainEqual(expect.objectContaining({ before: { admin_access: true }, after: { admin_access: false } }));
  });

  it('a bot: its token stops working at the admin API once the allowance is removed through the admin API', async () => {
    const bot = (await admin('POST', '/clients', { name: 'ops-bot-2', grants: ['client_credentials'], roles: ['govauth-auditor'], admin_access: true })).body as unknown as ClientCreds;
    await t.server.policy.sync();
    const token = await tokenFor(t.url, bot);
    expect((await callAdmin(t.url, token, 'GET', '/scopes')).status).toBe(200);
    const patched = await admin('PATCH', `/clients/${bot.client_id}`, { admin_access: false });
    expect(patched.body.client?.admin_access).toBe(false);
    await t.server.policy.sync();
    expect((await callAdmin(t.url, token, 'GET', '/scopes')).status).toBe(401);
    // And no new one is issued.
    const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: ADMIN }, { basic: bot });
    expect(res.body.error).toBe('invalid_target');
  });

  it('the access review lists who can reach the admin API, apps included', async () => {
    const allowed = (await admin('POST', '/clients', { name: 'Second console', grants: ['authorization_code'], redirect_uris: [REDIRECT], admin_access: true })).body as unknown as App;
    const review = (await admin('GET', '/review')).body as unknown as { principals: { id: string; admin_access: boolean | null }[] };
    expect(review.principals.find((p) => p.id === adminBot.client_id)?.admin_access).toBe(true);
    expect(review.principals.find((p) => p.id === allowed.client_id)?.admin_access).toBe(true);
    // An app without the allowance (and no roles of its own) has nothing to review.
    expect(review.principals.some((p) => p.id === web.client_id)).toBe(false);
    const text = await t.cli('review');
    expect(text.stdout).toContain(`(${allowed.client_id}) · admin API`);
  });
});

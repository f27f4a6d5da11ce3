// A person asks for one scope on one resource on their account page, an approver decides on
// theirs (seeing the scope and the resource), and the person's own token, through an app's
// authorization code flow and consent, then carries the scope, until the grant is ended. The
// webhook outbox describes the target. Hostile form input is a page with the reason.
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVER_ROLE, startAccessRequestServer } from '../helpers/access-request-fixture.ts';
import { signInToAccount, type AccountBrowser } from '../helpers/account-pages.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { basic, decodeJwt, type ClientCreds } from '../helpers/oauth.ts';
import { API, createResourceServer, createWebApp, discover } from '../helpers/people.ts';
import type { TestServer } from '../helpers/test-server.ts';

const SCOPE = 'ai.training.analyze'; // medium sensitivity: no second factor needed at consent
let t: TestServer;
let rs: ClientCreds;
let app: oidc.Configuration;
let alice: AccountBrowser;
let bob: AccountBrowser;

const introspect = async (jwt: string): Promise<{ active: boolean; scope?: string }> =>
  (await (await fetch(`${t.url}/token/introspection`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs) }, body: new URLSearchParams({ token: jwt }) })).json()) as { active: boolean; scope?: string };
const requests = async (email: string) => (await t.cliJson<{ requests: { id: string; state: string; target: string }[] }>('requests', 'list', '--user', email)).requests;
const signIn = () => headlessSignIn(app, 'alice@example.com', `openid ${SCOPE} ai.prediction.run`, { extra: { prompt: 'consent', resource: API } });

beforeAll(async () => {
  t = await startAccessRequestServer({ 'alice@example.com': ['end-user'], 'bob@example.com': [APPROVER_ROLE] });
  await t.cliJson('requests', 'policy', 'set', '--scope', SCOPE, '--resource', API, '--approver-role', APPROVER_ROLE, '--approvals', '1', '--max', '8h');
  rs = await createResourceServer(t);
  app = await discover(t, await createWebApp(t));
  [alice, bob] = await Promise.all([signInToAccount(t, 'alice@example.com'), signInToAccount(t, 'bob@example.com')]);
});
afterAll(() => t?.stop());

describe('asking for one scope on one resource on the account page', () => {
  it('offers the scope policies, refuses bad input with a page, files the request', async () => {
    const html = await (await alice.get('/account/requests')).text();
    expect(html).toContain(`<option value="${API} ${SCOPE}">${SCOPE} on ${API} (at most 8 hours, 1 approver)</option>`);
    const csrf = await alice.csrf('/account/requests');
    for (const [fields, status, text] of [
      [{ csrf, scope_target: `${API} ${SCOPE}`, duration: '9h', justification: 'x' }, 400, `scope ${SCOPE} on ${API} may be requested for at most 8h`],
      [{ csrf, scope_target: `${API} ai.deploy.manage`, duration: '1h', justification: 'x' }, 400, 'cannot be requested: no access policy'],
      [{ csrf, scope_target: `${API} no.such`, duration: '1h', justification: 'x' }, 400, `resource ${API} has no scope no.such`],
      [{ csrf, scope_target: `https://nowhere.example ${SCOPE}`, duration: '1h', justification: 'x' }, 404, 'no resource https://nowhere.example'],
      [{ csrf, scope_target: SCOPE, duration: '1h', justification: 'x' }, 400, 'Choose a scope on a resource.'],
      [{ csrf: 'forged', scope_target: `${API} ${SCOPE}`, duration: '1h', justification: 'x' }, 403, ''],
    ] as const) {
      const res = await alice.post('/account/requests', fields);
      expect(res.status, JSON.stringify(fields)).toBe(status);
      expect(await res.text()).toContain(text);
    }
    expect(await requests('alice@example.com')).toEqual([]);
    const ok = await alice.post('/account/requests', { csrf, scope_target: `${API} ${SCOPE}`, duration: '2h', justification: 'evaluate the fraud model (DS-31)' });
    expect(ok.status).toBe(303);
    expect(await requests('alice@example.com')).toEqual([expect.objectContaining({ state: 'pending', target: `scope ${SCOPE} on ${API}` })]);
    expect(await (await alice.get('/account/requests')).text()).toContain(`scope ${SCOPE} on ${API}`);
  });

  it('the approver sees the target; approval makes the person’s token carry the scope until it is ended', async () => {
    const before = await signIn();
    expect(String(decodeJwt(before.access_token).payload.scope).split(' ')).not.toContain(SCOPE);

    const [pending] = await requests('alice@example.com');
    const page = await (await bob.get('/account/approvals')).text();
    expect(page).toContain(`alice@example.com <span class="muted">asks for</span> scope ${SCOPE} on ${API} <span class="muted">for</span> 2 hours`);
    expect(page).toContain('evaluate the fraud model (DS-31)');
    const csrf = await bob.csrf('/account/approvals');
    const own = await alice.post(`/account/approvals/${pending?.id ?? ''}`, { csrf: await alice.csrf('/account/requests'), decision: 'approve' });
    expect(own.status).toBe(403);
    const approved = await bob.post(`/account/approvals/${pending?.id ?? ''}`, { csrf, decision: 'approve' });
    expect(approved.headers.get('location')).toBe('/account/approvals?result=completed');

    const after = await signIn();
    const claims = decodeJwt(after.access_token).payload;
    expect(String(claims.scope).split(' ')).toContain(SCOPE);
    expect(claims.aud).toBe(API);
    expect(Number(claims.exp) - Number(claims.iat)).toBeLessThanOrEqual(2 * 3600);
    expect(await introspect(after.access_token)).toMatchObject({ active: true });

    // The webhook outbox describes the target of every step (never an email).
    const outbox = await t.server.db.prisma.notification.findMany({ where: { type: { startsWith: 'access_request.' } } });
    const granted = outbox.map((n) => JSON.parse(n.payload) as { type: string; data: Record<string, unknown> }).find((n) => n.type === 'access_request.granted');
    expect(granted?.data).toMatchObject({ request_id: pending?.id, role: null, scope: SCOPE, resource: API });

    await t.cliJson('user', 'revoke-scope', 'alice@example.com', '--scope', SCOPE, '--resource', API);
    expect(await introspect(after.access_token)).toEqual({ active: false });
    const again = await signIn();
    expect(String(decodeJwt(again.access_token).payload.scope).split(' ')).not.toContain(SCOPE);
  });
});

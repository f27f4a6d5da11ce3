// The person's side of CIBA, and its edges: a denial reaches the agent as access_denied; a
// high-sensitivity scope is approved only after a fresh second factor (the token then says so);
// revoking the agent while the request waits makes the approval fail closed; two approvals at once
// and an approval against the expiry each have exactly one outcome; every step is announced by a
// signed webhook (verified against /jwks, as a receiver would) and audited.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cibaRequestIdFor, expireCibaRequests } from '../../src/governance/ciba-requests.ts';
import { signInToAccount, walkSignIn, type AccountBrowser } from '../helpers/account-pages.ts';
import { agentRequestsOnPage, backchannel, decideOnPage, pollOnce } from '../helpers/ciba.ts';
import { decodeJwt, type ClientCreds } from '../helpers/oauth.ts';
import { API, createUser } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

let t: TestServer;
let receiver: WebhookReceiver;
let agent: ClientCreds;
let alice: AccountBrowser;
let aliceId: string;
let bossSecret: string;

const ask = (params: Record<string, string> = {}, client = agent) =>
  backchannel(t.issuer, client, { scope: 'openid ai.training.read', resource: API, login_hint: 'alice@example.com', binding_message: 'run 7', ...params });
const events = async (action: string) => (await t.cliJson<{ events: { detail: Record<string, unknown>; outcome: string }[] }>('audit', 'tail', '--action', action, '--limit', '1000')).events;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  t = await startTestServer({
    notificationPollMs: false,
    env: { GOVAUTH_CIBA: 'true', GOVAUTH_CIBA_POLL_INTERVAL: '1', GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE: 'true', GOVAUTH_WEBHOOK_URL: receiver.url, GOVAUTH_WEBHOOK_SIGNING: 'jws' },
  });
  await t.cliJson('init', '--demo');
  aliceId = await createUser(t, 'alice@example.com', ['data-scientist']);
  await createUser(t, 'boss@example.com', ['admin']);
  bossSecret = (await t.cliJson<{ secret: string }>('user', 'mfa', 'enroll', 'boss@example.com')).secret;
  agent = await t.cliJson<ClientCreds>('client', 'create', '--name', 'Training Agent', '--ciba', 'poll');
  alice = await signInToAccount(t, 'alice@example.com');
});
afterAll(async () => {
  await t?.stop();
  await receiver?.close();
});

describe('the person decides', () => {
  it('a denial is access_denied for the agent, announced by a signed webhook and audited', async () => {
    const asked = await ask();
    const [id] = (await agentRequestsOnPage(alice)).ids;
    const csrf = await alice.csrf('/account/approvals');
    const denied = await alice.post(`/account/agent-requests/${encodeURIComponent(id ?? '')}`, { csrf, decision: 'deny' });
    expect(denied.headers.get('location')).toBe('/account/approvals?agent=denied');
    expect((await pollOnce(t.issuer, agent, String(asked.body.auth_req_id))).body.error).toBe('access_denied');
    // Deciding again changes nothing.
    expect((await alice.post(`/account/agent-requests/${encodeURIComponent(id ?? '')}`, { csrf, decision: 'approve' })).status).toBe(409);
    receiver.received.length = 0;
    await t.server.notifications?.deliverDue();
    const sets = await Promise.all(receiver.received.map(async (r) => (await jwtVerify(r.body, createRemoteJWKSet(new URL(`${t.issuer}/jwks`)), { issuer: t.issuer, audience: receiver.url })).payload));
    const byType = new Map(sets.flatMap((s) => Object.entries(s.events as Record<string, Record<string, unknown>>)));
    expect(byType.get('urn:govauth:event:ciba.requested')).toMatchObject({ ciba_request: id, client_id: agent.client_id, user_id: aliceId, binding_message: 'run 7', scopes: ['openid', 'ai.training.read'], resource: API });
    expect(byType.get('urn:govauth:event:ciba.denied')).toMatchObject({ ciba_request: id, decided_by: aliceId, reason: 'denied by the person' });
    // The auth_req_id (the agent's credential for the token) is in no event and no record.
    expect(JSON.stringify(sets)).not.toContain(String(asked.body.auth_req_id));
    expect(JSON.stringify(await events('ciba.requested'))).not.toContain(String(asked.body.auth_req_id));
    expect((await events('ciba.denied')).at(-1)).toMatchObject({ outcome: 'denied', detail: { ciba_request: id } });
  });

  it('a high-sensitivity scope needs a fresh second factor to approve; the token then says so', async () => {
    const asked = await ask({ login_hint: 'boss@example.com', scope: 'openid ai.deploy.manage' });
    // Signed in with the password only (the step-up is asked only when needed): the page offers the step-up, not Approve.
    const stale = (await walkSignIn(t, '/account/delegations', 'boss@example.com', { totpSecret: bossSecret })).browser;
    const page = await agentRequestsOnPage(stale);
    expect(page.html).toContain('Deploy, roll back and retire models in production');
    expect(page.html).toContain('high sensitivity');
    expect(page.html).toContain('/account/sign-in?mfa=1');
    expect(page.html).not.toContain('value="approve"');
    const refused = await decideOnPage(stale, page.ids[0] ?? '', 'approve');
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('two-step verification');
    // Steps up (password and code again), then approves.
    const { browser: fresh } = await walkSignIn(t, '/account/sign-in?mfa=1&return=%2Faccount%2Fapprovals', 'boss@example.com', { browser: stale, totpSecret: bossSecret });
    expect((await decideOnPage(fresh, page.ids[0] ?? '', 'approve')).headers.get('location')).toBe('/account/approvals?agent=approved');
    const token = await pollOnce(t.issuer, agent, String(asked.body.auth_req_id));
    expect(token.status).toBe(200);
    expect(decodeJwt(String(token.body.access_token)).payload).toMatchObject({ scope: 'ai.deploy.manage', acr: 'urn:govauth:acr:mfa', amr: expect.arrayContaining(['otp']) as unknown });
  });

  it('revoking the agent while the request waits: the approval fails closed', async () => {
    const other = await t.cliJson<ClientCreds>('client', 'create', '--name', 'Flaky Agent', '--ciba', 'poll');
    const asked = await ask({}, other);
    await sleep(1100); // the revocation's cutoff is after the request (seconds)
    await t.cliJson('revoke', '--client', other.client_id, '--reason', 'compromised');
    await t.server.policy.sync();
    const id = (await agentRequestsOnPage(alice)).ids.at(-1) ?? '';
    expect((await decideOnPage(alice, id, 'approve')).headers.get('location')).toBe('/account/approvals?agent=denied');
    // The revocation also ended the agent's pending request itself (its oidc-provider rows), so the auth_req_id is gone.
    expect((await pollOnce(t.issuer, other, String(asked.body.auth_req_id))).body.error).toBe('invalid_grant');
    expect((await events('ciba.denied')).at(-1)?.detail).toMatchObject({ ciba_request: id, reason: 'revoked (client) since the request' });
  });

  it('a disabled agent: its request can only be denied, and it gets no token', async () => {
    const other = await t.cliJson<ClientCreds>('client', 'create', '--name', 'Retired Agent', '--ciba', 'poll');
    await ask({}, other);
    await t.cliJson('client', 'disable', other.client_id);
    await t.server.policy.sync();
    const page = await agentRequestsOnPage(alice);
    expect(page.html).toContain('it can only be denied');
    expect((await decideOnPage(alice, page.ids.at(-1) ?? '', 'approve')).headers.get('location')).toBe('/account/approvals?agent=denied');
  });
});

describe('races', () => {
  it('two approvals at once: one decides, the other is told it was already decided; one token', async () => {
    const asked = await ask();
    const id = (await agentRequestsOnPage(alice)).ids.at(-1) ?? '';
    const csrf = await alice.csrf('/account/approvals');
    const answers = await Promise.all([0, 1, 2].map(() => alice.post(`/account/agent-requests/${encodeURIComponent(id)}`, { csrf, decision: 'approve' })));
    expect(answers.map((r) => r.status).sort()).toEqual([303, 409, 409]);
    expect((await events('ciba.approved')).filter((e) => e.detail.ciba_request === id)).toHaveLength(1);
    const polls = await Promise.all([0, 1].map(() => pollOnce(t.issuer, agent, String(asked.body.auth_req_id))));
    expect(polls.filter((p) => p.status === 200)).toHaveLength(1);
  });

  it('an approval against the expiry: either approved (and a token) or expired (and expired_token), never both', async () => {
    // The form token is the session's (account-kit.ts), taken from a page that always has a form:
    // on a busy machine the one-second request may already be gone from the approvals page.
    const csrf = await alice.csrf('/account/sessions');
    const asked = await ask({ requested_expiry: '1' });
    const id = cibaRequestIdFor(String(asked.body.auth_req_id));
    await sleep(1100);
    // Past its time it is off the page; a form posted anyway races the expiry sweep.
    expect((await agentRequestsOnPage(alice)).ids).not.toContain(id);
    const [decided] = await Promise.all([alice.post(`/account/agent-requests/${encodeURIComponent(id)}`, { csrf, decision: 'approve' }), expireCibaRequests(t.server.db, Date.now())]);
    expect(decided.status).toBe(409);
    // Closed once, by this sweep or the server's own (whichever came first): one record.
    expect((await pollOnce(t.issuer, agent, String(asked.body.auth_req_id))).body.error).toBe('expired_token');
    expect((await events('ciba.expired')).filter((e) => e.detail.ciba_request === id)).toHaveLength(1);
    expect((await events('ciba.approved')).filter((e) => e.detail.ciba_request === id)).toHaveLength(0);
  });
});

describe('openid-client as the agent', () => {
  it('pollBackchannelAuthenticationGrant ends with AccessDenied when she denies', async () => {
    const config = await oidc.discovery(new URL(t.issuer), agent.client_id, agent.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    const started = await oidc.initiateBackchannelAuthentication(config, { scope: 'openid ai.training.read', login_hint: 'alice@example.com', resource: API });
    const polling = oidc.pollBackchannelAuthenticationGrant(config, started).catch((err: unknown) => err);
    const id = (await agentRequestsOnPage(alice)).ids.at(-1) ?? '';
    await decideOnPage(alice, id, 'deny');
    expect(await polling).toMatchObject({ error: 'access_denied' });
  });
});

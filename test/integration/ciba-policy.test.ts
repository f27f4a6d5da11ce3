// OpenID CIBA under the Cedar policy step (issue 24): a CIBA token is judged as the Agent acting
// for the person (delegation depth 1) at the person's approval, at the token endpoint (and at a
// refresh of its grant) and at introspection. A policy forbidding agents a scope leaves it out of the approvals
// (the approvals page says which policy and why) and out of the token (whose token.issued record
// names the policies); a policy that arrives between the approval and the poll ends it
// access_denied, and ends earlier tokens at introspection; an unloadable active set fails closed
// at /backchannel, on the approvals page and at the token endpoint, with the approval still
// redeemable afterwards. A refreshed token acts on the same approval as the first (act,
// ciba_request), on either of two instances sharing the database, and is judged as the agent as
// the first one is; a refresh whose approval cannot be found is refused.
// Real server, real database (SQLite or PostgreSQL by DATABASE_URL), openid-client's CIBA functions.
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInToAccount, type AccountBrowser } from '../helpers/account-pages.ts';
import { activatePolicy, applyPolicies } from '../helpers/cedar-policies.ts';
import { agentRequestsOnPage, backchannel, decideOnPage, pollOnce } from '../helpers/ciba.ts';
import { decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { API, createResourceServer, createUser } from '../helpers/people.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let db: TestDatabase;
let t: TestServer;
/** A second instance on the same database (its refreshes and introspection must agree with t's). */
let b: TestServer;
let agent: ClientCreds;
let rs: ClientCreds;
let alice: AccountBrowser;
let aliceId: string;

const BASELINE = '@id("baseline")\npermit(principal, action, resource);\n';
const NO_AGENT_ANALYSIS = `@id("no-agent-analysis")
@reason("agents may not analyse training data")
forbid(principal is Agent, action == Action::"ai.training.analyze", resource);
`;
const NOTICE = 'Not included because of the access policy: ai.training.analyze (forbidden by policy no-agent-analysis: agents may not analyse training data).';

const apply = (files: Record<string, string>): Promise<number> => applyPolicies(t, files);
const activate = (version: string): Promise<void> => activatePolicy(t, version);

const configFor = (c: ClientCreds) => oidc.discovery(new URL(t.issuer), c.client_id, c.client_secret ?? undefined, undefined, { execute: [oidc.allowInsecureRequests] });
const ask = (scope: string) => backchannel(t.issuer, agent, { scope: `openid ${scope}`, resource: API, login_hint: 'alice@example.com' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const events = async (action: string) => (await t.cliJson<{ events: { detail: Record<string, unknown>; outcome: string }[] }>('audit', 'tail', '--action', action, '--limit', '1000')).events;

/** The one request waiting on Alice's page, approved there. */
async function approveOnly(): Promise<string> {
  const { ids } = await agentRequestsOnPage(alice);
  expect(ids).toHaveLength(1);
  const id = ids[0] ?? '';
  const res = await decideOnPage(alice, id, 'approve');
  expect(res.headers.get('location')).toBe('/account/approvals?agent=approved');
  return id;
}

async function introspect(token: string, on: TestServer = t): Promise<Record<string, unknown>> {
  const res = await fetch(`${on.url}/token/introspection`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${rs.client_id}:${rs.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  return (await res.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestServer({ db, env: { GOVAUTH_CIBA: 'true', GOVAUTH_CIBA_POLL_INTERVAL: '1' } });
  await t.cliJson('init', '--demo');
  aliceId = await createUser(t, 'alice@example.com', ['data-scientist']);
  agent = await t.cliJson<ClientCreds>('client', 'create', '--name', 'Training Agent', '--ciba', 'poll');
  rs = await createResourceServer(t);
  alice = await signInToAccount(t, 'alice@example.com');
  b = await startTestServer({ db, masterKey: t.env.GOVAUTH_MASTER_KEY, env: { GOVAUTH_CIBA: 'true', GOVAUTH_CIBA_POLL_INTERVAL: '1', GOVAUTH_ISSUER: t.issuer } });
}, 60_000);
afterAll(async () => {
  await b?.stop();
  await t?.stop();
  await db?.drop();
});

let baseline: number;
let forbidding: number;

describe('a CIBA token is judged as the agent acting for the person', () => {
  it('explain models the same principal: the agent is forbidden the scope, Alice herself is not', async () => {
    baseline = await apply({ 'baseline.cedar': BASELINE });
    forbidding = await apply({ 'baseline.cedar': BASELINE, 'agents.cedar': NO_AGENT_ANALYSIS });
    const asAgent = await t.cliJson<{ decision: string; principal: string }>('policy', 'explain', '--user', 'alice@example.com', '--via', agent.client_id, '--delegation', '1', '--resource', API, '--scope', 'ai.training.analyze');
    expect(asAgent).toMatchObject({ decision: 'deny', principal: `agent ${agent.client_id} acting for person alice@example.com` });
    const asPerson = await t.cliJson<{ decision: string }>('policy', 'explain', '--user', 'alice@example.com', '--via', agent.client_id, '--resource', API, '--scope', 'ai.training.analyze');
    expect(asPerson.decision).toBe('permit');
  });

  it('the approvals page says the policy leaves the scope out; the token lacks it; the audit records name the policies', async () => {
    const config = await configFor(agent);
    const started = await oidc.initiateBackchannelAuthentication(config, { scope: 'openid ai.training.read ai.training.analyze', login_hint: 'alice@example.com', resource: API });
    const { html } = await agentRequestsOnPage(alice);
    expect(html).toContain(NOTICE);
    const polling = oidc.pollBackchannelAuthenticationGrant(config, started);
    const id = await approveOnly();
    const tokens = await polling;
    const claims = decodeJwt(tokens.access_token).payload;
    expect(claims).toMatchObject({ sub: aliceId, act: { sub: agent.client_id }, scope: 'ai.training.read' });
    const [approved] = await events('ciba.approved');
    expect(approved?.detail).toMatchObject({
      ciba_request: id,
      granted_scopes: ['ai.training.read'],
      policy_version: forbidding,
      policy_removed: [{ scope: 'ai.training.analyze', reason: 'forbid', policies: ['no-agent-analysis'] }],
    });
    const issued = (await events('token.issued')).find((e) => e.detail.jti === claims.jti);
    expect(issued?.detail).toMatchObject({ grant_type: 'urn:openid:params:grant-type:ciba', ciba_request: id, policy_version: forbidding, policies: ['baseline'] });
  });

  it('an approval the policy leaves nothing of cannot be approved: the agent is told access_denied', async () => {
    const asked = await ask('ai.training.analyze');
    const { html, ids } = await agentRequestsOnPage(alice);
    expect(html).toContain(NOTICE);
    expect(html).not.toContain('value="approve"');
    expect((await decideOnPage(alice, ids[0] ?? '', 'approve')).headers.get('location')).toBe('/account/approvals?agent=denied');
    expect((await pollOnce(t.issuer, agent, String(asked.body.auth_req_id))).body.error).toBe('access_denied');
    const [denied] = await events('ciba.denied');
    expect(denied?.detail.reason).toContain('refused by access policy: ai.training.analyze (forbidden by policy no-agent-analysis');
  });

  it('a policy activated after the approval: the token endpoint refuses (access_denied), introspection ends the earlier token', async () => {
    await activate(String(baseline));
    const config = await configFor(agent);
    const first = await oidc.initiateBackchannelAuthentication(config, { scope: 'openid ai.training.analyze', login_hint: 'alice@example.com', resource: API });
    const polling = oidc.pollBackchannelAuthenticationGrant(config, first);
    await approveOnly();
    const earlier = (await polling).access_token;
    expect(decodeJwt(earlier).payload.scope).toBe('ai.training.analyze');
    expect((await introspect(earlier)).active).toBe(true);
    const second = await ask('ai.training.analyze');
    await approveOnly();
    // Token times are in seconds: the activation must come in a later second than the token.
    await sleep(1100);
    await activate(String(forbidding));
    const answer = await pollOnce(t.issuer, agent, String(second.body.auth_req_id));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: 'access_denied' });
    expect(String(answer.body.error_description)).toContain('no-agent-analysis');
    expect(answer.body.access_token).toBeUndefined();
    // Judged as the agent again, as at issuance (as Alice herself it would still be permitted).
    expect((await introspect(earlier)).active).toBe(false);
  });

  it('a refresh of a CIBA grant is judged as the agent too', async () => {
    await activate(String(baseline));
    const offline = await t.cliJson<ClientCreds>('client', 'create', '--name', 'Offline Agent', '--ciba', 'poll', '--grant', 'authorization_code', '--redirect-uri', 'https://agent.example/callback');
    const config = await configFor(offline);
    const started = await oidc.initiateBackchannelAuthentication(config, { scope: 'openid offline_access ai.training.read ai.training.analyze', login_hint: 'alice@example.com', resource: API });
    const polling = oidc.pollBackchannelAuthenticationGrant(config, started);
    await approveOnly();
    const tokens = await polling;
    expect(decodeJwt(tokens.access_token).payload.scope).toBe('ai.training.analyze ai.training.read');
    expect(tokens.refresh_token).toBeTruthy();
    await activate(String(forbidding));
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');
    expect(decodeJwt(refreshed.access_token).payload.scope).toBe('ai.training.read');
  });
});

/** An agent that may refresh (offline_access), approved by Alice for both scopes while the baseline set is active. */
async function approvedWithRefresh(name: string): Promise<{ agent: ClientCreds; id: string; tokens: oidc.TokenEndpointResponse }> {
  await activate(String(baseline));
  const offline = await t.cliJson<ClientCreds>('client', 'create', '--name', name, '--ciba', 'poll', '--grant', 'authorization_code', '--redirect-uri', 'https://agent.example/callback');
  const config = await configFor(offline);
  const started = await oidc.initiateBackchannelAuthentication(config, { scope: 'openid offline_access ai.training.read ai.training.analyze', login_hint: 'alice@example.com', resource: API });
  const polling = oidc.pollBackchannelAuthenticationGrant(config, started);
  const id = await approveOnly();
  const tokens = await polling;
  expect(tokens.refresh_token).toBeTruthy();
  return { agent: offline, id, tokens };
}

const refresh = (on: TestServer, client: ClientCreds, refreshToken: string) => tokenRequest(on.url, { grant_type: 'refresh_token', refresh_token: refreshToken }, { basic: client });

describe('a refreshed CIBA token acts on the same approval', () => {
  it('every rotation, on either instance, carries act and ciba_request; introspection judges it as the agent, so a later policy ends it', async () => {
    const { agent: offline, id, tokens } = await approvedWithRefresh('Refreshing Agent');
    const first = decodeJwt(tokens.access_token).payload;
    expect(first).toMatchObject({ sub: aliceId, client_id: offline.client_id, act: { sub: offline.client_id }, ciba_request: id, scope: 'ai.training.analyze ai.training.read' });
    // Rotated on this instance, then on the other one (each finds the approval in the shared database).
    const once = await refresh(t, offline, tokens.refresh_token ?? '');
    expect(once.status).toBe(200);
    const twice = await refresh(b, offline, String(once.body.refresh_token));
    expect(twice.status).toBe(200);
    const refreshed = [String(once.body.access_token), String(twice.body.access_token)];
    for (const token of refreshed) {
      const claims = decodeJwt(token).payload;
      expect(claims).toMatchObject({ sub: aliceId, client_id: offline.client_id, act: first.act, ciba_request: first.ciba_request, grant_id: first.grant_id, scope: first.scope });
      // Never offered to another agent as the person's own token (RFC 8693 may_act).
      expect(claims.may_act).toBeUndefined();
    }
    for (const on of [t, b]) {
      for (const token of refreshed) expect(await introspect(token, on)).toMatchObject({ active: true, sub: aliceId, act: { sub: offline.client_id } });
    }
    // Each refresh's record names the approval, as the first token's does.
    const records = await events('token.refreshed');
    for (const token of refreshed) {
      const record = records.find((e) => e.detail.jti === decodeJwt(token).payload.jti);
      expect(record?.detail).toMatchObject({ grant_type: 'refresh_token', ciba_request: id, client_id: offline.client_id, sub: aliceId });
    }
    // A policy forbidding agents a scope, activated after the refreshes (in a later second: token
    // times are in seconds): every token carrying it is inactive on both instances, the refreshed
    // ones as the first (as Alice's own tokens they would still be permitted: see explain above).
    await sleep(1100);
    await activate(String(forbidding));
    await b.server.policy.sync();
    for (const on of [t, b]) {
      for (const token of [tokens.access_token, ...refreshed]) expect((await introspect(token, on)).active).toBe(false);
    }
    // The next refresh is judged as the agent as well: what the policy leaves.
    const third = await refresh(b, offline, String(twice.body.refresh_token));
    expect(decodeJwt(String(third.body.access_token)).payload).toMatchObject({ scope: 'ai.training.read', act: first.act, ciba_request: id });
    expect((await introspect(String(third.body.access_token))).active).toBe(true);
  });

  it('a refresh whose approval cannot be found is refused (invalid_grant, audited) and leaves the refresh token usable', async () => {
    const { agent: offline, id, tokens } = await approvedWithRefresh('Forgotten Agent');
    const prisma = t.server.db.prisma;
    // The approval named its grant when Alice approved.
    expect((await prisma.cibaRequest.findUnique({ where: { id } }))?.grantId).toBe(decodeJwt(tokens.access_token).payload.grant_id);
    await prisma.cibaRequest.update({ where: { id }, data: { grantId: null } });
    for (const on of [t, b]) {
      const refused = await refresh(on, offline, tokens.refresh_token ?? '');
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: 'invalid_grant' });
      expect(refused.body.access_token).toBeUndefined();
    }
    const refusals = (await events('token.refused')).filter((e) => e.detail.grant_type === 'refresh_token' && e.detail.reason === 'the CIBA approval this grant was issued on cannot be found');
    expect(refusals).toHaveLength(2);
    expect(refusals.every((e) => e.outcome === 'failure')).toBe(true);
    // Refused before it was consumed: once the approval is found again, the same refresh token works.
    await prisma.cibaRequest.update({ where: { id }, data: { grantId: String(decodeJwt(tokens.access_token).payload.grant_id) } });
    const again = await refresh(t, offline, tokens.refresh_token ?? '');
    expect(again.status).toBe(200);
    expect(decodeJwt(String(again.body.access_token)).payload).toMatchObject({ act: { sub: offline.client_id }, ciba_request: id });
  });
});

describe('an unloadable active policy set: CIBA fails closed', () => {
  it('refuses at /backchannel, on the approvals page and at the token endpoint; the approval is redeemed once a set loads', async () => {
    const approvedEarlier = await ask('ai.training.read');
    await approveOnly();
    const waiting = await ask('ai.training.read');
    expect(waiting.status).toBe(200);

    const prisma = t.server.db.prisma;
    const row = await prisma.abacPolicySet.create({ data: { sources: JSON.stringify({ 'x.cedar': 'permit(principal, action, resource' }), sha256: 'f'.repeat(64), createdAt: new Date(), createdBy: 'test' } });
    await prisma.abacPolicyActivation.create({ data: { version: row.version, activatedAt: new Date(), activatedBy: 'test' } });
    await prisma.change.create({ data: { kind: 'abac-policy', key: String(row.version) } });
    await t.server.policy.sync();

    // No new request a person would be asked to approve.
    const refused = await ask('ai.training.read');
    expect(refused.body.error).toBe('temporarily_unavailable');
    expect(refused.body.auth_req_id).toBeUndefined();
    // The waiting request cannot be approved now, and stays waiting.
    const page = await agentRequestsOnPage(alice);
    expect(page.html).toContain('cannot be evaluated');
    expect(page.html).not.toContain('value="approve"');
    const post = await decideOnPage(alice, page.ids[0] ?? '', 'approve');
    expect(post.status).toBe(409);
    expect(await post.text()).toContain('nothing was approved');
    expect((await agentRequestsOnPage(alice)).ids).toHaveLength(1);
    // The approved request: no token, and not used up.
    const unavailable = await pollOnce(t.issuer, agent, String(approvedEarlier.body.auth_req_id));
    expect(unavailable.body.error).toBe('temporarily_unavailable');
    expect(unavailable.body.access_token).toBeUndefined();

    await activate(String(forbidding));
    await sleep(1100);
    const redeemed = await pollOnce(t.issuer, agent, String(approvedEarlier.body.auth_req_id));
    expect(redeemed.status).toBe(200);
    expect(decodeJwt(String(redeemed.body.access_token)).payload.scope).toBe('ai.training.read');
  });
});

// The token status list under Cedar policies, on a real server: each bit is judged in the context
// introspection judges the token in (its amr, auth_time and binding, and for a CIBA token the agent
// acting for the person), from the token's audit record, and judged again as soon as a policy set
// is activated, as introspection is (not at the next full pass, minutes later). So a CIBA token,
// first or refreshed, turns invalid in the list when a policy forbids agents what it carries; a
// policy permitting only DPoP-bound tokens (or a password sign-in) leaves a DPoP token valid and
// makes a bearer one invalid, in the list as at introspection. And the facts the list reads from
// each kind of token's record are the ones introspection reads from its claims (an exchanged
// token's chain and the tokens it was exchanged from included).
// Real server, real database (SQLite or PostgreSQL by DATABASE_URL).
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainOf, exchangedFromOf } from '../../src/governance/act-claim.ts';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE, allowDelegation, createAgent } from '../helpers/agents.ts';
import { activatePolicy, applyPolicies } from '../helpers/cedar-policies.ts';
import { liveFactsOfClaims } from '../../src/introspection/access-token-check.ts';
import type { LiveTokenFacts } from '../../src/introspection/token-liveness.ts';
import { LiveTokens } from '../../src/statuslist/live-tokens.ts';
import { mintedTokenOf } from '../../src/statuslist/token-facts.ts';
import { signInToAccount, type AccountBrowser } from '../helpers/account-pages.ts';
import { agentRequestsOnPage, decideOnPage } from '../helpers/ciba.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { type ClientCreds, decodeJwt, introspectionActive as isActive, tokenRequest } from '../helpers/oauth.ts';
import { API, createResourceServer, createUser, createWebApp, discover } from '../helpers/people.ts';
import { statusBit } from '../helpers/status-list.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let db: TestDatabase;
let t: TestServer;
let rs: ClientCreds;
let app: oidc.Configuration;
let alice: AccountBrowser;

const BASELINE = '@id("baseline")\npermit(principal, action, resource);\n';
const NO_AGENT_ANALYSIS = `@id("no-agent-analysis")
forbid(principal is Agent, action == Action::"ai.training.analyze", resource);
`;
// Bound tokens, or a person who signed in with a password (RFC 8176 pwd): nothing else.
const BOUND_OR_SIGNED_IN = `@id("bound-or-signed-in")
permit(principal, action, resource) when { context.binding == "dpop" || context.amr.contains("pwd") };
`;

const apply = (files: Record<string, string>): Promise<number> => applyPolicies(t, files);
const activate = (version: number): Promise<void> => activatePolicy(t, version);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const configFor = (c: ClientCreds) => oidc.discovery(new URL(t.issuer), c.client_id, c.client_secret ?? undefined, undefined, { execute: [oidc.allowInsecureRequests] });

const introspectionActive = (token: string): Promise<boolean> => isActive(t.url, rs, token);

/** Each token's bit and introspection's answer, once the list has applied every known change. */
async function verdicts(tokens: Record<string, string>): Promise<Record<string, { bit: number; active: boolean }>> {
  await t.server.statusLists.settled();
  // A list changed under 100 ms after it was built is served as built (status-lists.ts MIN_REBUILD_MS).
  await sleep(150);
  const out: Record<string, { bit: number; active: boolean }> = {};
  for (const [name, token] of Object.entries(tokens)) out[name] = { bit: await statusBit(t.issuer, token), active: await introspectionActive(token) };
  return out;
}

/** The one CIBA request waiting on Alice's approvals page, approved there. */
async function approveOnly(): Promise<void> {
  const { ids } = await agentRequestsOnPage(alice);
  expect(ids).toHaveLength(1);
  expect((await decideOnPage(alice, ids[0] ?? '', 'approve')).headers.get('location')).toBe('/account/approvals?agent=approved');
}

/** An agent approved by Alice through CIBA (offline_access: it may refresh), and its tokens. */
async function cibaTokens(name: string): Promise<{ config: oidc.Configuration; tokens: oidc.TokenEndpointResponse }> {
  const agent = await t.cliJson<ClientCreds>('client', 'create', '--name', name, '--ciba', 'poll', '--grant', 'authorization_code', '--redirect-uri', 'https://agent.example/callback');
  const config = await configFor(agent);
  const started = await oidc.initiateBackchannelAuthentication(config, { scope: 'openid offline_access ai.training.read ai.training.analyze', login_hint: 'alice@example.com', resource: API });
  const polling = oidc.pollBackchannelAuthenticationGrant(config, started);
  await approveOnly();
  return { config, tokens: await polling };
}

const bot = (name: string) => t.cliJson<ClientCreds>('client', 'create', '--name', name, '--grant', 'client_credentials', '--roles', 'end-user');
const dpopToken = async (creds: ClientCreds) => {
  const config = await configFor(creds);
  return (await oidc.clientCredentialsGrant(config, { resource: API }, { DPoP: oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256')) })).access_token;
};
async function bearerToken(creds: ClientCreds): Promise<string> {
  const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: creds });
  expect(res.status).toBe(200);
  return String(res.body.access_token);
}

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestServer({ db, env: { GOVAUTH_CIBA: 'true', GOVAUTH_CIBA_POLL_INTERVAL: '1', GOVAUTH_STATUS_LIST_TTL: '1' } });
  await t.cliJson('init', '--demo');
  await createUser(t, 'alice@example.com', ['data-scientist']);
  rs = await createResourceServer(t);
  app = await discover(t, await createWebApp(t));
  alice = await signInToAccount(t, 'alice@example.com');
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await db?.drop();
});

describe('the status list judges a token as introspection does, under Cedar policies', () => {
  it('a CIBA token, first and refreshed, turns invalid once a policy forbidding agents is activated, as at introspection', async () => {
    const baseline = await apply({ 'baseline.cedar': BASELINE });
    const forbidding = await apply({ 'baseline.cedar': BASELINE, 'agents.cedar': NO_AGENT_ANALYSIS });
    await activate(baseline);
    const { config, tokens } = await cibaTokens('Status Agent');
    expect(decodeJwt(tokens.access_token).payload.scope).toBe('ai.training.analyze ai.training.read');
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');
    expect(decodeJwt(refreshed.access_token).payload).toMatchObject({ ciba_request: decodeJwt(tokens.access_token).payload.ciba_request });
    // Alice's own token for the same scope: the policy forbids agents, not her.
    const own = (await headlessSignIn(app, 'alice@example.com', 'openid ai.training.analyze', { extra: { prompt: 'consent', resource: API } })).access_token;
    const held = { 'CIBA token': tokens.access_token, 'refreshed CIBA token': refreshed.access_token, "Alice's own token": own };
    for (const [name, v] of Object.entries(await verdicts(held))) expect(v, name).toEqual({ bit: 0, active: true });

    // Token times are in seconds: the activation must come in a later second than the tokens.
    await sleep(1100);
    await activate(forbidding);
    // Re-judged on the change itself (the list's full pass runs only every 5 minutes).
    const after = await verdicts(held);
    expect(after).toEqual({
      'CIBA token': { bit: 1, active: false },
      'refreshed CIBA token': { bit: 1, active: false },
      "Alice's own token": { bit: 0, active: true },
    });

    // A rollback is re-judged as promptly: the tokens are good again.
    await t.cliJson('policy', 'rollback');
    await t.server.policy.sync();
    for (const [name, v] of Object.entries(await verdicts(held))) expect(v, name).toEqual({ bit: 0, active: true });
  });

  it('a policy permitting only DPoP-bound tokens or password sign-ins: DPoP and signed-in tokens stay valid, a bearer bot token turns invalid', async () => {
    const baseline = await apply({ 'baseline.cedar': BASELINE });
    const restrictive = await apply({ 'bound.cedar': BOUND_OR_SIGNED_IN });
    await activate(baseline);
    const creds = await bot('status-dpop-bot');
    const signedIn = (await headlessSignIn(app, 'alice@example.com', 'openid ai.training.read', { extra: { prompt: 'consent', resource: API } })).access_token;
    expect(decodeJwt(signedIn).payload.amr).toContain('pwd');
    const held = { 'DPoP bot token': await dpopToken(creds), 'bearer bot token': await bearerToken(creds), 'signed-in token': signedIn };
    expect(decodeJwt(held['DPoP bot token']).payload.cnf).toHaveProperty('jkt');
    for (const [name, v] of Object.entries(await verdicts(held))) expect(v, name).toEqual({ bit: 0, active: true });

    await sleep(1100);
    await activate(restrictive);
    expect(await verdicts(held)).toEqual({
      'DPoP bot token': { bit: 0, active: true },
      'bearer bot token': { bit: 1, active: false },
      'signed-in token': { bit: 0, active: true },
    });
    await activate(baseline);
  });

  it('an attribute change is re-judged at once for the tokens of its subject', async () => {
    const baseline = await apply({ 'baseline.cedar': BASELINE });
    const byAttribute = await apply({
      'baseline.cedar': BASELINE,
      'frozen.cedar': '@id("frozen")\nforbid(principal is Client, action, resource) when { principal.hasTag("frozen") };\n',
    });
    await activate(baseline);
    const [frozen, other] = [await bot('status-frozen-bot'), await bot('status-other-bot')];
    const held = { frozen: await bearerToken(frozen), other: await bearerToken(other) };
    await activate(byAttribute);
    for (const [name, v] of Object.entries(await verdicts(held))) expect(v, name).toEqual({ bit: 0, active: true });
    await sleep(1100);
    await t.cliJson('client', 'attr', 'set', frozen.client_id, 'frozen=yes');
    await t.server.policy.sync();
    expect(await verdicts(held)).toEqual({ frozen: { bit: 1, active: false }, other: { bit: 0, active: true } });
    await activate(baseline);
  });
});

describe('the facts the list reads from a token’s record are those introspection reads from its claims', () => {
  it('for bearer and DPoP client tokens, a person’s code and refreshed tokens, CIBA tokens, exchanged tokens one and two hops deep', async () => {
    const creds = await bot('status-facts-bot');
    const signedIn = await headlessSignIn(app, 'alice@example.com', 'openid offline_access ai.training.read', { extra: { prompt: 'consent', resource: API } });
    const { config, tokens: ciba } = await cibaTokens('Facts Agent');
    // Two agents that may act for Alice, in a chain of two (RFC 8693 §4.1).
    await t.cliJson('role', 'create', 'facts-agent', '--description', 'agents of the facts test', '--scopes', 'ai.training.read');
    await allowDelegation(t, { agentRole: 'facts-agent', forRole: 'data-scientist', resource: API, maxDepth: 2 });
    const orchestrator = await configFor(await createAgent(t, 'Facts Orchestrator', ['facts-agent']));
    const worker = await configFor(await createAgent(t, 'Facts Worker', ['facts-agent']));
    const exchange = async (by: oidc.Configuration, subject: string) =>
      (await oidc.genericGrantRequest(by, TOKEN_EXCHANGE, { subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, resource: API })).access_token;
    const exchanged = await exchange(orchestrator, signedIn.access_token);
    const twoHops = await exchange(worker, exchanged);
    expect(decodeJwt(twoHops).payload.exchanged_from).toEqual([decodeJwt(exchanged).payload.jti, decodeJwt(signedIn.access_token).payload.jti]);
    const tokens = {
      bearer: await bearerToken(creds),
      dpop: await dpopToken(creds),
      code: signedIn.access_token,
      refreshed: (await oidc.refreshTokenGrant(app, signedIn.refresh_token ?? '')).access_token,
      ciba: ciba.access_token,
      'ciba refreshed': (await oidc.refreshTokenGrant(config, ciba.refresh_token ?? '')).access_token,
      exchanged,
      'exchanged twice': twoHops,
    };
    // An empty chain is no chain (token-liveness.ts reads `chain?.length`).
    const normal = (f: LiveTokenFacts) => ({ ...f, chain: f.chain?.length ? f.chain : undefined, exchangedFrom: f.exchangedFrom?.length ? f.exchangedFrom : undefined });
    const table = new LiveTokens(1024);
    for (const [name, token] of Object.entries(tokens)) {
      const claims = decodeJwt(token).payload;
      const records = await t.server.db.prisma.auditEvent.findMany({ where: { action: { in: ['token.issued', 'token.refreshed', 'token.exchanged'] }, detail: { contains: String(claims.jti) } } });
      const detail = records.map((r) => JSON.parse(r.detail) as Record<string, unknown>).find((d) => d.jti === claims.jti);
      const minted = detail && mintedTokenOf(detail, 2 ** 17);
      expect(minted, name).toBeDefined();
      const added = minted && table.add(minted, Math.floor(Date.now() / 1000));
      const fromRecord = added?.chunk && added.at !== undefined ? table.factsOf(added.chunk, added.at) : undefined;
      const fromClaims = liveFactsOfClaims(claims, chainOf(claims) ?? [], exchangedFromOf(claims) ?? []);
      expect(fromRecord && normal(fromRecord), name).toEqual(normal(fromClaims));
    }
    // The context differs between them, so the comparison above covers each part of it.
    const facts = Object.fromEntries(Object.entries(tokens).map(([name, token]) => [name, liveFactsOfClaims(decodeJwt(token).payload, [], [])]));
    expect(facts.dpop?.binding).toBe('dpop');
    expect(facts.code?.amr).toContain('pwd');
    expect(typeof facts.refreshed?.authTime).toBe('number');
    expect(facts['ciba refreshed']?.cibaRequest).toBeTruthy();
    expect(exchangedFromOf(decodeJwt(twoHops).payload)).toHaveLength(2);
  });
});

// Token exchange (RFC 8693): an agent acting for a person, as a real client does it
// (openid-client genericGrantRequest), the delegated token verified with jose, and judged by
// introspection on every use.
import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeJwt, generateKeyPair, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE, allowDelegation, createAgent } from '../helpers/agents.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import type { ClientCreds } from '../helpers/oauth.ts';
import { API, createResourceServer, createUser, createWebApp, discover } from '../helpers/people.ts';
import { isActive } from '../security/helpers/flows.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let db: TestDatabase;
let t: TestServer;
let rs: ClientCreds;
let appConfig: oidc.Configuration;
let agent: ClientCreds;
let agentConfig: oidc.Configuration;

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestServer({ db });
  await t.cliJson('init', '--demo');
  await t.cliJson('role', 'create', 'coding-agent', '--description', 'AI coding assistants', '--scopes', 'ai.prediction.run');
  rs = await createResourceServer(t);
  appConfig = await discover(t, await createWebApp(t));
  await createUser(t, 'alice@example.com', ['data-scientist']);
  agent = await createAgent(t, 'Model Studio Agent', ['coding-agent']);
  agentConfig = await discover(t, { client_id: agent.client_id, client_secret: agent.client_secret });
  await allowDelegation(t, { agentRole: 'coding-agent', forRole: 'data-scientist', resource: API });
});
afterAll(async () => {
  await t?.stop();
  await db?.drop();
});

async function aliceToken(scope = 'openid ai.prediction.run ai.training.read'): Promise<string> {
  const tokens = await headlessSignIn(appConfig, 'alice@example.com', scope);
  return tokens.access_token;
}

const exchange = (config: oidc.Configuration, subject: string, extra: Record<string, string> = {}) =>
  oidc.genericGrantRequest(config, TOKEN_EXCHANGE, { subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, resource: API, ...extra });

describe('an agent acting for Alice', () => {
  it('gets a token for Alice that names it as actor, verifiable with the JWKS and active at introspection', async () => {
    const subject = await aliceToken();
    const res = await exchange(agentConfig, subject, { scope: 'ai.prediction.run', requested_token_type: ACCESS_TOKEN_TYPE });
    expect(res.issued_token_type).toBe(ACCESS_TOKEN_TYPE);
    expect(res.token_type).toBe('bearer');
    const { payload, protectedHeader } = await jwtVerify(res.access_token, createRemoteJWKSet(new URL(`${t.issuer}/jwks`)), { issuer: t.issuer, audience: API, typ: 'at+jwt' });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.sub).toMatch(/^usr_/);
    expect(payload.client_id).toBe(agent.client_id);
    expect(payload.act).toEqual({ sub: agent.client_id });
    expect(payload.scope).toBe('ai.prediction.run');
    expect(await isActive(t.issuer, rs, res.access_token)).toBe(true);
  });
});

describe('discovery and the standard client path', () => {
  it('lists the grant type (RFC 8414 grant_types_supported)', async () => {
    const meta = (await (await fetch(`${t.issuer}/.well-known/oauth-authorization-server`)).json()) as { grant_types_supported: string[] };
    expect(meta.grant_types_supported).toContain(TOKEN_EXCHANGE);
    expect(agentConfig.serverMetadata().grant_types_supported).toContain(TOKEN_EXCHANGE);
  });

  it('binds the delegated token to the agent’s DPoP key when it sends a proof (RFC 9449)', async () => {
    const keys = await generateKeyPair('ES256');
    const dpop = oidc.getDPoPHandle(agentConfig, keys);
    const res = await oidc.genericGrantRequest(agentConfig, TOKEN_EXCHANGE, { subject_token: await aliceToken(), subject_token_type: ACCESS_TOKEN_TYPE, resource: API }, { DPoP: dpop });
    expect(res.token_type).toBe('dpop');
    const claims = decodeJwt(res.access_token);
    expect((claims.cnf as { jkt?: string }).jkt).toMatch(/^[\w-]{43}$/);
    expect(claims.act).toEqual({ sub: agent.client_id });
  });

  it('carries the person’s authentication, roles and grant, and never outlives the subject token', async () => {
    const subject = await aliceToken();
    const res = await exchange(agentConfig, subject);
    const s = decodeJwt(subject);
    const d = decodeJwt(res.access_token);
    for (const claim of ['sub', 'acr', 'amr', 'auth_time', 'grant_id', 'aud']) expect(d[claim], claim).toEqual(s[claim]);
    expect(d.roles).toEqual(['data-scientist']);
    expect(Number(d.exp)).toBeLessThanOrEqual(Number(s.exp));
    expect(res.expires_in).toBeLessThanOrEqual(Number(s.exp) - Math.floor(Date.now() / 1000) + 1);
  });
});

describe('may_act (RFC 8693 §4.4)', () => {
  let solo: ClientCreds;
  let soloConfig: oidc.Configuration;
  const bobToken = async () => (await headlessSignIn(appConfig, 'bob@example.com', 'openid ai.prediction.run')).access_token;

  beforeAll(async () => {
    await t.cliJson('role', 'create', 'solo-agent', '--description', 'The one agent end users delegate to', '--scopes', 'ai.prediction.run');
    await createUser(t, 'bob@example.com', ['end-user']);
    solo = await createAgent(t, 'Solo Agent', ['solo-agent']);
    soloConfig = await discover(t, { client_id: solo.client_id, client_secret: solo.client_secret });
    await allowDelegation(t, { agentRole: 'solo-agent', forRole: 'end-user', resource: API });
  });

  it('names the one agent allowed to act for the person, and only that agent can exchange the token', async () => {
    const first = await bobToken();
    expect(decodeJwt(first).may_act).toEqual({ sub: solo.client_id });
    expect((await exchange(soloConfig, first)).access_token).toBeTruthy();

    // A second agent allowed later cannot use a token that named the first…
    const second = await createAgent(t, 'Second Agent', ['coding-agent']);
    const secondConfig = await discover(t, { client_id: second.client_id, client_secret: second.client_secret });
    await allowDelegation(t, { agentRole: 'coding-agent', forRole: 'end-user', resource: API });
    const refused = await exchange(secondConfig, first).then(
      () => 'issued',
      (e: { error?: string }) => e.error,
    );
    expect(refused).toBe('invalid_grant');
    // …and tokens issued from now on name nobody (the policies decide), so it can use those.
    const later = await bobToken();
    expect(decodeJwt(later).may_act).toBeUndefined();
    expect((await exchange(secondConfig, later)).access_token).toBeTruthy();
  });

  it('is returned by introspection, as is act', async () => {
    await createUser(t, 'cy@example.com', ['auditor']);
    await t.cliJson('role', 'create', 'log-agent', '--description', 'reads usage logs for auditors', '--scopes', 'ai.usage.log.read');
    const logAgent = await createAgent(t, 'Log Agent', ['log-agent']);
    await allowDelegation(t, { agentRole: 'log-agent', forRole: 'auditor', resource: API });
    const cy = (await headlessSignIn(appConfig, 'cy@example.com', 'openid ai.usage.log.read')).access_token;
    const res = await fetch(`${t.url}/token/introspection`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${rs.client_id}:${rs.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: cy }) });
    expect(await res.json()).toMatchObject({ active: true, may_act: { sub: logAgent.client_id } });
  });
});

// Token exchange (RFC 8693): an agent acting for a person, as a real client does it
// (openid-client genericGrantRequest), the delegated token verified with jose, and judged by
// introspection on every use.
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
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

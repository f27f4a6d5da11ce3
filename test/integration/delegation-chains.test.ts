// Delegation chains (RFC 8693 §4.1): an agent hands a narrower token to a sub-agent; the chain
// is carried as nested `act`, limited by its policies' depth, and every member of it can end it:
// the person, any actor, the delegation, the person's grant.
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE, allowDelegation, createAgent } from '../helpers/agents.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { basic, decodeJwt, type ClientCreds } from '../helpers/oauth.ts';
import { API, createResourceServer, createUser, createWebApp, discover } from '../helpers/people.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let db: TestDatabase;
let t: TestServer;
let rs: ClientCreds;
let appConfig: oidc.Configuration;
const agents: Record<string, { creds: ClientCreds; config: oidc.Configuration }> = {};

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestServer({ db });
  await t.cliJson('init', '--demo');
  await t.cliJson('role', 'create', 'orchestrator', '--description', 'Pipeline orchestrators', '--scopes', 'ai.prediction.run');
  await t.cliJson('role', 'create', 'sub-agent', '--description', 'Workers an orchestrator hands tasks to', '--scopes', 'ai.prediction.run');
  rs = await createResourceServer(t);
  appConfig = await discover(t, await createWebApp(t));
  for (const who of ['alice', 'bea', 'cem', 'dov', 'eli']) await createUser(t, `${who}@example.com`, ['data-scientist']);
  for (const [name, role] of [['orchestrator', 'orchestrator'], ['worker', 'sub-agent'], ['helper', 'sub-agent']] as const) {
    const creds = await createAgent(t, name, [role]);
    agents[name] = { creds, config: await discover(t, { client_id: creds.client_id, client_secret: creds.client_secret }) };
  }
  await allowDelegation(t, { agentRole: 'orchestrator', forRole: 'data-scientist', resource: API, maxDepth: 2 });
  await allowDelegation(t, { agentRole: 'sub-agent', forRole: 'data-scientist', resource: API, scopes: ['ai.prediction.run', 'ai.training.read'], maxDepth: 2 });
});
afterAll(async () => {
  await t?.stop();
  await db?.drop();
});

const agent = (name: string) => agents[name] as { creds: ClientCreds; config: oidc.Configuration };
const personToken = async (email: string) => (await headlessSignIn(appConfig, email, 'openid offline_access ai.prediction.run ai.training.read ai.training.analyze', { extra: { prompt: 'consent' } }));
async function exchange(name: string, subject: string, extra: Record<string, string> = {}): Promise<string> {
  try {
    return (await oidc.genericGrantRequest(agent(name).config, TOKEN_EXCHANGE, { subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, resource: API, ...extra })).access_token;
  } catch (err) {
    const e = err as Error & { error?: string; error_description?: string };
    throw Object.assign(new Error(`${name}: ${e.error ?? ''} ${e.error_description ?? e.message}`), { error: e.error });
  }
}
const refusal = (name: string, subject: string, extra: Record<string, string> = {}) =>
  exchange(name, subject, extra).then(
    () => 'issued',
    (e: Error & { error?: string }) => e.error ?? e.message,
  );
async function introspect(token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${t.url}/token/introspection`, { method: 'POST', headers: { authorization: basic(rs), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) });
  return (await res.json()) as Record<string, unknown>;
}
const active = async (token: string) => (await introspect(token)).active === true;
async function lastAudit(action: string): Promise<{ subject: string | null; actor: string | null; detail: Record<string, unknown> }> {
  await t.server.audit.flush();
  const row = await t.server.db.prisma.auditEvent.findFirst({ where: { action }, orderBy: { seq: 'desc' } });
  if (!row) throw new Error(`no ${action} record`);
  return { subject: row.subject, actor: row.actor, detail: JSON.parse(row.detail) as Record<string, unknown> };
}

describe('a two-hop chain', () => {
  it('nests act, outermost the current actor, narrows scopes, and is judged whole at introspection', async () => {
    const alice = await personToken('alice@example.com');
    const viaOrchestrator = await exchange('orchestrator', alice.access_token);
    expect(decodeJwt(viaOrchestrator).payload.act).toEqual({ sub: agent('orchestrator').creds.client_id });
    expect(decodeJwt(viaOrchestrator).payload.scope).toBe('ai.prediction.run ai.training.analyze ai.training.read');

    const viaWorker = await exchange('worker', viaOrchestrator, { scope: 'ai.prediction.run ai.training.analyze' });
    const claims = decodeJwt(viaWorker).payload;
    expect(claims.sub).toBe(decodeJwt(alice.access_token).payload.sub);
    expect(claims.client_id).toBe(agent('worker').creds.client_id);
    expect(claims.act).toEqual({ sub: agent('worker').creds.client_id, act: { sub: agent('orchestrator').creds.client_id } });
    // The worker's policy does not cover ai.training.analyze: narrowed, not refused.
    expect(claims.scope).toBe('ai.prediction.run');
    // Never longer than the token it came from; the person's grant and authentication carried over.
    expect(Number(claims.exp)).toBeLessThanOrEqual(Number(decodeJwt(viaOrchestrator).payload.exp));
    expect(claims.grant_id).toBe(decodeJwt(alice.access_token).payload.grant_id);
    expect(claims.auth_time).toBe(decodeJwt(alice.access_token).payload.auth_time);

    const seen = await introspect(viaWorker);
    expect(seen).toMatchObject({ active: true, sub: claims.sub, client_id: agent('worker').creds.client_id, act: claims.act });

    const audit = await lastAudit('token.exchanged');
    expect(audit.subject).toBe(claims.sub);
    expect(audit.actor).toBe(agent('worker').creds.client_id);
    expect(audit.detail).toMatchObject({
      grant_type: TOKEN_EXCHANGE,
      jti: claims.jti,
      act: [agent('worker').creds.client_id, agent('orchestrator').creds.client_id],
      subject_token_jti: decodeJwt(viaOrchestrator).payload.jti,
      scopes: ['ai.prediction.run'],
    });
    expect(audit.detail.delegations).toHaveLength(2);
  });

  it('refuses a third hop beyond the policies’ depth, and audits the refusal', async () => {
    const bea = await personToken('bea@example.com');
    const hop1 = await exchange('orchestrator', bea.access_token);
    const hop2 = await exchange('worker', hop1);
    expect(await refusal('helper', hop2)).toBe('invalid_grant');
    const audit = await lastAudit('token.refused');
    expect(audit.detail).toMatchObject({ grant_type: TOKEN_EXCHANGE, error: 'invalid_grant', reason: 'chain_too_deep' });
    expect(audit.subject).toBe(decodeJwt(bea.access_token).payload.sub);

    // "Which agents acted for Bea, on what, when": both hops, and the refused third.
    const history = await t.cliJson<{ events: { outcome: string; agent: { client_id: string }; chain: { client_id: string }[]; jti: string | null; reason: string | null }[] }>('audit', 'delegations', '--user', 'bea@example.com', '--refused');
    expect(history.events.map((e) => [e.outcome, e.agent.client_id, e.chain.map((h) => h.client_id).join('<'), e.jti ?? e.reason])).toEqual([
      ['exchanged', agent('orchestrator').creds.client_id, agent('orchestrator').creds.client_id, decodeJwt(hop1).payload.jti],
      ['exchanged', agent('worker').creds.client_id, `${agent('worker').creds.client_id}<${agent('orchestrator').creds.client_id}`, decodeJwt(hop2).payload.jti],
      ['refused', agent('helper').creds.client_id, agent('helper').creds.client_id, 'chain_too_deep'],
    ]);
  });

  it('never shortens a chain: the current actor may re-exchange to narrow, earlier actors may not come back', async () => {
    const cem = await personToken('cem@example.com');
    const hop1 = await exchange('orchestrator', cem.access_token);
    const hop2 = await exchange('worker', hop1);
    const narrowed = await exchange('worker', hop2, { scope: 'ai.prediction.run' });
    expect(decodeJwt(narrowed).payload.act).toEqual(decodeJwt(hop2).payload.act);
    expect(await refusal('orchestrator', hop2)).toBe('invalid_grant');
  });

  it('revoking the middle actor ends every token of the chain it is part of, and nothing else', async () => {
    const dov = await personToken('dov@example.com');
    const eli = await personToken('eli@example.com');
    const hop1 = await exchange('orchestrator', dov.access_token);
    const hop2 = await exchange('worker', hop1);
    const direct = await exchange('worker', eli.access_token);
    expect(await active(hop2)).toBe(true);

    await t.cliJson('revoke', '--client', agent('orchestrator').creds.client_id, '--reason', 'compromised orchestrator');
    expect(await introspect(hop1)).toEqual({ active: false });
    expect(await introspect(hop2)).toEqual({ active: false });
    // The worker acting for Eli directly does not involve the orchestrator.
    expect(await active(direct)).toBe(true);
    // Dov's own token is unaffected; what was obtained through the orchestrator is not
    // exchangeable any more, and neither is anything the orchestrator may have held before: a
    // subject token issued up to its revocation is covered by it (its source_iat).
    expect(await active(dov.access_token)).toBe(true);
    expect(await refusal('worker', hop1)).toBe('invalid_grant');
    expect(await refusal('orchestrator', dov.access_token)).toBe('invalid_grant');
    expect((await lastAudit('token.refused')).detail.reason).toBe('revoked_client');
  });
});

describe('everything in the chain can end a delegated token', () => {
  it('the person', async () => {
    await createUser(t, 'fay@example.com', ['data-scientist']);
    const token = await exchange('worker', (await personToken('fay@example.com')).access_token);
    expect(await active(token)).toBe(true);
    await t.cliJson('revoke', '--user', 'fay@example.com');
    expect(await active(token)).toBe(false);
  });

  it('the person’s grant (revoking the app’s refresh token, RFC 7009)', async () => {
    await createUser(t, 'gil@example.com', ['data-scientist']);
    const gil = await personToken('gil@example.com');
    const token = await exchange('worker', gil.access_token);
    expect(await active(token)).toBe(true);
    await oidc.tokenRevocation(appConfig, String(gil.refresh_token), { token_type_hint: 'refresh_token' });
    expect(await active(token)).toBe(false);
  });

  it('the delegation: removing the policy', async () => {
    await t.cliJson('role', 'create', 'temp-agent', '--description', 'short-lived', '--scopes', 'ai.prediction.run');
    await createUser(t, 'hal@example.com', ['data-scientist']);
    const temp = await createAgent(t, 'temp', ['temp-agent']);
    agents.temp = { creds: temp, config: await discover(t, { client_id: temp.client_id, client_secret: temp.client_secret }) };
    const policy = await allowDelegation(t, { agentRole: 'temp-agent', forRole: 'data-scientist', resource: API });
    const token = await exchange('temp', (await personToken('hal@example.com')).access_token);
    expect(await active(token)).toBe(true);
    await t.cliJson('delegation', 'remove', policy);
    expect(await active(token)).toBe(false);
  });

  it('the agent’s role', async () => {
    await createUser(t, 'ida@example.com', ['data-scientist']);
    const token = await exchange('helper', (await personToken('ida@example.com')).access_token);
    expect(await active(token)).toBe(true);
    await t.cliJson('revoke', '--role', 'sub-agent');
    expect(await active(token)).toBe(false);
  });
});

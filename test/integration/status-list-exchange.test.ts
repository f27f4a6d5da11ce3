// The token status list and token exchange (RFC 8693): introspection ends a delegated token once
// any token it was exchanged from (its exchanged_from claim) is revoked on its own (RFC 7009 at
// /token/revocation), and the list says so too, at once: the token's audit record names what it
// was exchanged from, and a token's revocation re-judges every live token exchanged from it, at
// any depth of the chain, not at the next full pass minutes later. Tokens of other sign-ins and
// chains stay valid in both. Real server, real database (SQLite or PostgreSQL by DATABASE_URL).
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE, allowDelegation, createAgent } from '../helpers/agents.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { type ClientCreds, decodeJwt, introspectionActive as isActive, waitFor } from '../helpers/oauth.ts';
import { API, createResourceServer, createUser, createWebApp, discover } from '../helpers/people.ts';
import { statusBit } from '../helpers/status-list.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

/** The lists' ttl: what a resource server caching a list waits at most, on top of the flip itself. */
const TTL_MS = 1000;

let db: TestDatabase;
let t: TestServer;
let rs: ClientCreds;
let app: oidc.Configuration;
const agents: Record<string, { creds: ClientCreds; config: oidc.Configuration }> = {};

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestServer({ db, env: { GOVAUTH_STATUS_LIST_TTL: String(TTL_MS / 1000) } });
  await t.cliJson('init', '--demo');
  await t.cliJson('role', 'create', 'orchestrator', '--description', 'Pipeline orchestrators', '--scopes', 'ai.prediction.run');
  await t.cliJson('role', 'create', 'sub-agent', '--description', 'Workers an orchestrator hands tasks to', '--scopes', 'ai.prediction.run');
  rs = await createResourceServer(t);
  app = await discover(t, await createWebApp(t));
  for (const who of ['alice', 'bea']) await createUser(t, `${who}@example.com`, ['data-scientist']);
  for (const [name, role] of [['orchestrator', 'orchestrator'], ['worker', 'sub-agent']] as const) {
    const creds = await createAgent(t, name, [role]);
    agents[name] = { creds, config: await discover(t, creds) };
  }
  await allowDelegation(t, { agentRole: 'orchestrator', forRole: 'data-scientist', resource: API, maxDepth: 2 });
  await allowDelegation(t, { agentRole: 'sub-agent', forRole: 'data-scientist', resource: API, maxDepth: 2 });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await db?.drop();
});

const agent = (name: string) => agents[name] as { creds: ClientCreds; config: oidc.Configuration };
const signIn = async (email: string) => (await headlessSignIn(app, email, 'openid ai.prediction.run ai.training.read', { extra: { prompt: 'consent' } })).access_token;
const exchange = async (name: string, subject: string) =>
  (await oidc.genericGrantRequest(agent(name).config, TOKEN_EXCHANGE, { subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, resource: API })).access_token;
const jtiOf = (token: string) => String(decodeJwt(token).payload.jti);

/** RFC 7009 at /token/revocation, by the client the token was issued to (the web app unless said). */
const revoke = (token: string, by: oidc.Configuration = app) => oidc.tokenRevocation(by, token);

const introspectionActive = (token: string): Promise<boolean> => isActive(t.url, rs, token);

/** Each token's bit and introspection's answer. */
async function verdicts(tokens: Record<string, string>): Promise<Record<string, { bit: number; active: boolean }>> {
  const out: Record<string, { bit: number; active: boolean }> = {};
  for (const [name, token] of Object.entries(tokens)) out[name] = { bit: await statusBit(t.issuer, token), active: await introspectionActive(token) };
  return out;
}

/** Once the list holds every token (from their audit records): all valid, as at introspection. */
async function allValid(tokens: Record<string, string>): Promise<void> {
  await waitFor(() => Promise.resolve(Object.values(tokens).every((token) => t.server.statusLists.knownToken(jtiOf(token))) ? true : undefined), 3000);
  await t.server.statusLists.settled();
  for (const [name, v] of Object.entries(await verdicts(tokens))) expect(v, name).toEqual({ bit: 0, active: true });
}

/**
 * Milliseconds from the revocation starting until the list serves every one of `ended` as 1. The
 * list's safety-net full pass runs every 5 minutes: only the revocation's own re-judging is this fast.
 */
async function flipTime(ended: string[], revocation: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await revocation();
  await waitFor(async () => ((await Promise.all(ended.map((token) => statusBit(t.issuer, token)))).every((bit) => bit === 1) ? true : undefined), 3000, 25);
  return performance.now() - started;
}

describe('a token exchanged from a revoked token', () => {
  it('is inactive at introspection and invalid in the list within the ttl once the person’s token is revoked (RFC 7009); other sign-ins’ tokens stay valid', async () => {
    const subject = await signIn('alice@example.com');
    const exchanged = await exchange('orchestrator', subject);
    expect(decodeJwt(exchanged).payload.exchanged_from).toEqual([jtiOf(subject)]);
    // Alice's other sign-in, and the same agent's token exchanged from it: nothing to do with the first.
    const other = await signIn('alice@example.com');
    const otherExchanged = await exchange('orchestrator', other);
    const held = { subject, exchanged, other, 'other exchanged': otherExchanged };
    await allValid(held);

    const ms = await flipTime([subject, exchanged], () => revoke(subject));
    expect(ms).toBeLessThanOrEqual(TTL_MS);
    expect(await verdicts(held)).toEqual({
      subject: { bit: 1, active: false },
      exchanged: { bit: 1, active: false },
      other: { bit: 0, active: true },
      'other exchanged': { bit: 0, active: true },
    });
    // What the token's audit record names: the tokens it was exchanged from, as its claim does.
    await t.server.audit.flush();
    const records = await t.server.db.prisma.auditEvent.findMany({ where: { action: 'token.exchanged', detail: { contains: jtiOf(exchanged) } } });
    const detail = records.map((r) => JSON.parse(r.detail) as Record<string, unknown>).find((d) => d.jti === jtiOf(exchanged));
    expect(detail).toMatchObject({ subject_token_jti: jtiOf(subject), exchanged_from: [jtiOf(subject)] });
  });

  it('in a two-hop chain: revoking the person’s token ends both exchanged tokens; revoking the middle one ends it and the one exchanged from it', async () => {
    const first = await signIn('bea@example.com');
    const hop1 = await exchange('orchestrator', first);
    const hop2 = await exchange('worker', hop1);
    expect(decodeJwt(hop2).payload).toMatchObject({ act: { sub: agent('worker').creds.client_id, act: { sub: agent('orchestrator').creds.client_id } }, exchanged_from: [jtiOf(hop1), jtiOf(first)] });
    const second = await signIn('bea@example.com');
    const hop1b = await exchange('orchestrator', second);
    const hop2b = await exchange('worker', hop1b);
    const held = { first, hop1, hop2, second, hop1b, hop2b };
    await allValid(held);

    // The first token of a chain, revoked by the app it was issued to.
    expect(await flipTime([first, hop1, hop2], () => revoke(first))).toBeLessThanOrEqual(TTL_MS);
    // The middle of the other chain, revoked by the agent it was issued to: the person's own token stays.
    expect(await flipTime([hop1b, hop2b], () => revoke(hop1b, agent('orchestrator').config))).toBeLessThanOrEqual(TTL_MS);
    expect(await verdicts(held)).toEqual({
      first: { bit: 1, active: false },
      hop1: { bit: 1, active: false },
      hop2: { bit: 1, active: false },
      second: { bit: 0, active: true },
      hop1b: { bit: 1, active: false },
      hop2b: { bit: 1, active: false },
    });
  });
});

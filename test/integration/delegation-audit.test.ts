// "Which agents acted for person P, on what, when": `govauth audit delegations` and
// GET /admin/v1/audit/delegations read the token.exchanged records (and, when asked, the refused
// exchanges) whose subject is that person. The records are appended through the server's real
// audit writer in the shape the token-exchange grant writes them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventView } from '../../src/audit/audit-query.ts';
import type { DelegationHistory } from '../../src/audit/delegation-history.ts';
import { TOKEN_EXCHANGE_GRANT } from '../../src/governance/delegation.ts';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import type { ClientCreds } from '../helpers/oauth.ts';
import { createUser } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const MODELS = 'https://models.example';
const DAY = 86_400_000;

let t: TestServer;
let alice: string;
let bob: string;
let copilot: ClientCreds;
let reviewer: ClientCreds;
let auditorToken: string;
let adminToken: string;

/** What the token-exchange grant records for an exchange (chain: the acting agent first). */
async function exchanged(user: string, chain: string[], extra: { scopes?: string[]; at?: Date; jti?: string } = {}): Promise<string> {
  const jti = extra.jti ?? `jti-${Math.random().toString(36).slice(2)}`;
  const agent = chain[0] ?? '';
  await t.server.audit.record({
    action: 'token.exchanged',
    actorType: 'client',
    actor: agent,
    clientId: agent,
    subject: user,
    ...(extra.at && { at: extra.at }),
    detail: {
      grant_type: TOKEN_EXCHANGE_GRANT,
      jti,
      sub: user,
      client_id: agent,
      aud: MODELS,
      scopes: extra.scopes ?? ['ai.training.read'],
      roles: ['data-scientist'],
      lifetime: 300,
      act: chain,
      delegations: chain.map((_, i) => `dp_policy${i}`),
      subject_token_jti: `subject-of-${jti}`,
      ...(chain.length > 1 && { actor_token_jti: `actor-of-${jti}` }),
    },
  });
  return jti;
}

type Events = DelegationHistory['events'];
const cliReport = (...args: string[]): Promise<DelegationHistory> => t.cliJson<DelegationHistory>('audit', 'delegations', ...args);

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await t.cliJson('role', 'create', 'coding-agent', '--scopes', '');
  alice = await createUser(t, 'alice@example.com', ['data-scientist']);
  bob = await createUser(t, 'bob@example.com', ['data-scientist']);
  copilot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'copilot', '--grant', 'token-exchange', '--roles', 'coding-agent');
  reviewer = await t.cliJson<ClientCreds>('client', 'create', '--name', 'code-reviewer', '--grant', 'token-exchange', '--roles', 'coding-agent');
  const bots = await createAdminBots(t);
  adminToken = await tokenFor(t.url, bots.adminBot);
  auditorToken = await tokenFor(t.url, bots.auditorBot);

  await exchanged(alice, [copilot.client_id], { at: new Date(Date.now() - 10 * DAY), jti: 'old-one' });
  await exchanged(alice, [copilot.client_id], { jti: 'direct' });
  await exchanged(bob, [copilot.client_id], { jti: 'for-bob' });
  await exchanged(alice, [reviewer.client_id, copilot.client_id], { scopes: ['ai.training.read', 'ai.prediction.run'], jti: 'chained' });
  // A refused exchange, a refused refresh and an ordinary sign-in token for alice: only the first is about agents.
  const refusal = { actorType: 'client' as const, actor: reviewer.client_id, clientId: reviewer.client_id, subject: alice, outcome: 'failure' as const };
  await t.server.audit.record({ ...refusal, action: 'token.refused', detail: { grant_type: TOKEN_EXCHANGE_GRANT, error: 'invalid_grant', reason: 'no_delegation', act: [reviewer.client_id] } });
  await t.server.audit.record({ ...refusal, action: 'token.refused', detail: { grant_type: 'refresh_token', error: 'invalid_grant' } });
  await t.server.audit.record({ action: 'token.issued', actorType: 'client', actor: 'cl_app', clientId: 'cl_app', subject: alice, detail: { grant_type: 'authorization_code', jti: 'signin', aud: MODELS, scopes: [] } });
  // An exchange recorded by a client that no longer resolves, with fields missing.
  await t.server.audit.record({ action: 'token.exchanged', actorType: 'client', actor: 'cl_gone', subject: alice, detail: { grant_type: TOKEN_EXCHANGE_GRANT } });
  await t.server.audit.flush();
});
afterAll(() => t?.stop());

describe('govauth audit delegations', () => {
  it('lists the exchanges for a person, oldest first, with the agent, the whole chain, resource, scopes, lifetime and jti', async () => {
    const report = await cliReport('--user', 'alice@example.com');
    expect(report.user).toEqual({ id: alice, email: 'alice@example.com' });
    expect(report.truncated).toBe(false);
    expect(report.events.map((e) => e.jti)).toEqual(['old-one', 'direct', 'chained', null]);
    const chained = report.events[2];
    expect(chained).toEqual({
      seq: expect.any(Number) as number,
      at: expect.any(String) as string,
      outcome: 'exchanged',
      agent: { client_id: reviewer.client_id, name: 'code-reviewer' },
      chain: [
        { client_id: reviewer.client_id, name: 'code-reviewer', delegation: 'dp_policy0' },
        { client_id: copilot.client_id, name: 'copilot', delegation: 'dp_policy1' },
      ],
      resource: MODELS,
      scopes: ['ai.training.read', 'ai.prediction.run'],
      lifetime: 300,
      jti: 'chained',
      subject_token_jti: 'subject-of-chained',
      actor_token_jti: 'actor-of-chained',
      error: null,
      reason: null,
    });
    // A record missing fields is shown as it is, never guessed at.
    expect(report.events[3]).toMatchObject({ agent: { client_id: 'cl_gone', name: null }, chain: [{ client_id: 'cl_gone', name: null, delegation: null }], resource: null, scopes: [], lifetime: null });
  });

  it('accepts the user id, narrows by time, and says when older records were left out', async () => {
    expect((await cliReport('--user', alice)).events.map((e) => e.jti)).toEqual(['old-one', 'direct', 'chained', null]);
    expect((await cliReport('--user', 'ALICE@example.com ', '--since', '7d')).events.map((e) => e.jti)).toEqual(['direct', 'chained', null]);
    expect((await cliReport('--user', alice, '--until', '7d')).events.map((e) => e.jti)).toEqual(['old-one']);
    const limited = await cliReport('--user', alice, '--limit', '2');
    expect(limited.events.map((e) => e.jti)).toEqual(['chained', null]);
    expect(limited.truncated).toBe(true);
    expect((await cliReport('--user', bob)).events.map((e) => [e.jti, e.agent.name])).toEqual([['for-bob', 'copilot']]);
  });

  it('adds refused exchanges with --refused, and never other grants\' refusals or ordinary tokens', async () => {
    const report = await cliReport('--user', alice, '--refused');
    expect(report.events.map((e) => [e.outcome, e.jti ?? e.reason])).toEqual([['exchanged', 'old-one'], ['exchanged', 'direct'], ['exchanged', 'chained'], ['refused', 'no_delegation'], ['exchanged', null]]);
    expect(report.events[3]).toMatchObject({ agent: { client_id: reviewer.client_id, name: 'code-reviewer' }, error: 'invalid_grant', reason: 'no_delegation' });
    const limited = await cliReport('--user', alice, '--refused', '--limit', '1');
    expect(limited.events.map((e) => e.outcome)).toEqual(['exchanged']);
    expect(limited.truncated).toBe(true);
  });

  it('prints a table for people', async () => {
    const r = await t.cli('audit', 'delegations', '--user', 'alice@example.com', '--refused');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`agents acting for alice@example.com (${alice}): 5 exchanges and refusals`);
    expect(lines[1]).toMatch(/^AT\s+OUTCOME\s+AGENT\s+CHAIN \(ACTING FIRST\)\s+RESOURCE\s+SCOPES\s+LIFETIME\s+TOKEN JTI$/);
    expect(lines[4]).toMatch(new RegExp(`exchanged\\s+code-reviewer \\(${reviewer.client_id}\\)\\s+code-reviewer ← copilot\\s+https://models.example\\s+ai.training.read ai.prediction.run\\s+300s\\s+chained$`));
    expect(lines[5]).toMatch(/refused: invalid_grant \(no_delegation\)/);
    const plain = await t.cli('audit', 'delegations', '--user', 'bob@example.com', '--limit', '1');
    expect(plain.stdout.split('\n')[1]).toMatch(/^AT\s+AGENT\s+CHAIN/);
  });

  it('refuses what it cannot answer: unknown people, malformed input, bad limits', async () => {
    const cases: [string[], number, string, RegExp][] = [
      [['--user', 'nobody@example.com'], 1, 'not_found', /no user nobody@example.com/],
      [['--user', 'usr_doesnotexist'], 1, 'not_found', /no user usr_doesnotexist/],
      [['--user', 'alice'], 1, 'invalid_request', /an email address or a user id/],
      [['--user', 'a\u0007b@example.com'], 1, 'invalid_request', /is not an email address/],
      [['--user', `${'x'.repeat(300)}@example.com`], 1, 'invalid_request', /is not an email address/],
      [['--user', alice, '--since', 'yesterday'], 1, 'invalid_request', /--since must be an ISO 8601 time/],
      [['--user', alice, '--limit', '0'], 2, 'usage_error', /--limit must be between 1 and 1000/],
      [['--user', alice, '--limit', '1001'], 2, 'usage_error', /--limit must be between 1 and 1000/],
      [['--user', alice, '--limit', 'many'], 2, 'usage_error', /--limit must be a whole number/],
      [[], 2, 'usage_error', /--user is required/],
    ];
    for (const [args, code, error, message] of cases) {
      const r = await t.cli('audit', 'delegations', ...args, '--json');
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stdout).toBe('');
      const body = JSON.parse(r.stderr) as { error: string; message: string };
      expect(body.error, args.join(' ')).toBe(error);
      expect(body.message).toMatch(message);
    }
  });
});

describe('GET /admin/v1/audit/delegations', () => {
  it('answers the auditor as the CLI does, and records the read under the person', async () => {
    const r = await callAdmin<DelegationHistory>(t.url, auditorToken, 'GET', `/audit/delegations?user=${encodeURIComponent('alice@example.com')}&refused=true&limit=10`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(await cliReport('--user', alice, '--refused', '--limit', '10'));
    await t.server.audit.flush();
    const reads = (await t.cliJson<{ events: AuditEventView[] }>('audit', 'tail', '--action', 'admin_api.read', '--subject', alice)).events;
    expect(reads.at(-1)?.detail).toEqual({ operation: 'auditDelegations', returned: 5, filter: { user: 'alice@example.com', refused: true, limit: 10 } });
    const since = await callAdmin<{ events: Events }>(t.url, adminToken, 'GET', `/audit/delegations?user=${alice}&since=7d`);
    expect(since.body.events.map((e) => e.jti)).toEqual(['direct', 'chained', null]);
  });

  it('refuses bad queries with 400, unknown people with 404, and needs a token', async () => {
    const bad = [
      ['', /user: is required/],
      ['user=alice', /an email address or a user id/],
      [`user=${alice}&limit=0`, /limit: /],
      [`user=${alice}&limit=x`, /limit: must be a whole number/],
      [`user=${alice}&refused=yes`, /refused: /],
      [`user=${alice}&since=soon`, /since: /],
      [`user=${alice}&agent=cl_x`, /agent: unknown parameter/],
      [`user=${encodeURIComponent('a\u0000@example.com')}`, /user: must not contain control characters/],
      [`user=${alice}&user=${bob}`, /user: given more than once/],
    ] as const;
    for (const [query, message] of bad) {
      const r = await callAdmin<{ error: string; error_description: string }>(t.url, auditorToken, 'GET', `/audit/delegations?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.body.error_description).toMatch(message);
    }
    expect((await callAdmin(t.url, auditorToken, 'GET', '/audit/delegations?user=nobody%40example.com')).status).toBe(404);
    expect((await callAdmin(t.url, undefined, 'GET', `/audit/delegations?user=${alice}`)).status).toBe(401);
  });
});

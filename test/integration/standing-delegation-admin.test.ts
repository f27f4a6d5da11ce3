// Administrators and people's standing delegations: `govauth delegation standing list|withdraw`
// and the admin API's GET /users/{email}/delegations, GET /clients/{id}/delegations and
// DELETE /delegations/standing/{delegation_id}. They read and withdraw; only a person gives one
// (the consent page, test/integration/delegation-consent-pages.test.ts). Withdrawals are in
// force on return and recorded with who made them; reads of people's delegations are recorded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantStandingDelegation } from '../../src/governance/standing-delegations.ts';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { API, createUser } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { createAgent } from '../helpers/account-pages.ts';

let t: TestServer;
let agent: string;
let aliceId: string;
let adminToken: string;
let auditorToken: string;

interface View {
  id: string;
  user_email: string;
  client_id: string;
  agent_name: string;
  audience: string;
  scopes: string[];
  expires_at: string | null;
}
interface Listing {
  id: string;
  delegations: View[];
}

/** What the consent page's Allow does, for a person already known to the server. */
async function personGrants(userId: string, scopes: string[], expiresAt: number | null = null): Promise<View> {
  const user = t.server.policy.user(userId);
  if (!user) throw new Error(`no user ${userId}`);
  const view = await grantStandingDelegation(
    t.server.db,
    { snapshot: t.server.policy.snapshot(), user, clientId: agent, audience: API, scopes, expiresAt, mfaFresh: false },
    { actorType: 'user', actor: userId },
    Date.now(),
  );
  await t.server.policy.sync();
  return view;
}

const audit = async (action: string) => (await t.cliJson<{ events: { action: string; actor_type: string; actor: string; subject: string; detail: Record<string, unknown> }[] }>('audit', 'tail', '--action', action)).events;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  aliceId = await createUser(t, 'alice@example.com', ['data-scientist']);
  await createUser(t, 'bob@example.com', ['end-user']);
  agent = await createAgent(t, 'Model Studio Agent');
  const { adminBot, auditorBot } = await createAdminBots(t);
  adminToken = await tokenFor(t.url, adminBot);
  auditorToken = await tokenFor(t.url, auditorBot);
});
afterAll(() => t?.stop());

describe('govauth delegation standing', () => {
  it('lists by person and by agent, as a table and as JSON', async () => {
    const given = await personGrants(aliceId, ['ai.prediction.run'], Date.now() + 86_400_000);
    const byUser = await t.cliJson<Listing>('delegation', 'standing', 'list', '--user', 'Alice@Example.com');
    expect(byUser).toMatchObject({ id: aliceId, delegations: [{ id: given.id, user_email: 'alice@example.com', client_id: agent, agent_name: 'Model Studio Agent', audience: API, scopes: ['ai.prediction.run'] }] });
    const byAgent = await t.cliJson<Listing>('delegation', 'standing', 'list', '--agent', agent);
    expect(byAgent.delegations.map((d) => d.id)).toEqual([given.id]);
    const text = await t.cli('delegation', 'standing', 'list', '--agent', agent);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ID\s+PERSON\s+AGENT\s+RESOURCE\s+SCOPES\s+UNTIL\s+GIVEN/);
    expect(text.stdout).toContain(`Model Studio Agent (${agent})`);
    expect((await t.cli('delegation', 'standing', 'list', '--user', 'bob@example.com')).stdout.trim()).toBe('(none)');
  });

  it('refuses a person or agent that does not exist, and a list naming neither or both', async () => {
    const noUser = await t.cli('delegation', 'standing', 'list', '--user', 'nobody@example.com', '--json');
    expect(noUser.code).toBe(1);
    const failure = JSON.parse(noUser.stderr) as { error: string; message: string };
    expect(failure.error).toBe('not_found');
    expect(failure.message).toContain('no user nobody@example.com');
    const noAgent = await t.cli('delegation', 'standing', 'list', '--agent', 'cl_nobody');
    expect(noAgent.code).toBe(1);
    expect(noAgent.stderr).toContain('no client cl_nobody');
    expect((await t.cli('delegation', 'standing', 'list', '--user', 'not an email')).code).toBe(1);
    for (const args of [[], ['--user', 'alice@example.com', '--agent', agent]]) {
      const r = await t.cli('delegation', 'standing', 'list', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('name exactly one of --user <email> or --agent <client_id>');
    }
  });

  it('withdraws one at once, recorded as the operator’s; refuses an unknown or repeated id', async () => {
    const [given] = (await t.cliJson<Listing>('delegation', 'standing', 'list', '--user', 'alice@example.com')).delegations;
    const out = await t.cliJson<{ withdrawn: View; propagation: { complete: boolean } }>('delegation', 'standing', 'withdraw', given?.id ?? '');
    expect(out.withdrawn).toMatchObject({ id: given?.id, client_id: agent });
    expect(out.propagation.complete).toBe(true);
    expect(t.server.policy.snapshot().delegations.has(given?.id ?? '')).toBe(false);
    expect((await audit('delegation.withdrawn')).at(-1)).toMatchObject({ actor_type: 'cli', subject: given?.id, detail: { withdrawn_by: 'administrator', after: null } });
    for (const id of [given?.id ?? '', 'sd_nothing', '-sd_dashed', 'x'.repeat(300)]) {
      const again = await t.cli('delegation', 'standing', 'withdraw', id);
      expect(again.code, again.stderr).toBe(1);
      expect(again.stderr).toContain('no standing delegation');
    }
    expect((await t.cli('delegation', 'standing', 'withdraw')).code).toBe(2);
  });
});

describe('the admin API', () => {
  it('lists a person’s and an agent’s delegations for the auditor, and records the read', async () => {
    const given = await personGrants(aliceId, ['ai.training.read', 'ai.prediction.run']);
    const byUser = await callAdmin<Listing>(t.url, auditorToken, 'GET', '/users/alice%40example.com/delegations');
    expect(byUser.status).toBe(200);
    expect(byUser.body.delegations).toMatchObject([{ id: given.id, scopes: ['ai.prediction.run', 'ai.training.read'], expires_at: null }]);
    const byAgent = await callAdmin<Listing>(t.url, auditorToken, 'GET', `/clients/${agent}/delegations`);
    expect(byAgent.body).toMatchObject({ id: agent, delegations: [{ id: given.id }] });
    const reads = await audit('admin_api.read');
    expect(reads.map((r) => r.detail.operation)).toEqual(expect.arrayContaining(['listUserStandingDelegations', 'listAgentStandingDelegations']));
  });

  it('answers 404 for an unknown person, agent or delegation, and 403 to an auditor withdrawing', async () => {
    expect((await callAdmin(t.url, auditorToken, 'GET', '/users/nobody%40example.com/delegations')).status).toBe(404);
    expect((await callAdmin(t.url, auditorToken, 'GET', '/users/not-an-email/delegations')).status).toBe(400);
    expect((await callAdmin(t.url, auditorToken, 'GET', '/clients/cl_nobody/delegations')).status).toBe(404);
    expect((await callAdmin(t.url, adminToken, 'DELETE', '/delegations/standing/sd_nothing')).status).toBe(404);
    const [mine] = (await callAdmin<Listing>(t.url, auditorToken, 'GET', '/users/alice%40example.com/delegations')).body.delegations;
    expect((await callAdmin(t.url, auditorToken, 'DELETE', `/delegations/standing/${mine?.id ?? ''}`)).status).toBe(403);
    expect((await callAdmin(t.url, undefined, 'DELETE', `/delegations/standing/${mine?.id ?? ''}`)).status).toBe(401);
  });

  it('withdraws one, in force on every instance when it answers, recorded as the administrator’s', async () => {
    const [mine] = (await callAdmin<Listing>(t.url, auditorToken, 'GET', '/users/alice%40example.com/delegations')).body.delegations;
    const res = await callAdmin<{ withdrawn: View; propagation: { complete: boolean } }>(t.url, adminToken, 'DELETE', `/delegations/standing/${mine?.id ?? ''}`);
    expect(res.status).toBe(200);
    expect(res.body.withdrawn.id).toBe(mine?.id);
    expect(res.body.propagation.complete).toBe(true);
    expect(t.server.policy.snapshot().delegations.has(mine?.id ?? '')).toBe(false);
    expect((await audit('delegation.withdrawn')).at(-1)).toMatchObject({ actor_type: 'admin', subject: mine?.id, detail: { withdrawn_by: 'administrator' } });
    expect((await callAdmin<Listing>(t.url, auditorToken, 'GET', '/users/alice%40example.com/delegations')).body.delegations).toEqual([]);
  });
});

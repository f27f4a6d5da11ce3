// The maintenance sweeps' retention, against a real database (SQLite, or PostgreSQL with
// DATABASE_URL): standing delegations go 30 days after they ended, client networks after 90
// days unused (but never a client's most recent one), each in bounded batches. The clock is
// moved, not waited for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeWithChanges } from '../../src/db/change-feed.ts';
import { CLIENT_NETWORK_KEEP_MS, clientNetworks, pruneClientNetworks } from '../../src/db/client-networks.ts';
import { ENDED_DELEGATION_KEEP_MS, pruneEndedStandingDelegations } from '../../src/governance/standing-delegations.ts';
import type { ClientCreds } from '../helpers/oauth.ts';
import { API, createUser } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const DAY = 86_400_000;
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
}, 60_000);
afterAll(async () => t?.stop());

describe('ended standing delegations', () => {
  let userId: string;
  const agents: string[] = [];
  const delegate = async (id: string, endsInDays: number | null, agent: number): Promise<void> => {
    const now = t.server.db.now();
    await t.server.db.prisma.standingDelegation.create({
      data: { id, userId, clientId: agents[agent] ?? '', audience: API, scopes: '["ai.prediction.run"]', createdAt: new Date(now - 60 * DAY), expiresAt: endsInDays === null ? null : new Date(now + endsInDays * DAY) },
    });
  };
  const remaining = async (): Promise<string[]> => (await t.server.db.prisma.standingDelegation.findMany({ select: { id: true }, orderBy: { id: 'asc' } })).map((d) => d.id);

  beforeAll(async () => {
    userId = await createUser(t, 'dora@example.com', ['end-user']);
    for (let i = 0; i < 6; i++) agents.push((await t.cliJson<ClientCreds>('client', 'create', '--name', `agent-${i}`, '--grant', 'token-exchange')).client_id);
  });

  it('go 30 days after they ended, in bounded batches; younger, open-ended and running ones stay; every instance forgets them', async () => {
    await delegate('sd_ended_40d', -40, 0);
    await delegate('sd_ended_35d', -35, 1);
    await delegate('sd_ended_31d', -31, 2);
    await delegate('sd_ended_29d', -29, 3);
    await delegate('sd_open', null, 4);
    await delegate('sd_running', 10, 5);
    expect(ENDED_DELEGATION_KEEP_MS).toBe(30 * DAY);
    // Written behind the change feed's back: one change row makes every instance load them.
    await writeWithChanges(t.server.db, () => Promise.resolve({ result: null, changes: [{ kind: 'delegation', key: 'sd_ended_40d' }] }));
    await t.server.policy.sync();
    expect(t.server.policy.snapshot().delegations.has('sd_ended_40d')).toBe(true);

    // At most `limit` per run, oldest end first; the next run takes the rest.
    expect(await pruneEndedStandingDelegations(t.server.db, t.server.db.now(), ENDED_DELEGATION_KEEP_MS, 2)).toBe(2);
    expect(await remaining()).toEqual(['sd_ended_29d', 'sd_ended_31d', 'sd_open', 'sd_running']);
    expect(await pruneEndedStandingDelegations(t.server.db, t.server.db.now())).toBe(1);
    expect(await pruneEndedStandingDelegations(t.server.db, t.server.db.now())).toBe(0);
    expect(await remaining()).toEqual(['sd_ended_29d', 'sd_open', 'sd_running']);
    await t.server.policy.sync();
    expect(t.server.policy.snapshot().delegations.has('sd_ended_40d')).toBe(false);
    expect(t.server.policy.snapshot().delegations.has('sd_ended_29d')).toBe(true);
  });
});

describe('client networks', () => {
  const at = (daysAgo: number): Date => new Date(t.server.db.now() - daysAgo * DAY);
  const rows = async (): Promise<string[]> => (await t.server.db.prisma.clientNetwork.findMany({ orderBy: [{ clientId: 'asc' }, { network: 'asc' }] })).map((r) => `${r.clientId} ${r.network}`);

  it('go after 90 days unused, in bounded chunks, but a client keeps its most recently used one', async () => {
    const nets = clientNetworks(t.server.db);
    await nets.add('busy', '192.0.2.0/24', at(200));
    await nets.add('busy', '198.51.100.0/24', at(95));
    await nets.add('busy', '203.0.113.0/24', at(1));
    await nets.add('dormant', '192.0.2.0/24', at(300));
    await nets.add('dormant', '198.51.100.0/24', at(120));
    await nets.add('young', '192.0.2.0/24', at(89));
    for (let i = 0; i < 12; i++) await nets.add('many', `10.${i}.0.0/16`, at(100 + i));
    await nets.add('many', '10.99.0.0/16', at(2));
    expect(CLIENT_NETWORK_KEEP_MS).toBe(90 * DAY);
    const before = at(90);

    // Bounded: one round of 5 deletes 5 of the 15 stale rows, and the rest follow.
    expect(await pruneClientNetworks(t.server.db, before, 5, 1)).toBe(5);
    expect(await pruneClientNetworks(t.server.db, before, 5)).toBe(10);
    expect(await pruneClientNetworks(t.server.db, before)).toBe(0);
    expect(await rows()).toEqual(['busy 203.0.113.0/24', 'dormant 198.51.100.0/24', 'many 10.99.0.0/16', 'young 192.0.2.0/24']);
    // The dormant client's kept network still counts as known: a new one is not its "first".
    expect(await nets.known('dormant', '198.51.100.0/24')).toBe(true);
    expect(await nets.add('dormant', '203.0.113.0/24', at(0))).toBe(true);
    expect(await nets.count('dormant')).toBe(2);
  });

  it('keeps a stale network another instance has just seen', async () => {
    const nets = clientNetworks(t.server.db);
    await nets.add('seen-again', '192.0.2.0/24', at(150));
    await nets.add('seen-again', '198.51.100.0/24', at(100));
    await nets.seen('seen-again', '192.0.2.0/24', at(0));
    await pruneClientNetworks(t.server.db, at(90));
    expect((await rows()).filter((r) => r.startsWith('seen-again'))).toEqual(['seen-again 192.0.2.0/24']);
  });
});

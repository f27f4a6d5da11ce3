// Several instances share one database (PostgreSQL in production; the suite runs on both):
// each notification is delivered exactly once whichever instances race for it, and an event
// claimed by an instance that crashed mid-delivery is taken over when its lease runs out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDueNotifications } from '../../src/db/notification-outbox.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

let db: TestDatabase;
let receiver: WebhookReceiver;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await startWebhookReceiver();
  const options = {
    db,
    notificationPollMs: false as const,
    masterKey: Buffer.alloc(32, 7).toString('base64'),
    env: { GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE: 'true', GOVAUTH_WEBHOOK_URL: receiver.url, GOVAUTH_WEBHOOK_SIGNING: 'jws' },
  };
  a = await startTestServer(options);
  b = await startTestServer(options);
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await db?.drop();
  await receiver?.close();
});

const eventIds = (): string[] => receiver.received.map((r) => (JSON.parse(Buffer.from(r.body.split('.')[1] ?? '', 'base64url').toString()) as { jti: string }).jti);

describe('notifications with several instances', () => {
  it('two instances racing deliver each event exactly once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await a.cliJson<{ client_id: string }>('client', 'create', '--name', `bot-${i}`, '--grant', 'client_credentials')).client_id);
    for (const id of ids) {
      await a.cliJson('client', 'disable', id);
      await a.cliJson('client', 'enable', id);
    }
    receiver.received.length = 0;
    for (let round = 0; round < 4; round++) {
      await Promise.all([a.server.notifications?.deliverDue(), b.server.notifications?.deliverDue(), a.server.notifications?.deliverDue(), b.server.notifications?.deliverDue()]);
    }
    const seen = eventIds();
    expect(seen).toHaveLength(12);
    expect(new Set(seen).size).toBe(12);
    const listed = (await b.cliJson<{ notifications: { status: string }[] }>('notifications', 'list')).notifications;
    expect(listed.filter((n) => n.status === 'delivered')).toHaveLength(12);
  });

  it('an event claimed by an instance that then crashed is delivered by another once the lease runs out', async () => {
    const { client_id: id } = await a.cliJson<{ client_id: string }>('client', 'create', '--name', 'orphan-bot', '--grant', 'client_credentials');
    await a.cliJson('client', 'disable', id);
    receiver.received.length = 0;
    // A crashed instance: it claimed the event (a two-minute lease) and never settled it.
    const now = Date.now();
    const [claimed] = await claimDueNotifications(a.server.db, 'dlv_crashed', new Date(now), new Date(now + 120_000), 10);
    expect(claimed?.type).toBe('client.disabled');
    expect(await b.server.notifications?.deliverDue()).toBe(0); // leased: not taken
    b.advance(120_001);
    expect(await b.server.notifications?.deliverDue()).toBe(1);
    expect(eventIds()).toEqual([claimed?.id]);
  });
});

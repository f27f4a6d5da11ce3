// Notifications as a receiver sees them: an administrator disables a client, and a real webhook
// receiver gets a Security Event Token it verifies with jose against govauth's /jwks (or, with
// HMAC signing, Standard Webhooks headers it checks with the secret). A receiver that fails is
// retried with backoff (the clock is moved, not waited for); one that keeps failing leaves the
// event failed, visible in the CLI, the admin API and the metrics, and a retry sends it.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { parseMetrics, total } from '../helpers/metrics-text.ts';
import { createUser } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

type Listed = { id: string; type: string; status: string; attempts: number; last_error: string | null; next_attempt_at: string | null; data: Record<string, unknown> };

let receiver: WebhookReceiver;
let t: TestServer;
let adminToken: string;
let adminBotId: string;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  t = await startTestServer({
    notificationPollMs: false,
    env: { GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE: 'true', GOVAUTH_WEBHOOK_URL: receiver.url, GOVAUTH_WEBHOOK_SIGNING: 'jws', GOVAUTH_WEBHOOK_MAX_ATTEMPTS: '3' },
  });
  await t.cliJson('init', '--demo');
  const { adminBot } = await createAdminBots(t);
  adminToken = await tokenFor(t.url, adminBot);
  adminBotId = adminBot.client_id;
});
afterAll(async () => {
  await t?.stop();
  await receiver?.close();
});

const deliver = (): Promise<number> => {
  const d = t.server.notifications;
  if (!d) throw new Error('no deliverer: GOVAUTH_WEBHOOK_URL is not set');
  return d.deliverDue();
};
const newClient = async (name: string): Promise<string> => (await t.cliJson<{ client_id: string }>('client', 'create', '--name', name, '--grant', 'client_credentials')).client_id;

/** Verifies a pushed SET (RFC 8417, RFC 8935) as a receiver would, and returns its claims. */
async function verifySet(req: ReceivedRequest) {
  expect(req.headers['content-type']).toBe('application/secevent+jwt');
  expect(decodeProtectedHeader(req.body)).toMatchObject({ alg: 'RS256', typ: 'secevent+jwt' });
  const { payload } = await jwtVerify(req.body, createRemoteJWKSet(new URL(`${t.issuer}/jwks`)), { issuer: t.issuer, audience: receiver.url, typ: 'secevent+jwt' });
  return payload as { jti: string; iat: number; toe: number; events: Record<string, Record<string, unknown>> };
}

describe('webhook notifications signed as Security Event Tokens', () => {
  it('a disabled client is announced once, in a SET that verifies against /jwks; enabling it is announced too', async () => {
    const id = await newClient('payments-bot');
    receiver.received.length = 0;
    await t.cliJson('client', 'disable', id);
    await t.cliJson('client', 'disable', id); // no change: no news
    expect(await deliver()).toBe(1);
    expect(receiver.received).toHaveLength(1);
    const set = await verifySet(receiver.received[0] as ReceivedRequest);
    expect(set.jti).toMatch(/^evt_/);
    expect(set.events).toEqual({ 'urn:govauth:event:client.disabled': { client_id: id, by: { type: 'cli', id: expect.any(String) as string } } });
    expect(Math.abs(set.toe * 1000 - Date.now())).toBeLessThan(60_000);

    await t.cliJson('client', 'enable', id);
    expect(await deliver()).toBe(1);
    const enabled = await verifySet(receiver.received[1] as ReceivedRequest);
    expect(Object.keys(enabled.events)).toEqual(['urn:govauth:event:client.enabled']);
    expect(enabled.jti).not.toBe(set.jti);
    expect(await deliver()).toBe(0); // both delivered: nothing is sent twice
  });

  it('the admin API disabling a client is announced with the administering client as the actor', async () => {
    const id = await newClient('etl-bot');
    receiver.received.length = 0;
    const r = await callAdmin(t.url, adminToken, 'POST', `/clients/${id}/disable`);
    expect(r.status).toBe(200);
    await deliver();
    const set = await verifySet(receiver.received[0] as ReceivedRequest);
    expect(set.events['urn:govauth:event:client.disabled']).toEqual({ client_id: id, by: { type: 'admin', id: adminBotId } });
  });

  it('a disabled person is announced by user id, never by email; enabling them too', async () => {
    const userId = await createUser(t, 'carol@example.com', []);
    receiver.received.length = 0;
    await t.cliJson('user', 'disable', 'carol@example.com');
    await t.cliJson('user', 'enable', 'carol@example.com');
    expect(await deliver()).toBe(2);
    const sets = await Promise.all(receiver.received.map(verifySet));
    expect(sets.map((x) => x.events)).toEqual([
      { 'urn:govauth:event:user.disabled': { user_id: userId, by: { type: 'cli', id: expect.any(String) as string } } },
      { 'urn:govauth:event:user.enabled': { user_id: userId, by: { type: 'cli', id: expect.any(String) as string } } },
    ]);
    expect(JSON.stringify(sets)).not.toContain('carol');
  });

  it('an access request is announced as it is filed, approved and granted, from the CLI process, by ids only', async () => {
    await t.cliJson('role', 'create', 'request-approver', '--scopes', 'ai.usage.log.read', '--description', 'Approves access requests');
    const requesterId = await createUser(t, 'rita@example.com', ['end-user']);
    await createUser(t, 'abe@example.com', ['request-approver']);
    await t.cliJson('requests', 'policy', 'set', 'data-scientist', '--approver-role', 'request-approver', '--approvals', '1', '--max', '8h');
    receiver.received.length = 0;
    const { request } = await t.cliJson<{ request: { id: string } }>('requests', 'create', '--user', 'rita@example.com', '--role', 'data-scientist', '--for', '2h', '--justification', 'INC-7 model rollback');
    await t.cliJson('requests', 'approve', request.id, '--as', 'abe@example.com');
    expect(await deliver()).toBe(3);
    const events = (await Promise.all(receiver.received.map(verifySet))).map((x) => x.events);
    const holder = { type: 'user', id: requesterId };
    expect(events).toEqual([
      { 'urn:govauth:event:access_request.requested': { request_id: request.id, role: 'data-scientist', holder } },
      { 'urn:govauth:event:access_request.approved': { request_id: request.id, role: 'data-scientist', holder } },
      { 'urn:govauth:event:access_request.granted': { request_id: request.id, role: 'data-scientist', holder, grant_expires_at: expect.any(String) as string } },
    ]);
    expect(JSON.stringify(events)).not.toMatch(/rita|abe@|INC-7/);
  });

  it('a receiver failing twice gets the event on the third attempt, after backoff; each attempt is signed', async () => {
    const id = await newClient('retry-bot');
    receiver.received.length = 0;
    receiver.answer(503, 503);
    await t.cliJson('client', 'disable', id);
    expect(await deliver()).toBe(1); // attempt 1: 503
    expect(await deliver()).toBe(0); // not due yet: backoff
    let [n] = (await t.cliJson<{ notifications: Listed[] }>('notifications', 'list')).notifications;
    expect(n).toMatchObject({ status: 'pending', attempts: 1, last_error: expect.stringMatching(/^HTTP 503/) as string });
    const wait1 = Date.parse(n?.next_attempt_at ?? '') - Date.now();
    expect(wait1).toBeGreaterThan(4_000); // 10 s with jitter in [0.5, 1)
    expect(wait1).toBeLessThanOrEqual(10_000);
    t.advance(10_001);
    expect(await deliver()).toBe(1); // attempt 2: 503
    t.advance(20_001);
    expect(await deliver()).toBe(1); // attempt 3: 202
    [n] = (await t.cliJson<{ notifications: Listed[] }>('notifications', 'list')).notifications;
    expect(n).toMatchObject({ status: 'delivered', attempts: 3, type: 'client.disabled', data: { client_id: id } });
    expect(receiver.received.map((r) => r.status)).toEqual([503, 503, 202]);
    const sets = await Promise.all(receiver.received.map(verifySet));
    expect(new Set(sets.map((s) => s.jti)).size).toBe(1); // the same event: the receiver deduplicates on jti
  });

  it('a receiver that keeps failing leaves the event failed: CLI, admin API and metrics say so; a retry sends it', async () => {
    const id = await newClient('doomed-bot');
    receiver.always(500);
    await t.cliJson('client', 'disable', id);
    await deliver();
    t.advance(10_001);
    await deliver();
    t.advance(20_001);
    await deliver();
    receiver.always(undefined);

    const failed = (await t.cliJson<{ notifications: Listed[] }>('notifications', 'list', '--failed')).notifications;
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ status: 'failed', attempts: 3, next_attempt_at: null, last_error: expect.stringMatching(/^HTTP 500: .*unavailable/) as string, data: { client_id: id } });
    const text = await t.cli('notifications', 'list', '--failed');
    expect(text.stdout).toMatch(new RegExp(`${failed[0]?.id}\\s+client\\.disabled\\s+failed\\s+3`));

    const api = await callAdmin<{ notifications: Listed[] }>(t.url, adminToken, 'GET', '/notifications?failed=true');
    expect(api.status).toBe(200);
    expect(api.body.notifications.map((n) => n.id)).toEqual([failed[0]?.id]);
    const metrics = parseMetrics(await t.server.metrics.registry.metrics());
    expect(total(metrics, 'govauth_notifications', { status: 'failed' })).toBe(1);
    expect(total(metrics, 'govauth_notification_attempts_total', { outcome: 'failed' })).toBe(1);
    expect(total(metrics, 'govauth_notification_attempts_total', { outcome: 'retry' })).toBeGreaterThanOrEqual(4);

    const retried = await t.cliJson<{ notification: Listed }>('notifications', 'retry', failed[0]?.id ?? '');
    expect(retried.notification).toMatchObject({ status: 'pending', attempts: 0 });
    receiver.received.length = 0;
    expect(await deliver()).toBe(1);
    expect((await verifySet(receiver.received[0] as ReceivedRequest)).jti).toBe(failed[0]?.id);
    expect((await t.cliJson<{ notifications: Listed[] }>('notifications', 'list', '--failed')).notifications).toEqual([]);
    const audit = await t.cliJson<{ events: { action: string; subject: string }[] }>('audit', 'tail', '--action', 'admin.notification.retry');
    expect(audit.events.map((e) => e.subject)).toContain(failed[0]?.id);
  });

  it('never follows a redirect: a 307 is a failed attempt, retried at the configured URL', async () => {
    const id = await newClient('redirect-bot');
    receiver.received.length = 0;
    receiver.answer(307);
    await t.cliJson('client', 'disable', id);
    expect(await deliver()).toBe(1);
    const [n] = (await t.cliJson<{ notifications: Listed[] }>('notifications', 'list')).notifications;
    expect(n).toMatchObject({ status: 'pending', attempts: 1, last_error: expect.stringMatching(/^HTTP 307 \(redirects are not followed\)/) as string });
    t.advance(10_001);
    expect(await deliver()).toBe(1);
    expect(receiver.received.map((r) => r.status)).toEqual([307, 202]); // both at the receiver: nothing went to the Location
  });

  it('refuses a retry of what has not failed, a malformed id and an unknown one, with the right statuses', async () => {
    const delivered = (await t.cliJson<{ notifications: Listed[] }>('notifications', 'list')).notifications.find((n) => n.status === 'delivered');
    const conflict = await callAdmin<{ error: string; error_description: string }>(t.url, adminToken, 'POST', `/notifications/${delivered?.id}/retry`);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error_description).toMatch(/is delivered, not failed/);
    expect((await callAdmin(t.url, adminToken, 'POST', '/notifications/not-an-id/retry')).status).toBe(400);
    expect((await callAdmin(t.url, adminToken, 'POST', `/notifications/evt_${'x'.repeat(22)}/retry`)).status).toBe(404);
    expect((await callAdmin(t.url, adminToken, 'POST', `/notifications/${encodeURIComponent("evt_'; DROP TABLE x;--")}/retry`)).status).toBe(400);
    expect((await callAdmin(t.url, adminToken, 'GET', '/notifications?limit=0')).status).toBe(400);
    expect((await callAdmin(t.url, adminToken, 'GET', '/notifications?failed=maybe')).status).toBe(400);
    expect((await callAdmin(t.url, undefined, 'GET', '/notifications')).status).toBe(401);
    const cli = await t.cli('notifications', 'retry', `evt_${'y'.repeat(22)}`);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/no notification evt_y+/);
  });
});

describe('webhook notifications signed with HMAC (Standard Webhooks)', () => {
  let hmacReceiver: WebhookReceiver;
  let h: TestServer;
  const key = randomBytes(32);

  beforeAll(async () => {
    hmacReceiver = await startWebhookReceiver();
    h = await startTestServer({
      notificationPollMs: false,
      env: { GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE: 'true', GOVAUTH_WEBHOOK_URL: hmacReceiver.url, GOVAUTH_WEBHOOK_SIGNING: 'hmac', GOVAUTH_WEBHOOK_SECRET: `whsec_${key.toString('base64')}` },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await hmacReceiver?.close();
  });

  it('sends the JSON event with webhook-id, webhook-timestamp and a v1 signature the receiver checks', async () => {
    const { client_id: id } = await h.cliJson<{ client_id: string }>('client', 'create', '--name', 'hmac-bot', '--grant', 'client_credentials');
    await h.cliJson('client', 'disable', id);
    await h.server.notifications?.deliverDue();
    const [req] = hmacReceiver.received;
    if (!req) throw new Error('nothing received');
    const msgId = String(req.headers['webhook-id']);
    const timestamp = String(req.headers['webhook-timestamp']);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(300); // a receiver refuses older ones: replays
    const expected = createHmac('sha256', key).update(`${msgId}.${timestamp}.${req.body}`).digest();
    const given = Buffer.from(String(req.headers['webhook-signature']).replace(/^v1,/, ''), 'base64');
    expect(given.length === expected.length && timingSafeEqual(given, expected)).toBe(true);
    const event = JSON.parse(req.body) as Record<string, unknown>;
    expect(event).toEqual({ id: msgId, type: 'client.disabled', occurred_at: expect.stringMatching(/^\d{4}-/) as string, issuer: h.issuer, data: { client_id: id, by: { type: 'cli', id: expect.any(String) as string } } });
    // A body altered in transit no longer matches.
    const forged = createHmac('sha256', key).update(`${msgId}.${timestamp}.${req.body.replace('client.disabled', 'client.enabled')}`).digest();
    expect(timingSafeEqual(given, forged)).toBe(false);
  });
});

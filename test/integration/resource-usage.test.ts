// Usage reports (POST /resource-usage) from a resource server, on a real server: each event is a
// `resource.request` audit record with the server as actor; a request accepted with a token
// govauth knows names the token's subject and moves the access review's "last used" of the scopes
// it used, only forward in time, and only for tokens of the reporting server's own resource.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { API, createResourceServer } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let rs: ClientCreds;
let otherRs: ClientCreds;
let bot: ClientCreds;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  rs = await createResourceServer(t);
  await t.cliJson('resource', 'create', 'https://data.example', '--name', 'Data API', '--scopes', 'ai.usage.log.read');
  otherRs = await t.cliJson<ClientCreds>('client', 'create', '--name', 'data-api', '--resource', 'https://data.example', '--introspect');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  await t.server.policy.sync();
});
afterAll(() => t?.stop());

async function botToken(): Promise<{ token: string; jti: string }> {
  const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API, scope: 'ai.prediction.run ai.training.read' }, { basic: bot });
  const token = String(res.body.access_token);
  return { token, jti: String(decodeJwt(token).payload.jti) };
}
const report = (creds: ClientCreds | undefined, body: unknown) =>
  fetch(`${t.url}/resource-usage`, { method: 'POST', headers: { 'content-type': 'application/json', ...(creds && { authorization: basic(creds) }) }, body: JSON.stringify(body) });
const requests = () => t.server.db.prisma.auditEvent.findMany({ where: { action: 'resource.request' }, orderBy: { seq: 'asc' } });
const lastUsed = async (scope: string) =>
  (await t.server.db.prisma.scopeUsage.findUnique({ where: { principalType_principalId_scope: { principalType: 'client', principalId: bot.client_id, scope } } }))?.lastUsedAt.getTime();

describe('usage reports', () => {
  it('become audit records naming the token’s subject, and move "last used" of the scopes used', async () => {
    const { jti } = await botToken();
    const issuedAt = (await lastUsed('ai.prediction.run')) ?? 0;
    const at = Date.now() + 5; // after issuance, not in the future once the record is written
    await new Promise((r) => setTimeout(r, 20));
    const res = await report(rs, {
      events: [
        { jti, route: '/v1/predict', decision: 'allowed', status: 200, at, scope: ['ai.prediction.run'] },
        { jti: null, route: '/v1/predict', decision: 'refused', status: 401, at, reason: 'invalid_token' },
        { jti: 'x'.repeat(43), route: '/v1/train', decision: 'refused', status: 403, at, scope: ['ai.training.analyze'], reason: 'insufficient_scope' },
      ],
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 3 });
    const [allowed, anonymous, unknown] = (await requests()).slice(-3);
    expect(allowed).toMatchObject({ actorType: 'client', actor: rs.client_id, clientId: rs.client_id, subject: bot.client_id, outcome: 'success' });
    expect(JSON.parse(allowed?.detail ?? '{}')).toEqual({
      jti,
      route: '/v1/predict',
      decision: 'allowed',
      status: 200,
      occurred_at: new Date(at).toISOString(),
      scope: ['ai.prediction.run'],
      token_client_id: bot.client_id,
    });
    expect(anonymous).toMatchObject({ subject: null, outcome: 'denied' });
    expect(JSON.parse(anonymous?.detail ?? '{}')).toMatchObject({ jti: null, reason: 'invalid_token' });
    expect(unknown).toMatchObject({ subject: null, outcome: 'denied' });
    expect(await lastUsed('ai.prediction.run')).toBe(at);
    expect(at).toBeGreaterThan(issuedAt);
    // The review reads the same row.
    const review = await t.cliJson<{ principals: { id: string; scopes: { scope: string; last_used_at: string | null }[] }[] }>('review');
    const entry = review.principals.find((p) => p.id === bot.client_id);
    expect(entry?.scopes.find((s) => s.scope === 'ai.prediction.run')?.last_used_at).toBe(new Date(at).toISOString());
  });

  it('accepts client_secret_post credentials in the body', async () => {
    const res = await report(undefined, { client_id: rs.client_id, client_secret: rs.client_secret, events: [{ jti: null, route: '/', decision: 'refused', status: 401, at: Date.now() }] });
    expect(res.status).toBe(202);
  });

  it('never moves "last used" back, counts only scopes the token carries, and attributes no other resource’s token', async () => {
    const { jti } = await botToken();
    const now = Date.now();
    expect((await report(rs, { events: [{ jti, route: '/a', decision: 'allowed', status: 200, at: now, scope: ['ai.prediction.run'] }] })).status).toBe(202);
    const old = now - 3600_000;
    const res = await report(rs, { events: [{ jti, route: '/b', decision: 'allowed', status: 200, at: old, scope: ['ai.prediction.run', 'ai.deploy.manage'] }] });
    expect(res.status).toBe(202);
    expect(await lastUsed('ai.prediction.run')).toBe(now);
    expect(await lastUsed('ai.deploy.manage')).toBeUndefined();
    const [late] = (await requests()).slice(-1);
    expect(JSON.parse(late?.detail ?? '{}')).toMatchObject({ scope: ['ai.prediction.run'], scope_not_in_token: ['ai.deploy.manage'] });
    // Another resource server reporting this token: recorded, but attributed to nobody.
    expect((await report(otherRs, { events: [{ jti, route: '/c', decision: 'allowed', status: 200, at: Date.now(), scope: ['ai.prediction.run'] }] })).status).toBe(202);
    const [foreign] = (await requests()).slice(-1);
    expect(foreign).toMatchObject({ actor: otherRs.client_id, subject: null });
    expect(await lastUsed('ai.prediction.run')).toBe(now);
  });

  it('accepts an empty batch', async () => {
    const res = await report(rs, { events: [] });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 0 });
  });
});

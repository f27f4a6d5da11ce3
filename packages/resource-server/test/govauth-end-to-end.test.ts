// The kit against a real govauth, end to end: a token revoked in govauth is refused by the API
// within the status list's ttl without any call per request, a delegated token's chain reaches
// the handler, and the usage the API reports lands in govauth's audit trail and access review.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourceServer, type ResourceServer } from '../src/index.ts';
import { startApp, type App } from './helpers/apps.ts';
import { API, startGovauth, type Govauth } from './helpers/govauth.ts';

const TTL_SECONDS = 1;
let g: Govauth;
let kit: ResourceServer;
let app: App;
let statusFetches = 0;

beforeAll(async () => {
  g = await startGovauth({ GOVAUTH_STATUS_LIST_TTL: String(TTL_SECONDS) });
  kit = createResourceServer({
    issuer: g.t.issuer,
    audience: API,
    // govauth gives every access token a status entry: a token without one is refused.
    statusList: { required: true },
    client: { id: g.rs.client_id, secret: g.rs.client_secret },
    usage: { intervalMs: 1000 },
    fetch: (input, init) => {
      if (String(input instanceof Request ? input.url : input).includes('/statuslists/')) statusFetches++;
      return fetch(input, init);
    },
  });
  app = await startApp('express', kit);
});
afterAll(async () => {
  await app?.close();
  await kit?.close();
  await g?.t.stop();
});

const predict = (token: string) => fetch(`${app.url}/predict`, { headers: { authorization: `Bearer ${token}` } });

describe('revocation through the token status list', () => {
  it('refuses a revoked token within the list ttl (plus govauth’s propagation), calling govauth per list, not per request', async () => {
    const token = await g.token();
    expect((await predict(token)).status).toBe(200);
    const fetchesBefore = statusFetches;
    for (let i = 0; i < 20; i++) expect((await predict(token)).status).toBe(200);
    expect(statusFetches - fetchesBefore).toBeLessThanOrEqual(2);

    const revokedAt = Date.now();
    await g.t.cliJson('revoke', '--client', g.bot.client_id, '--reason', 'end-to-end test');
    let refusedAfter = -1;
    while (Date.now() - revokedAt < 10_000) {
      const res = await predict(token);
      if (res.status === 401) {
        refusedAfter = Date.now() - revokedAt;
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(refusedAfter, 'the revoked token was never refused').toBeGreaterThanOrEqual(0);
    // The list's ttl, one policy poll on govauth's side, and the kit's background refetch.
    expect(refusedAfter).toBeLessThan(TTL_SECONDS * 1000 + 1500);
    // A token issued after the revocation is fine.
    expect((await predict(await g.token())).status).toBe(200);
  });
});

describe('usage reports', () => {
  it('land in govauth’s audit trail, naming the token, and mark its scope as used', async () => {
    const token = await g.token('ai.prediction.run');
    const jti = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { jti: string };
    expect((await predict(token)).status).toBe(200);
    await kit.close(); // flushes the queue
    await g.t.server.audit.flush();
    const rows = await g.t.server.db.prisma.auditEvent.findMany({ where: { action: 'resource.request', actor: g.rs.client_id } });
    const mine = rows.map((r) => JSON.parse(r.detail) as { jti?: string; decision?: string; status?: number }).filter((d) => d.jti === jti.jti);
    expect(mine).toEqual([expect.objectContaining({ decision: 'allowed', status: 200 })]);
    const usage = await g.t.server.db.prisma.scopeUsage.findUnique({ where: { principalType_principalId_scope: { principalType: 'client', principalId: g.bot.client_id, scope: 'ai.prediction.run' } } });
    expect(usage?.lastUsedAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe('a DPoP-bound token from govauth (RFC 9449)', () => {
  it('is refused without a proof of its key (a stolen copy), accepted with one', async () => {
    const oidc = await import('openid-client');
    const config = await oidc.discovery(new URL(g.t.issuer), g.bot.client_id, g.bot.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const tokens = await oidc.clientCredentialsGrant(config, { resource: API }, { DPoP: dpop });
    expect(tokens.token_type).toBe('dpop');
    expect((await predict(tokens.access_token)).status).toBe(401);
    const res = await oidc.fetchProtectedResource(config, tokens.access_token, new URL(`${app.url}/predict`), 'GET', undefined, undefined, { DPoP: dpop });
    expect(res.status).toBe(200);
  });
});

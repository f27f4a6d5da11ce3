// A bot gets governed RS256 JWT access tokens (RFC 9068) over real HTTP, verified with jose
// against the server's JWKS and obtained with openid-client as a real client would.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const API = 'https://models.example';
let t: TestServer;
let bot: ClientCreds;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'training-bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  await t.server.policy.sync();
});
afterAll(() => t?.stop());

describe('client_credentials', () => {
  it('issues an RS256 at+jwt that verifies against the JWKS with every RFC 9068 claim', async () => {
    const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: bot });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'ai.prediction.run ai.training.analyze ai.training.read' });

    const jwks = createRemoteJWKSet(new URL(`${t.url}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(String(res.body.access_token), jwks, {
      issuer: t.issuer,
      audience: API,
      typ: 'at+jwt',
      algorithms: ['RS256'],
      requiredClaims: ['iss', 'sub', 'aud', 'client_id', 'scope', 'jti', 'iat', 'exp'],
    });
    expect(protectedHeader.kid).toBeTruthy();
    expect(payload).toMatchObject({ sub: bot.client_id, client_id: bot.client_id, roles: ['data-scientist'] });
    expect(payload.exp! - payload.iat!).toBe(300);
  });

  it('accepts client_secret_post as well as client_secret_basic', async () => {
    const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { post: bot });
    expect(res.status).toBe(200);
  });

  it('works with openid-client v6 as a real client would (discovery, then the grant)', async () => {
    const config = await oidc.discovery(new URL(t.issuer), bot.client_id, bot.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'ai.training.read', resource: API });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('ai.training.read');
    expect(decodeJwt(tokens.access_token).payload.aud).toBe(API);
  });

  it('grants requested ∩ role scopes ∩ resource scopes, and says which in `scope`', async () => {
    const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API, scope: 'ai.training.read ai.deploy.manage openid' }, { basic: bot });
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('ai.training.read');
    expect(decodeJwt(String(res.body.access_token)).payload.scope).toBe('ai.training.read');
  });

  it('answers invalid_scope when nothing requested is granted', async () => {
    const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API, scope: 'ai.deploy.manage' }, { basic: bot });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_scope');
  });

  it('answers invalid_target for an unknown resource, a relative one, and more than one', async () => {
    for (const resource of ['https://unknown.example', 'not-a-uri', [API, 'https://unknown.example']]) {
      const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource }, { basic: bot });
      expect(res.status, JSON.stringify(resource)).toBe(400);
      expect(res.body.error).toBe('invalid_target');
    }
  });

  it('uses the only resource the client holds scopes on when the request names none', async () => {
    const res = await tokenRequest(t.url, { grant_type: 'client_credentials' }, { basic: bot });
    expect(res.status).toBe(200);
    expect(decodeJwt(String(res.body.access_token)).payload.aud).toBe(API);
  });

  it('caps the lifetime at the smallest of resource TTL and scope max TTLs', async () => {
    await t.cliJson('resource', 'update', API, '--token-ttl', '240');
    await t.cliJson('scope', 'update', 'ai.training.analyze', '--max-ttl', '120');
    await t.server.policy.sync();
    const broad = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: bot });
    expect(broad.body.expires_in).toBe(120);
    const narrow = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API, scope: 'ai.training.read' }, { basic: bot });
    expect(narrow.body.expires_in).toBe(240);
    const { payload } = decodeJwt(String(narrow.body.access_token));
    expect(Number(payload.exp) - Number(payload.iat)).toBe(240);
    await t.cliJson('resource', 'update', API, '--token-ttl', 'none');
    await t.cliJson('scope', 'update', 'ai.training.analyze', '--max-ttl', 'none');
  });

  it('applies role changes made with the CLI to the next token, without a restart', async () => {
    await t.cliJson('role', 'update', 'data-scientist', '--scopes', 'ai.training.read');
    const { value, ms } = await pollToken((scope) => scope === 'ai.training.read');
    expect(value).toBe('ai.training.read');
    expect(ms).toBeLessThan(1000);
    await t.cliJson('role', 'update', 'data-scientist', '--scopes', 'ai.training.read,ai.training.analyze,ai.prediction.run');
    await pollToken((scope) => scope === 'ai.prediction.run ai.training.analyze ai.training.read');
  });
});

describe('client authentication', () => {
  it('answers 401 invalid_client for a wrong secret, an unknown client and no credentials', async () => {
    const wrong = await tokenRequest(t.url, { grant_type: 'client_credentials' }, { basic: { ...bot, client_secret: 'nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    const unknown = await tokenRequest(t.url, { grant_type: 'client_credentials' }, { basic: { client_id: 'cl_unknown', client_secret: 'x' } });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toBe('invalid_client');
    // RFC 6749 §5.2: "no client authentication included" is invalid_client too.
    const none = await tokenRequest(t.url, { grant_type: 'client_credentials' });
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('invalid_client');
  });

  it('stops the old secret at once after rotation and accepts the new one', async () => {
    const c = await t.cliJson<ClientCreds>('client', 'create', '--name', 'rotating-bot', '--grant', 'client_credentials', '--roles', 'end-user');
    await t.server.policy.sync();
    expect((await tokenRequest(t.url, { grant_type: 'client_credentials' }, { basic: c })).status).toBe(200);
    const rotated = await t.cliJson<ClientCreds>('client', 'rotate-secret', c.client_id);
    await t.server.policy.sync();
    expect((await tokenRequest(t.url, { grant_type: 'client_credentials' }, { basic: c })).status).toBe(401);
    expect((await tokenRequest(t.url, { grant_type: 'client_credentials' }, { basic: rotated })).status).toBe(200);
  });

  it('refuses a disabled client and accepts it again once enabled', async () => {
    const c = await t.cliJson<ClientCreds>('client', 'create', '--name', 'paused-bot', '--grant', 'client_credentials', '--roles', 'end-user');
    await t.cliJson('client', 'disable', c.client_id);
    await t.server.policy.sync();
    const res = await tokenRequest(t.url, { grant_type: 'client_credentials' }, { basic: c });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    await t.cliJson('client', 'enable', c.client_id);
    await t.server.policy.sync();
    expect((await tokenRequest(t.url, { grant_type: 'client_credentials' }, { basic: c })).status).toBe(200);
  });

  it('refuses client_credentials for a client registered only to introspect', async () => {
    const rs = await t.cliJson<ClientCreds>('client', 'create', '--name', 'model-api', '--resource', API, '--introspect');
    await t.server.policy.sync();
    const res = await tokenRequest(t.url, { grant_type: 'client_credentials' }, { basic: rs });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unauthorized_client');
  });
});

async function pollToken(done: (scope: string) => boolean): Promise<{ value: string; ms: number }> {
  const started = performance.now();
  for (;;) {
    const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: bot });
    const scope = String(res.body.scope);
    if (done(scope)) return { value: scope, ms: performance.now() - started };
    if (performance.now() - started > 3000) throw new Error(`still ${scope} after 3 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

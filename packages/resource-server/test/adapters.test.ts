// Each adapter (Express, Koa, Fastify, node:http) on a real HTTP server, protecting routes with
// tokens a real govauth issues: the handler sees the verified claims; refusals carry RFC 6750 §3
// challenges with RFC 9728 §5.1 resource_metadata; the metadata document is served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headlessSignIn } from '../../../test/helpers/headless-sign-in.ts';
import { createUser, createWebApp, discover } from '../../../test/helpers/people.ts';
import { createResourceServer, type ResourceServer } from '../src/index.ts';
import { FRAMEWORKS, startApp, type App } from './helpers/apps.ts';
import { API, startGovauth, type Govauth } from './helpers/govauth.ts';
import { rawRequest } from './helpers/raw-http.ts';

let g: Govauth;
let kit: ResourceServer;
let botToken: string;

beforeAll(async () => {
  g = await startGovauth();
  kit = createResourceServer({ issuer: g.t.issuer, audience: API });
  botToken = await g.token();
});
afterAll(() => g?.t.stop());

const METADATA = 'https://models.example/.well-known/oauth-protected-resource';

describe.each(FRAMEWORKS)('%s', (framework) => {
  let app: App;
  beforeAll(async () => {
    app = await startApp(framework, kit);
  });
  afterAll(() => app?.close());

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${app.url}${path}`, { headers });

  it('lets a govauth token through and shows the handler its claims', async () => {
    const res = await get('/predict', { authorization: `Bearer ${botToken}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      sub: g.bot.client_id,
      client_id: g.bot.client_id,
      scopes: ['ai.prediction.run', 'ai.training.analyze', 'ai.training.read'],
      roles: ['data-scientist'],
      scheme: 'Bearer',
    });
  });

  it('accepts the scheme name in any case (RFC 9110 §11.1)', async () => {
    expect((await get('/predict', { authorization: `bEaReR ${botToken}` })).status).toBe(200);
  });

  it('answers a request without a token 401 with the challenges and no error code (RFC 6750 §3.1)', async () => {
    const res = await get('/predict');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${METADATA}", DPoP resource_metadata="${METADATA}", algs="ES256 ES384 ES512 PS256 PS384 PS512 RS256 EdDSA Ed25519"`,
    );
    expect(res.headers.get('cache-control')).toBe('no-store');
    // Another scheme is no credentials this kit understands: the same answer.
    expect((await get('/predict', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` })).headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata=/);
  });

  it('answers a forged or foreign token 401 invalid_token', async () => {
    const [h, p] = botToken.split('.');
    for (const token of [`${h}.${p}.${'A'.repeat(342)}`, 'not-a-jwt', `${h}.${Buffer.from(JSON.stringify({ sub: 'x' })).toString('base64url')}.sig`]) {
      const res = await get('/predict', { authorization: `Bearer ${token}` });
      expect(res.status, token).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(new RegExp(`^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="${METADATA}", DPoP`));
      expect(await res.json()).toMatchObject({ error: 'invalid_token' });
    }
  });

  it('answers a token without the route’s scope 403 insufficient_scope naming the scope needed', async () => {
    const res = await get('/deploy', { authorization: `Bearer ${botToken}` });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", error_description="The access token lacks a scope this resource needs", scope="ai.deploy.manage", resource_metadata="${METADATA}", DPoP resource_metadata="${METADATA}", algs="ES256 ES384 ES512 PS256 PS384 PS512 RS256 EdDSA Ed25519"`,
    );
    expect(await res.json()).toEqual({ error: 'insufficient_scope', error_description: 'The access token lacks a scope this resource needs' });
  });

  it('answers 400 invalid_request for a token in the URI, two Authorization headers, or a malformed header', async () => {
    const query = await get(`/predict?access_token=${botToken}`);
    expect(query.status).toBe(400);
    expect(await query.json()).toMatchObject({ error: 'invalid_request' });
    expect((await get(`/predict?access_token=${botToken}`, { authorization: `Bearer ${botToken}` })).status).toBe(400);
    expect((await get('/predict', { authorization: 'Bearer a b' })).status).toBe(400);
    expect((await get('/predict', { authorization: 'Bearer' })).status).toBe(400);
    const twice = await rawRequest(app.url, ['GET /predict HTTP/1.1', `Authorization: Bearer ${botToken}`, `Authorization: Bearer ${botToken}`]);
    expect(twice.status).toBe(400);
    expect(twice.body).toContain('invalid_request');
  });

  it('refuses a token in a form body (RFC 6750 §2.2 is not offered)', async () => {
    if (framework === 'koa' || framework === 'node') return; // no body parser mounted in these apps
    const res = await fetch(`${app.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ access_token: botToken }) });
    expect(res.status).toBe(400);
  });

  it('serves the protected resource metadata (RFC 9728 §3) naming govauth', async () => {
    const res = await get('/.well-known/oauth-protected-resource');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      resource: API,
      authorization_servers: [g.t.issuer],
      scopes_supported: ['ai.deploy.manage', 'ai.prediction.run'],
      bearer_methods_supported: ['header'],
      dpop_signing_alg_values_supported: ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'EdDSA', 'Ed25519'],
    });
  });
});

describe('a person’s token', () => {
  it('reaches the handler with the person’s roles, and an expired or other-audience token does not', async () => {
    const t = g.t;
    await createUser(t, 'ada@example.com', ['end-user']);
    const web = await discover(t, await createWebApp(t));
    const tokens = await headlessSignIn(web, 'ada@example.com', 'openid ai.prediction.run');
    const app = await startApp('express', kit);
    try {
      const res = await fetch(`${app.url}/predict`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ sub: expect.stringMatching(/^usr_/) as string, roles: ['end-user'], scopes: ['ai.prediction.run'] });

      const other = createResourceServer({ issuer: t.issuer, audience: 'https://datasets.example' });
      const decision = await other.authorize({ method: 'GET', url: '/', headers: { authorization: [`Bearer ${tokens.access_token}`] } }, other.route());
      expect(decision.ok ? 'accepted' : decision.refusal.description).toBe('The access token is for another audience');

      const later = createResourceServer({ issuer: t.issuer, audience: API, now: () => Date.now() + 3600_000 });
      const expired = await later.authorize({ method: 'GET', url: '/', headers: { authorization: [`Bearer ${tokens.access_token}`] } }, later.route());
      expect(expired.ok ? 'accepted' : expired.refusal.description).toBe('The access token has expired');
    } finally {
      await app.close();
    }
  });
});

// DPoP (RFC 9449) end to end: govauth binds a client_credentials token to the client's key when
// it sends a proof (openid-client's DPoP handle), and the kit accepts it only with a fresh proof
// from that key for this request and this token. Every §4.3 check is exercised with a proof
// made by hand.
import { generateKeyPair, exportJWK, SignJWT, type CryptoKey, type GenerateKeyPairResult, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discover } from '../../../test/helpers/people.ts';
import { createResourceServer, type ResourceServer } from '../src/index.ts';
import { accessTokenHash } from '../src/dpop.ts';
import { FRAMEWORKS, startApp, type App } from './helpers/apps.ts';
import { API, startGovauth, type Govauth } from './helpers/govauth.ts';
import { rawRequest } from './helpers/raw-http.ts';

let g: Govauth;
let kit: ResourceServer;
let config: oidc.Configuration;
let keys: GenerateKeyPairResult;
let bound: string;

beforeAll(async () => {
  g = await startGovauth();
  kit = createResourceServer({ issuer: g.t.issuer, audience: API });
  config = await discover(g.t, g.bot);
  keys = await generateKeyPair('ES256', { extractable: true });
  const tokens = await oidc.clientCredentialsGrant(config, { resource: API }, { DPoP: oidc.getDPoPHandle(config, keys) });
  expect(tokens.token_type).toBe('dpop');
  bound = tokens.access_token;
});
afterAll(() => g?.t.stop());

describe.each(FRAMEWORKS)('%s with openid-client', (framework) => {
  let app: App;
  beforeAll(async () => {
    app = await startApp(framework, kit);
  });
  afterAll(() => app?.close());

  it('accepts the DPoP-bound token with a proof, on GET and POST, and says the scheme', async () => {
    const dpop = oidc.getDPoPHandle(config, keys);
    for (const method of ['GET', 'POST'] as const) {
      const res = await oidc.fetchProtectedResource(config, bound, new URL(`${app.url}/predict?q=1`), method, method === 'POST' ? '{}' : undefined, new Headers({ 'content-type': 'application/json' }), { DPoP: dpop });
      expect(res.status, method).toBe(200);
      expect(await res.json()).toMatchObject({ client_id: g.bot.client_id, scheme: 'DPoP' });
    }
  });

  it('refuses the bound token presented as a Bearer token (RFC 9449 §7.2), in the DPoP challenge', async () => {
    const res = await fetch(`${app.url}/predict`, { headers: { authorization: `Bearer ${bound}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata="[^"]+", DPoP error="invalid_token", error_description="The access token is DPoP-bound: present it with the DPoP scheme and a proof", resource_metadata="[^"]+", algs="ES256 /);
  });
});

type ProofOptions = { htm?: string; htu?: string; ath?: string | null; iat?: number; jti?: string; header?: Record<string, unknown>; claims?: Record<string, unknown>; key?: CryptoKey; jwk?: JWK };

async function proof(url: string, o: ProofOptions = {}): Promise<string> {
  const jwk = o.jwk ?? (await exportJWK(keys.publicKey));
  const claims: Record<string, unknown> = {
    htm: o.htm ?? 'GET',
    htu: o.htu ?? url,
    iat: o.iat ?? Math.floor(Date.now() / 1000),
    jti: o.jti ?? crypto.randomUUID(),
    ...(o.ath === null ? {} : { ath: o.ath ?? accessTokenHash(bound) }),
    ...o.claims,
  };
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...o.header }).sign(o.key ?? keys.privateKey);
}

describe('each proof check (RFC 9449 §4.3)', () => {
  let app: App;
  let url: string;
  beforeAll(async () => {
    app = await startApp('node', kit);
    url = `${app.url}/predict`;
  });
  afterAll(() => app?.close());

  const call = async (dpop: string | string[] | undefined, scheme = 'DPoP', token = bound) => {
    const headers = new Headers({ authorization: `${scheme} ${token}` });
    for (const p of [dpop ?? []].flat()) headers.append('dpop', p);
    const res = await fetch(url, { headers });
    return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '', body: (await res.json()) as { error?: string; error_description: string } };
  };
  const refusedWith = async (p: string | string[] | undefined, error: string, description: RegExp) => {
    const r = await call(p);
    expect(r.status).toBe(401);
    expect(r.body.error).toBe(error);
    expect(r.body.error_description).toMatch(description);
    expect(r.challenge).toContain(`DPoP error="${error}"`);
  };

  it('accepts a good proof once and refuses its replay', async () => {
    const p = await proof(url);
    expect((await call(p)).status).toBe(200);
    await refusedWith(p, 'invalid_dpop_proof', /used before/);
  });

  it('normalises htu: scheme and host case, default port, query and fragment are not compared', async () => {
    const u = new URL(url);
    expect((await call(await proof(url, { htu: `HTTP://${u.host.toUpperCase()}${u.pathname}?x=1#frag` }))).status).toBe(200);
  });

  it('refuses a missing proof, two proofs, and a malformed one', async () => {
    await refusedWith(undefined, 'invalid_dpop_proof', /required/);
    const two = await rawRequest(app.url, ['GET /predict HTTP/1.1', `Authorization: DPoP ${bound}`, `DPoP: ${await proof(url)}`, `DPoP: ${await proof(url)}`]);
    expect(two.status).toBe(401);
    expect(two.body).toContain('More than one DPoP header');
    await refusedWith('not.a.jwt', 'invalid_dpop_proof', /not a JWT|signature/);
  });

  it('refuses a proof for another method, another URL, another token, or without ath', async () => {
    await refusedWith(await proof(url, { htm: 'POST' }), 'invalid_dpop_proof', /another method/);
    await refusedWith(await proof(url, { htu: `${app.url}/deploy` }), 'invalid_dpop_proof', /another URL/);
    await refusedWith(await proof(url, { htu: 'https://models.example/predict' }), 'invalid_dpop_proof', /another URL/);
    await refusedWith(await proof(url, { ath: accessTokenHash('another') }), 'invalid_dpop_proof', /another access token/);
    await refusedWith(await proof(url, { ath: null }), 'invalid_dpop_proof', /another access token/);
  });

  it('refuses an old proof, one from the future, and one without jti', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refusedWith(await proof(url, { iat: now - 120 }), 'invalid_dpop_proof', /too old/);
    await refusedWith(await proof(url, { iat: now + 60 }), 'invalid_dpop_proof', /too old|future/);
    await refusedWith(await proof(url, { claims: { jti: undefined } }), 'invalid_dpop_proof', /jti/);
  });

  it('refuses the wrong typ, a symmetric or unlisted algorithm, a private key in the header, and a bad signature', async () => {
    await refusedWith(await proof(url, { header: { typ: 'JWT' } }), 'invalid_dpop_proof', /typ/);
    const hs = await new SignJWT({ htm: 'GET', htu: url, iat: Math.floor(Date.now() / 1000), jti: 'x' })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } as JWK })
      .sign(new TextEncoder().encode('secret'));
    await refusedWith(hs, 'invalid_dpop_proof', /algorithm/);
    const privateJwk = await exportJWK(keys.privateKey);
    await refusedWith(await proof(url, { jwk: privateJwk }), 'invalid_dpop_proof', /public key/);
    const other = await generateKeyPair('ES256');
    // Signed by another key than the one in the header.
    await refusedWith(await proof(url, { key: other.privateKey }), 'invalid_dpop_proof', /signature/);
  });

  it('refuses a proof from a key the token is not bound to, as invalid_token (RFC 9449 §7.1)', async () => {
    const other = await generateKeyPair('ES256', { extractable: true });
    await refusedWith(await proof(url, { key: other.privateKey, jwk: await exportJWK(other.publicKey) }), 'invalid_token', /key binding/);
  });

  it('refuses a token that is not DPoP-bound presented with the DPoP scheme', async () => {
    const bearer = await g.token();
    const r = await call(await proof(url, { ath: accessTokenHash(bearer) }), 'DPoP', bearer);
    expect(r.status).toBe(401);
    expect(r.body.error_description).toMatch(/not DPoP-bound/);
  });

  it('with dpop.required, refuses Bearer tokens and says so in the metadata', async () => {
    const strict = createResourceServer({ issuer: g.t.issuer, audience: API, dpop: { required: true, algorithms: ['ES256'] } });
    const decision = await strict.authorize({ method: 'GET', url: '/', headers: { authorization: [`Bearer ${await g.token()}`] } }, strict.route());
    expect(decision.ok ? 'accepted' : decision.refusal.headers['www-authenticate']).toMatch(/DPoP error="invalid_token", error_description="This resource server accepts DPoP-bound access tokens only", resource_metadata="[^"]+", algs="ES256"$/);
    expect(strict.metadata()).toMatchObject({ dpop_signing_alg_values_supported: ['ES256'], dpop_bound_access_tokens_required: true });
  });
});

// private_key_jwt with keys published at a jwks_uri (RFC 7523 §2.2, RFC 7591 §2): govauth
// fetches them server-side through src/oidc/outbound-fetch.ts, from an https server in the test
// (test/helpers/https-fixture-server.ts) reached with the development allowance and a test CA.
// Every URL rule is refused at registration, and every failed fetch is a 401 invalid_client that
// says why, never a 500.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/main.ts';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { startHttpsFixtureServer, type HttpsFixtureServer } from '../helpers/https-fixture-server.ts';
import { API } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
let t: TestServer;
let fixture: HttpsFixtureServer;

interface Key {
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly kid: string;
}
async function key(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' }, kid };
}
const jwksOf = (...keys: Key[]) => ({ keys: keys.map((k) => k.publicJwk) });

function assertion(k: Key, clientId: string, audience: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: clientId, sub: clientId, aud: audience, jti: randomUUID(), iat: now, exp: now + 60 }).setProtectedHeader({ alg: 'ES256', kid: k.kid }).sign(k.privateKey);
}
async function tokenWith(server: TestServer, k: Key, clientId: string) {
  const res = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: API, client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(k, clientId, server.issuer) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
/** A bot whose keys are at `path` on the fixture server. */
async function botAt(path: string): Promise<string> {
  const created = await t.cliJson<{ client_id: string; client_secret: string | null }>('client', 'create', '--name', `bot ${path}`, '--grant', 'client_credentials', '--roles', 'data-scientist', '--jwks-uri', `${fixture.url}${path}`);
  await t.server.policy.sync();
  return created.client_id;
}

beforeAll(async () => {
  fixture = await startHttpsFixtureServer();
  t = await startTestServer({ env: { ...fixture.fetchEnv } });
  await t.cliJson('init', '--demo');
});
afterAll(async () => {
  await t?.stop();
  await fixture?.close();
});

describe('registration', () => {
  it('creates a keyed client without a secret and shows where its keys are, in the CLI, the admin API and the access review', async () => {
    const k = await key('shown-1');
    fixture.serve('/shown.jwks', { body: jwksOf(k) });
    const created = await t.cliJson<{ client_id: string; client_secret: string | null }>('client', 'create', '--name', 'shown-bot', '--grant', 'client_credentials', '--roles', 'data-scientist', '--jwks-uri', `${fixture.url}/shown.jwks`);
    expect(created.client_secret).toBeNull();
    expect((await t.cli('client', 'show', created.client_id)).stdout).toContain(`private_key_jwt (no secret; keys fetched from ${fixture.url}/shown.jwks)`);
    const { adminBot } = await createAdminBots(t);
    const admin = await tokenFor(t.url, adminBot);
    const view = await callAdmin<{ client: Record<string, unknown> }>(t.url, admin, 'GET', `/clients/${created.client_id}`);
    expect(view.body.client).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', jwks: null, jwks_uri: `${fixture.url}/shown.jwks`, public: false, secret: null });
    const review = await t.cliJson<{ principals: { id: string; auth_method: string; jwks_uri: string | null }[] }>('review');
    expect(review.principals.find((p) => p.id === created.client_id)).toMatchObject({ auth_method: 'private_key_jwt', jwks_uri: `${fixture.url}/shown.jwks` });
    // The admin API applies the same rules.
    const refused = await callAdmin<{ error: string; error_description: string }>(t.url, admin, 'POST', '/clients', { name: 'api-bot', grants: ['client_credentials'], jwks_uri: 'http://keys.example/jwks' });
    expect(refused.status).toBe(400);
    expect(refused.body.error_description).toContain('must use https');
  });

  // Without the development allowance, as in production.
  const plainEnv = () => Object.fromEntries(Object.entries(t.env).filter(([name]) => !name.startsWith('GOVAUTH_OUTBOUND_FETCH_')));
  const refusals: [string, string][] = [
    ['http://keys.example/jwks.json', 'must use https'],
    ['https://10.0.0.1/jwks.json', 'special-use address (10.0.0.1)'],
    ['https://127.0.0.1/jwks.json', 'special-use address (127.0.0.1)'],
    ['https://[::1]/jwks.json', 'special-use address ([::1])'],
    ['https://169.254.169.254/latest/meta-data', 'special-use address (169.254.169.254)'],
    ['https://[::ffff:127.0.0.1]/jwks.json', 'special-use address'],
    ['https://0x7f.1/jwks.json', 'special-use address (127.0.0.1)'],
    ['https://localhost/jwks.json', 'must not point at the local host'],
    ['https://user:pw@keys.example/jwks.json', 'must not contain credentials'],
    ['https://keys.example/jwks.json#k', 'must not contain a fragment'],
    ['not a url', 'is not an absolute URL'],
  ];
  for (const [uri, message] of refusals) {
    it(`refuses --jwks-uri ${uri}`, async () => {
      const r = await runCli(['client', 'create', '--name', 'x', '--grant', 'client_credentials', '--jwks-uri', uri], plainEnv());
      expect(r.code, r.stdout).not.toBe(0);
      expect(r.stderr).toContain(message);
    });
  }

  it('the development allowance lets a loopback URL through, never http', async () => {
    expect((await t.cli('client', 'create', '--name', 'dev', '--grant', 'client_credentials', '--jwks-uri', 'https://127.0.0.1:1/jwks.json')).code).toBe(0);
    const http = await t.cli('client', 'create', '--name', 'dev', '--grant', 'client_credentials', '--jwks-uri', 'http://127.0.0.1:1/jwks.json');
    expect(http.stderr).toContain('must use https');
  });

  it('takes the keys one way: not both --jwks-file and --jwks-uri, not on a public client or a resource server', async () => {
    const both = await t.cli('client', 'create', '--name', 'x', '--grant', 'client_credentials', '--jwks-file', '/nonexistent.json', '--jwks-uri', `${fixture.url}/x`);
    expect(both.code).not.toBe(0);
    const rs = await t.cli('client', 'create', '--name', 'x', '--resource', API, '--introspect', '--jwks-uri', `${fixture.url}/x`);
    expect(rs.stderr).toContain('--jwks-uri applies to clients that obtain tokens');
  });
});

describe('authentication with keys fetched from the jwks_uri', () => {
  it('client_credentials with openid-client PrivateKeyJwt; the set is fetched once and cached', async () => {
    const k = await key('oc-1');
    fixture.serve('/oc.jwks', { body: jwksOf(k), headers: { 'cache-control': 'max-age=300' } });
    const id = await botAt('/oc.jwks');
    const config = await oidc.discovery(new URL(t.issuer), id, undefined, oidc.PrivateKeyJwt({ key: k.privateKey, kid: k.kid }), { execute: [oidc.allowInsecureRequests] });
    const first = await oidc.clientCredentialsGrant(config, { resource: API, scope: 'ai.training.read' });
    expect(first.scope).toBe('ai.training.read');
    await oidc.clientCredentialsGrant(config, { resource: API, scope: 'ai.training.read' });
    expect(fixture.hits('/oc.jwks')).toBe(1);
  });

  describe('key rotation at the jwks_uri', () => {
    afterEach(() => void vi.useRealTimers());
    it('a new kid is picked up once the cached set is stale (its max-age, at least 60 s); the removed key then stops working', async () => {
      const [oldKey, newKey] = [await key('rot-1'), await key('rot-2')];
      fixture.serve('/rot.jwks', { body: jwksOf(oldKey), headers: { 'cache-control': 'max-age=0' } });
      const id = await botAt('/rot.jwks');
      expect((await tokenWith(t, oldKey, id)).status).toBe(200);

      fixture.serve('/rot.jwks', { body: jwksOf(newKey) });
      // Still within the cache's lifetime: the unknown kid is not fetched for yet.
      const early = await tokenWith(t, newKey, id);
      expect(early.status).toBe(401);
      expect(early.body.error).toBe('invalid_client');
      expect(fixture.hits('/rot.jwks')).toBe(1);

      // oidc-provider's cache reads Date: move it past the minimum lifetime.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 61_000 });
      const later = await tokenWith(t, newKey, id);
      expect(later.status, JSON.stringify(later.body)).toBe(200);
      expect(fixture.hits('/rot.jwks')).toBe(2);
      const retired = await tokenWith(t, oldKey, id);
      expect(retired.status).toBe(401);
      expect(retired.body.error).toBe('invalid_client');
    });
  });
});

describe('failed fetches: 401 invalid_client with the reason, never a 500', () => {
  const k = { current: undefined as Key | undefined };
  beforeAll(async () => void (k.current = await key('hostile-1')));
  const big = () => ({ keys: [{ ...k.current?.publicJwk, padding: 'x'.repeat(20_000) }] });

  const cases: [string, () => void, string][] = [
    ['a redirect to another host', () => fixture.serve('/moved.jwks', { status: 302, headers: { location: 'https://keys.elsewhere.example/jwks.json' } }), 'redirects are not followed (HTTP 302 to keys.elsewhere.example)'],
    ['a redirect on the same host', () => fixture.serve('/same.jwks', { status: 301, headers: { location: '/oc.jwks' } }), 'redirects are not followed (HTTP 301'],
    ['an oversize set (Content-Length)', () => fixture.serve('/big.jwks', { body: big() }), 'larger than the limit'],
    ['an oversize set (chunked)', () => fixture.serve('/chunked.jwks', { body: big(), chunked: true }), 'larger than the limit'],
    ['a server slower than the time limit', () => fixture.serve('/slow.jwks', { body: jwksOf(k.current as Key), delayMs: 5000 }), 'no complete response within 2500 ms'],
    ['a 404', () => undefined, 'answered 404 Not Found'],
    ['a response that is not JSON', () => fixture.serve('/html.jwks', { body: '<html>' }), 'not JSON'],
    ['JSON that is not a JWK Set', () => fixture.serve('/notset.jwks', { body: { hello: 'world' } }), 'not a usable JWK Set'],
  ];
  const paths = ['/moved.jwks', '/same.jwks', '/big.jwks', '/chunked.jwks', '/slow.jwks', '/missing.jwks', '/html.jwks', '/notset.jwks'];
  cases.forEach(([name, serve, reason], i) => {
    it(name, async () => {
      serve();
      const id = await botAt(paths[i] ?? '');
      const started = performance.now();
      const res = await tokenWith(t, k.current as Key, id);
      expect(res.status, JSON.stringify(res.body)).toBe(401);
      expect(res.body.error).toBe('invalid_client');
      expect(res.body.error_description).toContain("the JWK Set at the client's jwks_uri could not be used");
      expect(res.body.error_description).toContain(reason);
      expect(performance.now() - started).toBeLessThan(4000);
    });
  });

  it('a private address without the development allowance (a second server on the same database)', async () => {
    const good = await key('private-1');
    fixture.serve('/private.jwks', { body: jwksOf(good) });
    const id = await botAt('/private.jwks');
    expect((await tokenWith(t, good, id)).status).toBe(200); // reachable with the allowance
    // The test CA is still trusted, so only the address rule can refuse.
    const strict = await startTestServer({ db: t.db, masterKey: t.env.GOVAUTH_MASTER_KEY, env: { GOVAUTH_OUTBOUND_FETCH_CA_FILE: fixture.caFile } });
    try {
      const res = await tokenWith(strict, good, id);
      expect(res.status, JSON.stringify(res.body)).toBe(401);
      expect(res.body.error).toBe('invalid_client');
      expect(res.body.error_description).toContain('must not point at a private, loopback, link-local or other special-use address (127.0.0.1)');
      expect(fixture.hits('/private.jwks')).toBe(1);
    } finally {
      await strict.stop();
    }
  });
});

// Adversarial suite: tokens govauth did not issue, or did not issue for this use, are never
// honoured, at RFC 7662 introspection (a resource server's credentials) nor at the admin API
// (govauth's own tokens as bearer tokens). Each forgery copies the claims of a genuine token,
// so the attack is the only thing wrong with it, and the genuine token is checked first: every
// test fails if the defence it names is missing.
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { basic, decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { API, createUser, createWebApp, discover, createResourceServer } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { attackerKey, hmacSigned, parts, rsaSigned, serverJwks, spkiDer, spkiPem, startAttackerServer, withSignature, type Claims } from './helpers/tokens.ts';

const ADMIN = 'urn:govauth:admin';
const DATASETS = 'https://datasets.example';
const INVALID_TOKEN = 'Bearer realm="govauth", error="invalid_token"';

let t: TestServer;
let rs: ClientCreds;
let datasetsRs: ClientCreds;
let bot: ClientCreds;
let adminBot: ClientCreds;
let config: oidc.Configuration;
/** Genuine tokens: a bot's for https://models.example and an admin bot's for the admin API. */
let modelsToken: string;
let adminToken: string;

async function tokenFor(server: TestServer, creds: ClientCreds, resource: string): Promise<string> {
  const res = await tokenRequest(server.url, { grant_type: 'client_credentials', resource }, { basic: creds });
  if (res.status !== 200) throw new Error(`token request failed: ${JSON.stringify(res.body)}`);
  return String(res.body.access_token);
}

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await t.cliJson('scope', 'create', 'datasets.read', '--description', 'Read datasets');
  await t.cliJson('resource', 'create', DATASETS, '--name', 'Dataset store', '--scopes', 'datasets.read');
  rs = await createResourceServer(t);
  datasetsRs = await t.cliJson<ClientCreds>('client', 'create', '--name', 'dataset-store', '--resource', DATASETS, '--introspect');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'training-bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  adminBot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'ops-bot', '--grant', 'client_credentials', '--roles', 'govauth-admin', '--admin-access');
  await createUser(t, 'lena@example.com', ['data-scientist']);
  const app = await createWebApp(t);
  await t.server.policy.sync();
  config = await discover(t, app);
  modelsToken = await tokenFor(t, bot, API);
  adminToken = await tokenFor(t, adminBot, ADMIN);
});
afterAll(() => t?.stop());

async function introspect(token: string, caller: ClientCreds = rs, server: TestServer = t): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/token/introspection`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(caller) },
    body: new URLSearchParams({ token }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** RFC 7662 §2.2: an unusable token is `{"active":false}` and nothing else. */
async function expectInactive(token: string, caller: ClientCreds = rs): Promise<void> {
  const r = await introspect(token, caller);
  expect(r.status, token.slice(0, 60)).toBe(200);
  expect(r.body, token.slice(0, 60)).toEqual({ active: false });
}

async function adminCall(token: string, server: TestServer = t): Promise<{ status: number; challenge: string | null; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/admin/v1/roles`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: (await res.json()) as Record<string, unknown> };
}

/** RFC 6750 §3.1: 401 invalid_token with the challenge. */
async function expectAdminRefused(token: string): Promise<void> {
  const r = await adminCall(token);
  expect(r.status, token.slice(0, 60)).toBe(401);
  expect(r.challenge).toBe(INVALID_TOKEN);
  expect(r.body.error).toBe('invalid_token');
}

/** Builds each forgery twice: from the models token (introspection) and the admin token. */
async function expectRefusedEverywhere(forge: (genuine: { header: Claims; payload: Claims; signature: string }) => string | Promise<string>): Promise<void> {
  await expectInactive(await forge(parts(modelsToken)));
  await expectAdminRefused(await forge(parts(adminToken)));
}

describe('forged tokens', () => {
  it('accepts the genuine tokens every forgery is built from (the control)', async () => {
    expect((await introspect(modelsToken)).body).toMatchObject({ active: true, aud: API, client_id: bot.client_id });
    expect((await adminCall(adminToken)).status).toBe(200);
  });

  it('alg none (any spelling, with or without a signature part) is inactive and 401 at the admin API', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      await expectRefusedEverywhere(({ header, payload }) => withSignature({ ...header, alg }, payload));
      await expectRefusedEverywhere(({ header, payload, signature }) => withSignature({ ...header, alg }, payload, signature));
    }
  });

  it('HS256/384/512 keyed with the server RSA public key (PEM, DER, JWK n bytes, JWK JSON) is inactive: no algorithm confusion', async () => {
    const [jwk] = await serverJwks(t.url);
    if (!jwk?.n) throw new Error('no RSA key in the JWKS');
    const pem = spkiPem(jwk);
    // The key material a confused verifier might feed to HMAC (CVE-2016-10555 and variants).
    for (const key of [pem, pem.trim(), spkiDer(jwk), Buffer.from(jwk.n, 'base64url'), JSON.stringify(jwk)]) {
      for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
        await expectRefusedEverywhere(({ header, payload }) => hmacSigned({ ...header, alg }, payload, key));
      }
    }
  });

  it('an unknown kid and injected kid values (path traversal, SQL, 5 kB) are inactive, never a 5xx', async () => {
    const attacker = await attackerKey();
    const [real] = await serverJwks(t.url);
    const injected = ['not-ours', '../../etc/passwd', '/dev/null', "' OR 1=1 --", '"; DROP TABLE "SigningKey"; --', 'x'.repeat(5 * 1024), ''];
    for (const kid of injected) {
      await expectRefusedEverywhere(({ header, payload }) => rsaSigned(attacker.privateKey, { ...header, kid }, payload));
      // The genuine signature under the rewritten kid: the header is signed too, so a tamper.
      await expectRefusedEverywhere(({ header, payload, signature }) => withSignature({ ...header, kid }, payload, signature));
    }
    // Our own kid on a token signed with the attacker's key.
    await expectRefusedEverywhere(({ header, payload }) => rsaSigned(attacker.privateKey, { ...header, kid: real?.kid }, payload));
  });

  it('a 10 kB kid is refused as too long: 400 invalid_request at introspection, 401 at the admin API', async () => {
    const attacker = await attackerKey();
    const kid = 'k'.repeat(10 * 1024);
    const forged = await rsaSigned(attacker.privateKey, { ...parts(modelsToken).header, kid }, parts(modelsToken).payload);
    const r = await introspect(forged);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: 'invalid_request', error_description: 'token is too long' });
    const a = await adminCall(await rsaSigned(attacker.privateKey, { ...parts(adminToken).header, kid }, parts(adminToken).payload));
    expect(a.status).toBe(401);
    expect(a.challenge).toBe(INVALID_TOKEN);
    expect(a.body).toEqual({ error: 'invalid_token', error_description: 'malformed bearer token' });
  });

  it('jku, x5u and embedded jwk headers pointing at attacker keys are ignored, and never fetched', async () => {
    const attacker = await attackerKey('attacker');
    const evil = await startAttackerServer({ keys: [attacker.publicJwk] });
    try {
      // The recorder works: a fetch of ours is seen.
      expect(await (await fetch(`${evil.url}/probe`)).json()).toEqual({ keys: [attacker.publicJwk] });
      evil.hits.length = 0;
      const [real] = await serverJwks(t.url);
      const headers: Claims[] = [
        { kid: 'attacker', jku: `${evil.url}/jwks.json` },
        { kid: real?.kid, jku: `${evil.url}/jwks.json` }, // our kid, attacker's key set
        { kid: 'attacker', x5u: `${evil.url}/cert.pem` },
        { kid: 'attacker', jwk: attacker.publicJwk },
        { jwk: attacker.publicJwk }, // no kid at all: only the embedded key could verify it
        { kid: real?.kid, jwk: attacker.publicJwk },
      ];
      for (const extra of headers) {
        await expectRefusedEverywhere(({ header, payload }) => rsaSigned(attacker.privateKey, { ...header, ...extra }, payload));
      }
      expect(evil.hits).toEqual([]);
    } finally {
      await evil.close();
    }
  });

  it('a token signed with our own key but naming another issuer is inactive and 401 at the admin API', async () => {
    // A second instance on the same database shares the signing keys but listens on another
    // port, so its issuer differs: only the `iss` check stands between its tokens and us.
    const twin = await startTestServer({ db: t.db, masterKey: t.env.GOVAUTH_MASTER_KEY });
    try {
      await twin.server.policy.sync();
      const [models, admin] = [await tokenFor(twin, bot, API), await tokenFor(twin, adminBot, ADMIN)];
      expect(decodeJwt(models).payload.iss).not.toBe(t.issuer);
      expect(decodeJwt(models).header.kid).toBe(parts(modelsToken).header.kid);
      expect((await introspect(models, rs, twin)).body.active).toBe(true); // genuine where it was issued
      expect((await adminCall(admin, twin)).status).toBe(200);
      await expectInactive(models);
      await expectAdminRefused(admin);
    } finally {
      await twin.stop();
    }
  });

  it('a token for another audience is inactive at this resource server and 401 at the admin API', async () => {
    await expectInactive(modelsToken, datasetsRs);
    await expectInactive(adminToken, rs);
    const r = await adminCall(modelsToken);
    expect(r.status).toBe(401);
    expect(r.challenge).toBe(INVALID_TOKEN);
    expect(r.body).toEqual({ error: 'invalid_token', error_description: `the access token is not for ${ADMIN} (request one with resource=${ADMIN})` });
  });

  it('a token from another govauth instance (its own keys and issuer) is inactive and 401 at the admin API', async () => {
    const other = await startTestServer();
    try {
      await other.cliJson('init', '--demo');
      const otherBot = await other.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
      const otherAdmin = await other.cliJson<ClientCreds>('client', 'create', '--name', 'ops', '--grant', 'client_credentials', '--roles', 'govauth-admin', '--admin-access');
      await other.server.policy.sync();
      const [models, admin] = [await tokenFor(other, otherBot, API), await tokenFor(other, otherAdmin, ADMIN)];
      expect((await adminCall(admin, other)).status).toBe(200);
      await expectInactive(models);
      await expectAdminRefused(admin);
    } finally {
      await other.stop();
    }
  });

  it('an ID token presented as an access token (typ is not at+jwt) is inactive and 401 at the admin API', async () => {
    const tokens = await headlessSignIn(config, 'lena@example.com', 'openid ai.training.read');
    expect((await introspect(tokens.access_token)).body.active).toBe(true);
    const idToken = tokens.id_token ?? '';
    expect(decodeJwt(idToken).payload.iss).toBe(t.issuer); // ours, signed with our key
    await expectInactive(idToken);
    await expectAdminRefused(idToken);
  });
});

// These move govauth's clock (TestServer.advance) and put it back. oidc-provider stamps iat
// and exp from the real clock, while govauth checks them against its own clock, so moving it
// makes genuine tokens look expired, or issued in the future, to the checks alone.
describe('token lifetime', () => {
  it('an expired token is inactive and 401 "expired" at the admin API', async () => {
    expect((await introspect(modelsToken)).body.active).toBe(true);
    const latestExp = Math.max(Number(decodeJwt(modelsToken).payload.exp), Number(decodeJwt(adminToken).payload.exp));
    const skip = latestExp * 1000 - Date.now() + 1000;
    t.advance(skip);
    try {
      await expectInactive(modelsToken);
      const r = await adminCall(adminToken);
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: 'invalid_token', error_description: 'the access token has expired' });
    } finally {
      t.advance(-skip);
    }
  });

  it('a token issued in the future (iat ahead of govauth\'s clock) is inactive and 401 at the admin API', async () => {
    // What a verifier sees from an instance whose clock runs 10 minutes fast: such a token
    // would outlive every principal revocation (`iat ≤ cutoff`, revocation-state.ts).
    const behind = 10 * 60_000;
    t.advance(-behind);
    try {
      await expectInactive(modelsToken);
      await expectAdminRefused(adminToken);
    } finally {
      t.advance(behind);
    }
    expect((await introspect(modelsToken)).body.active).toBe(true);
  });
});

// Keys: govauth rotates its signing key and the kit follows without a restart (an unknown kid
// refetches the JWKS); refetches for unknown kids are rate-limited; a key set that cannot be
// fetched keeps serving the keys already known, and the first fetch failing fails closed (503).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from '../../../test/helpers/oauth.ts';
import { createResourceServer, type ResourceServer } from '../src/index.ts';
import { API, startGovauth, type Govauth } from './helpers/govauth.ts';
import { AUDIENCE, newSigningKey, signRs256, startStubIssuer, type StubIssuer } from './helpers/stub-issuer.ts';

const check = (kit: ResourceServer, token: string) =>
  kit.authorize({ method: 'GET', url: '/', headers: { authorization: [`Bearer ${token}`] } }, kit.route()).then((d) => (d.ok ? 'ok' : `${d.refusal.status} ${d.refusal.description}`));

describe('govauth key rotation', () => {
  let g: Govauth;
  beforeAll(async () => {
    g = await startGovauth();
  });
  afterAll(() => g?.t.stop());

  it('verifies tokens signed by the new key after `govauth keys rotate`, with no restart', async () => {
    const kit = createResourceServer({ issuer: g.t.issuer, audience: API, jwks: { cooldown: 0 } });
    const before = await g.token();
    expect(await check(kit, before)).toBe('ok');
    const rotated = await g.t.cliJson<{ kid: string }>('keys', 'rotate', '--prepublish', '0');
    await g.t.server.policy.sync();
    const after = await g.token();
    expect(decodeJwt(after).header.kid).toBe(rotated.kid);
    expect(await check(kit, after)).toBe('ok');
    // The retired key stays published: its tokens still verify.
    expect(await check(kit, before)).toBe('ok');
  });
});

describe('the key cache', () => {
  let stub: StubIssuer;
  beforeAll(async () => {
    stub = await startStubIssuer();
  });
  afterAll(() => stub?.close());

  it('refetches for an unknown kid at most once per cooldown, however many requests ask', async () => {
    const kit = createResourceServer({ issuer: stub.issuer, audience: AUDIENCE, jwks: { cooldown: 60_000 } });
    expect(await check(kit, await stub.mint())).toBe('ok');
    const fetches = stub.hits.get('/jwks') ?? 0;
    const stranger = await newSigningKey('not-published');
    const forged = await Promise.all(Array.from({ length: 50 }, () => stub.mint({}, {}, stranger).then((t) => check(kit, t))));
    expect(new Set(forged)).toEqual(new Set(['401 The access token is signed with an unknown key']));
    expect(stub.hits.get('/jwks')).toBe(fetches);
  });

  it('learns a key published after the first fetch once the cooldown has passed', async () => {
    let now = Date.now();
    const kit = createResourceServer({ issuer: stub.issuer, audience: AUDIENCE, jwks: { cooldown: 1000 }, now: () => now });
    expect(await check(kit, await stub.mint())).toBe('ok');
    const next = await newSigningKey('stub-key-2');
    stub.keys.push(next);
    stub.published = [...stub.keys];
    const token = await stub.mint({}, {}, next);
    expect(await check(kit, token)).toBe('401 The access token is signed with an unknown key');
    now += 1000;
    expect(await check(kit, token)).toBe('ok');
  });

  it('keeps serving known keys while the issuer is down, and drops a withdrawn key after the cache age', async () => {
    let now = Date.now();
    const kit = createResourceServer({ issuer: stub.issuer, audience: AUDIENCE, jwks: { cacheMaxAge: 10_000 }, now: () => now });
    const [first, second] = stub.keys;
    const old = await stub.mint({}, {}, first);
    expect(await check(kit, old)).toBe('ok');
    stub.down = true;
    now += 60_000;
    expect(await check(kit, old)).toBe('ok'); // stale, refetch fails in the background
    stub.down = false;
    stub.published = [second!];
    now += 60_000;
    await check(kit, old); // starts the background refetch
    await new Promise((r) => setTimeout(r, 100));
    expect(await check(kit, old)).toBe('401 The access token is signed with an unknown key');
    expect(await check(kit, await stub.mint({}, {}, second))).toBe('ok');
    stub.published = [...stub.keys];
  });

  it('fails closed with 503 when no key set was ever fetched', async () => {
    stub.down = true;
    const errors: unknown[] = [];
    const kit = createResourceServer({ issuer: stub.issuer, audience: AUDIENCE, onError: (e) => errors.push(e) });
    const decision = await kit.authorize({ method: 'GET', url: '/', headers: { authorization: [`Bearer ${await stub.mint()}`] } }, kit.route());
    stub.down = false;
    expect(decision.ok).toBe(false);
    if (decision.ok) return;
    expect(decision.refusal.status).toBe(503);
    expect(decision.refusal.headers['retry-after']).toBe('5');
    expect(decision.refusal.body).toEqual({ error: 'temporarily_unavailable', error_description: 'The issuer keys cannot be fetched' });
    expect(errors.length).toBeGreaterThan(0);
  });

  it('ignores keys it must not use: another algorithm, encryption keys, short RSA keys', async () => {
    const small = await newSigningKey('small', 1024);
    const enc = await newSigningKey('enc');
    stub.published = [first(stub), { ...small }, { ...enc, jwk: { ...enc.jwk, use: 'enc' } }, { ...enc, kid: 'ps', jwk: { ...enc.jwk, kid: 'ps', alg: 'PS256' } }];
    const kit = createResourceServer({ issuer: stub.issuer, audience: AUDIENCE });
    const now = Math.floor(Date.now() / 1000);
    const weak = signRs256({ alg: 'RS256', typ: 'at+jwt', kid: 'small' }, { iss: stub.issuer, aud: AUDIENCE, sub: 'a', client_id: 'a', jti: 'j', iat: now, exp: now + 60 }, small.privateKey);
    expect(await check(kit, weak)).toBe('401 The access token is signed with an unknown key');
    expect(await check(kit, await stub.mint({}, {}, enc))).toBe('401 The access token is signed with an unknown key');
    expect(await check(kit, await stub.mint({}, { kid: 'ps' }, enc))).toBe('401 The access token is signed with an unknown key');
    stub.published = [...stub.keys];
  });
});

const first = (stub: StubIssuer) => stub.keys[0]!;

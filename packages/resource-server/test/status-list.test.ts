// Offline revocation with Token Status Lists (draft-ietf-oauth-status-list), against a stub
// issuer that signs lists with its key and serves them over HTTP (govauth's own endpoint,
// <issuer>/statuslists/<id>, is built separately; the client path here is the production one).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import { createResourceServer, type ResourceServer, type ResourceServerOptions } from '../src/index.ts';
import { decodeStatusList, statusAt } from '../src/status-list-token.ts';
import { AUDIENCE, encodeStatusList, newSigningKey, startStubIssuer, type StubIssuer } from './helpers/stub-issuer.ts';

let stub: StubIssuer;
beforeAll(async () => {
  stub = await startStubIssuer();
});
afterAll(() => stub?.close());

const kitFor = (options: Partial<ResourceServerOptions> = {}): ResourceServer => createResourceServer({ issuer: stub.issuer, audience: AUDIENCE, ...options });
const check = (kit: ResourceServer, token: string) =>
  kit.authorize({ method: 'GET', url: '/', headers: { authorization: [`Bearer ${token}`] } }, kit.route()).then((d) => (d.ok ? 'ok' : `${d.refusal.status} ${d.refusal.description}`));
const withStatus = (uri: string, idx: number) => stub.mint({ status: { status_list: { idx, uri } } });

describe('the list format (§4)', () => {
  it('decodes the draft’s examples: 1 bit per status and 2 bits per status', async () => {
    const one = await decodeStatusList({ bits: 1, lst: 'eNrbuRgAAhcBXQ' });
    expect([...one.bytes]).toEqual([0xb9, 0xa3]);
    expect(Array.from({ length: 16 }, (_, i) => statusAt(one, i))).toEqual([1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]);
    const two = await decodeStatusList({ bits: 2, lst: 'eNo76fITAAPfAgc' });
    expect(Array.from({ length: 12 }, (_, i) => statusAt(two, i))).toEqual([1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]);
    expect(statusAt(two, 12)).toBeUndefined(); // 12 × 2 bits fill exactly three bytes
    expect(statusAt(one, 16)).toBeUndefined();
  });

  it('reads back every status it was given, for 1, 2, 4 and 8 bits', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(1, 2, 4, 8), fc.array(fc.nat(255), { minLength: 1, maxLength: 300 }), async (bits, raw) => {
        const statuses = raw.map((s) => s % (1 << bits));
        const list = await decodeStatusList({ bits, lst: encodeStatusList(statuses, bits) });
        statuses.forEach((s, i) => expect(statusAt(list, i)).toBe(s));
      }),
      { numRuns: 100 },
    );
  });

  it('rejects malformed lists: bits, encoding, compression, and a decompression bomb', async () => {
    for (const claim of [null, { bits: 3, lst: 'eNrbuRgAAhcBXQ' }, { bits: 1, lst: '!!' }, { bits: 1, lst: 'AAAA' }, { bits: 1 }, 'x']) {
      await expect(decodeStatusList(claim), JSON.stringify(claim)).rejects.toThrow();
    }
    const bomb = deflateSync(Buffer.alloc(40 * 1024 * 1024)).toString('base64url');
    await expect(decodeStatusList({ bits: 1, lst: bomb })).rejects.toThrow();
  });
});

describe('checking tokens against their list', () => {
  it('accepts VALID (0x00) and refuses INVALID, SUSPENDED and any other status', async () => {
    const uri = await stub.setStatusList('statuses', [0, 1, 2, 3], { bits: 2 });
    const kit = kitFor();
    expect(await check(kit, await withStatus(uri, 0))).toBe('ok');
    expect(await check(kit, await withStatus(uri, 1))).toBe('401 The access token has been revoked');
    expect(await check(kit, await withStatus(uri, 2))).toBe('401 The access token has been suspended');
    expect(await check(kit, await withStatus(uri, 3))).toBe('401 The access token has been invalidated');
    expect(await check(kit, await withStatus(uri, 400))).toBe('401 The access token status index is outside its status list');
  });

  it('fetches a list once for many requests (answers from memory, O(1))', async () => {
    const uri = await stub.setStatusList('busy', new Array<number>(10_000).fill(0));
    const kit = kitFor();
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => withStatus(uri, i * 400)));
    const results = await Promise.all(tokens.flatMap((t) => [check(kit, t), check(kit, t), check(kit, t)]));
    expect(new Set(results)).toEqual(new Set(['ok']));
    expect(stub.hits.get('/statuslists/busy')).toBe(1);
  });

  it('refuses malformed status claims and lists at untrusted origins', async () => {
    const kit = kitFor();
    const uri = await stub.setStatusList('shape', [0]);
    for (const status of [{ status_list: { idx: -1, uri } }, { status_list: { idx: 1.5, uri } }, { status_list: { idx: '0', uri } }, { status_list: { idx: 0 } }, { status_list: 'x' }]) {
      expect(await check(kit, await stub.mint({ status })), JSON.stringify(status)).toBe('401 The access token status claim is malformed');
    }
    expect(await check(kit, await withStatus('https://lists.example/1', 0))).toBe('401 The access token names a status list at an origin that is not trusted');
    expect(await check(kit, await withStatus('http://lists.example/1', 0))).toBe('401 The access token names a status list at an origin that is not trusted');
  });

  it('fetches from an allow-listed https origin', async () => {
    const uri = 'https://lists.example/statuslists/cdn';
    const local = await stub.setStatusList('cdn', [0, 1], { claims: { sub: uri } });
    const kit = kitFor({ statusList: { allowedOrigins: ['https://lists.example'] }, fetch: (input, init) => fetch(String(input instanceof Request ? input.url : input).replace(uri, local), init) });
    expect(await check(kit, await withStatus(uri, 0))).toBe('ok');
    expect(await check(kit, await withStatus(uri, 1))).toBe('401 The access token has been revoked');
  });

  it('with statusList.required, refuses a token without a status; by default accepts it', async () => {
    const token = await stub.mint();
    expect(await check(kitFor(), token)).toBe('ok');
    expect(await check(kitFor({ statusList: { required: true } }), token)).toBe('401 The access token has no status list entry');
  });
});

describe('lists that must not be trusted', () => {
  it('fails closed (503) on a list signed by another key, of another type, for another uri or issuer, expired, or unreadable', async () => {
    const stranger = await newSigningKey('stranger');
    const cases: Array<[string, Parameters<StubIssuer['setStatusList']>[2]]> = [
      ['other-key', { key: stranger }],
      ['typ', { header: { typ: 'JWT' } }],
      ['sub', { claims: { sub: `${stub.url}/statuslists/elsewhere` } }],
      ['iss', { claims: { iss: 'https://evil.example' } }],
      ['expired', { expiresIn: -60 }],
      ['bits', { claims: { status_list: { bits: 3, lst: 'eNrbuRgAAhcBXQ' } } }],
      ['ttl', { claims: { ttl: -1 } }],
      ['alg', { header: { alg: 'PS256' } }],
    ];
    for (const [id, options] of cases) {
      const uri = await stub.setStatusList(id, [0], options).catch(() => `${stub.url}/statuslists/${id}`);
      const errors: unknown[] = [];
      const kit = kitFor({ onError: (e) => errors.push(e) });
      expect(await check(kit, await withStatus(uri, 0)), id).toBe('503 The token status list cannot be fetched');
      expect(errors.length, id).toBeGreaterThan(0);
    }
    stub.route('/statuslists/garbage', (_req, res) => void res.writeHead(200).end('not a jwt'));
    expect(await check(kitFor(), await withStatus(`${stub.url}/statuslists/garbage`, 0))).toBe('503 The token status list cannot be fetched');
  });
});

describe('freshness and outages', () => {
  it('sees a revocation within the list’s ttl (1 s), measured', async () => {
    const uri = await stub.setStatusList('live', [0, 0, 0], { ttl: 1 });
    const kit = kitFor();
    const token = await withStatus(uri, 2);
    expect(await check(kit, token)).toBe('ok');
    const revokedAt = performance.now();
    await stub.setStatusList('live', [0, 0, 1], { ttl: 1 });
    let result = 'ok';
    while (result === 'ok' && performance.now() - revokedAt < 3000) {
      result = await check(kit, token);
      await new Promise((r) => setTimeout(r, 20));
    }
    const seenAfter = performance.now() - revokedAt;
    expect(result).toBe('401 The access token has been revoked');
    // Within one ttl (plus the polling step): the list is refetched at 3/4 ttl in the background.
    expect(seenAfter).toBeLessThan(1000 + 500);
  });

  it('refreshes in the background at 3/4 of the ttl and waits only once the ttl is over', async () => {
    let now = Date.now();
    const uri = await stub.setStatusList('clock', [0, 0], { ttl: 8, expiresIn: 3600 });
    const kit = kitFor({ now: () => now });
    const token = await withStatus(uri, 1);
    expect(await check(kit, token)).toBe('ok');
    const fetches = () => stub.hits.get('/statuslists/clock') ?? 0;
    expect(fetches()).toBe(1);
    await stub.setStatusList('clock', [0, 1], { ttl: 8, expiresIn: 3600 });
    now += 6500;
    expect(await check(kit, token)).toBe('ok'); // answered from the old list, refresh started
    await new Promise((r) => setTimeout(r, 100));
    expect(fetches()).toBe(2);
    expect(await check(kit, token)).toBe('401 The access token has been revoked');
  });

  it('serves the last list while its issuer is down until exp (+ grace), then refuses with 503', async () => {
    let now = Date.now();
    const uri = await stub.setStatusList('outage', [0], { ttl: 1, expiresIn: 30 });
    const strict = kitFor({ now: () => now });
    const lenient = kitFor({ now: () => now, statusList: { grace: 60 } });
    const token = await withStatus(uri, 0);
    expect(await check(strict, token)).toBe('ok');
    expect(await check(lenient, token)).toBe('ok');
    stub.down = true;
    try {
      now += 10_000;
      expect(await check(strict, token)).toBe('ok');
      now += 25_000; // past exp
      expect(await check(strict, token)).toBe('503 The token status list cannot be fetched');
      expect(await check(lenient, token)).toBe('ok');
      now += 60_000; // past exp + grace
      expect(await check(lenient, token)).toBe('503 The token status list cannot be fetched');
    } finally {
      stub.down = false;
    }
    now += 2000;
    expect(await check(strict, token)).toBe('503 The token status list cannot be fetched'); // the stub's list itself has expired by this clock
  });
});

// The outbound fetch itself (src/oidc/outbound-fetch.ts) against a real https server: what it
// refuses before connecting, at connection, on a redirect, past its time and size limits; and
// the reason a client is told for each (outbound-fetch-errors.ts).
import { execFileSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { errors } from 'oidc-provider';
import type { Dispatcher } from 'undici-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwksFetchFailure } from '../../src/oidc/outbound-fetch-errors.ts';
import { createOutboundFetch, OUTBOUND_FETCH_TIMEOUT_MS, OutboundFetchRefused } from '../../src/oidc/outbound-fetch.ts';
import { JWKS_REFRESH_FAILED, RESPONSE_TOO_LARGE } from '../../src/oidc/upstream-strings.ts';
import { startHttpsFixtureServer, type FixtureDocument, type HttpsFixtureServer } from '../helpers/https-fixture-server.ts';

let fixture: HttpsFixtureServer;
/** Node's undici Agent, as oidc-provider finds it to build its protected dispatcher. */
function nodeAgent(): Dispatcher {
  void Response; // makes Node set up its global dispatcher
  const global = (globalThis as Record<symbol, Dispatcher | undefined>)[Symbol.for('undici.globalDispatcher.1')];
  if (!global) throw new Error('no global undici dispatcher');
  return new (global.constructor as new () => Dispatcher)();
}
const get = (fetch: ReturnType<typeof createOutboundFetch>, url: string) => fetch(url, { dispatcher: nodeAgent() });
const refusal = async (promise: Promise<unknown>): Promise<string> => {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(OutboundFetchRefused);
  return (err as Error).message;
};

beforeAll(async () => {
  fixture = await startHttpsFixtureServer();
  const doc: FixtureDocument = { body: { keys: [] }, headers: { 'cache-control': 'max-age=60' } };
  fixture.serve('/ok.json', doc);
});
afterAll(() => fixture?.close());

describe('with the development allowance and the test CA', () => {
  const fetch = (timeoutMs = 2000) => createOutboundFetch({ allowPrivate: true, ca: readFileSync(fixture.caFile, 'utf8') }, timeoutMs);

  it('fetches a document on 127.0.0.1', async () => {
    const res = await get(fetch(), `${fixture.url}/ok.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('max-age=60');
    expect(await res.json()).toEqual({ keys: [] });
  });

  it('follows no redirect, even on the same host', async () => {
    fixture.serve('/r.json', { status: 307, headers: { location: '/ok.json' } });
    expect(await refusal(get(fetch(), `${fixture.url}/r.json`))).toBe('redirects are not followed (HTTP 307 to ' + new URL(fixture.url).host + '): the document must be served at its URL');
    expect(fixture.hits('/ok.json')).toBe(1);
  });

  it('gives up at its time limit', async () => {
    fixture.serve('/slow.json', { delayMs: 3000 });
    expect(await refusal(get(fetch(300), `${fixture.url}/slow.json`))).toBe('no complete response within 300 ms');
    expect(OUTBOUND_FETCH_TIMEOUT_MS).toBe(2500);
  });

  it('stops reading past 16 KiB, with or without Content-Length', async () => {
    const big = { pad: 'x'.repeat(17_000) };
    fixture.serve('/big.json', { body: big });
    expect(await refusal(get(fetch(), `${fixture.url}/big.json`))).toBe('the response is larger than the limit (16384 bytes)');
    fixture.serve('/chunked.json', { body: big, chunked: true });
    const res = await get(fetch(), `${fixture.url}/chunked.json`);
    expect(await refusal(res.text())).toBe('the response is larger than the limit (16384 bytes)');
  });

  it('refuses http before connecting', async () => {
    expect(await refusal(get(fetch(), fixture.url.replace('https:', 'http:')))).toBe('the URL must use https');
  });
});

describe('without the allowance', () => {
  const withCa = () => createOutboundFetch({ allowPrivate: false, ca: readFileSync(fixture.caFile, 'utf8') });

  it('refuses a special-use IP literal before connecting', async () => {
    expect(await refusal(get(withCa(), `${fixture.url}/ok.json`))).toBe('the URL must not point at a private, loopback, link-local or other special-use address (127.0.0.1)');
  });

  it('refuses to fetch at all without oidc-provider’s protected dispatcher', async () => {
    const plain = createOutboundFetch({ allowPrivate: false, ca: undefined });
    expect(await refusal(plain('https://keys.example/jwks.json'))).toContain('server-side fetches are disabled');
  });

  it('does not trust the test CA unless told to', async () => {
    const noCa = createOutboundFetch({ allowPrivate: true, ca: undefined });
    expect(await refusal(get(noCa, `${fixture.url}/ok.json`))).toMatch(/^the connection failed \((SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)$/);
  });

  // A name (not a literal) that resolves to loopback: only the connection check can refuse it.
  const name = hostname();
  it('keeps the connection check for names that resolve to a special-use address', async () => {
    const { address } = await lookup(name).catch(() => ({ address: '' }));
    if (!address.startsWith('127.')) return; // this machine's name is not a loopback alias
    const dir = mkdtempSync(join(tmpdir(), 'govauth-fetch-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`], { stdio: 'ignore' });
    const server = createServer({ cert: readFileSync(join(dir, 'c.pem')), key: readFileSync(join(dir, 'k.pem')) }, (_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://${name}:${(server.address() as AddressInfo).port}/`;
      const ca = readFileSync(join(dir, 'c.pem'), 'utf8');
      expect((await get(createOutboundFetch({ allowPrivate: true, ca }), url)).status).toBe(200);
      expect(await refusal(get(createOutboundFetch({ allowPrivate: false, ca }), url))).toBe('the host resolves to a private, loopback, link-local or other special-use address');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('jwksFetchFailure', () => {
  const refreshFailed = (cause: Error) => new errors.InvalidClientAuth({ cause: new errors.InvalidClientMetadata(JWKS_REFRESH_FAILED, { cause }) });
  it.each([
    [new OutboundFetchRefused('the URL must use https'), 'the URL must use https'],
    [new Error(RESPONSE_TOO_LARGE), 'the response is larger than the limit (16384 bytes)'],
    [Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }), 'no complete response in time'],
    [new Error('unexpected jwks_uri response status code, expected 200 OK, got 500 Internal Server Error'), 'the server answered 500 Internal Server Error, not 200 OK'],
    [new SyntaxError('Unexpected token <'), 'the response is not JSON'],
    [new TypeError('keys must be an array'), 'the response is not a usable JWK Set'],
  ])('%s', (cause, reason) => {
    expect(jwksFetchFailure(refreshFailed(cause))).toBe(reason);
  });
  it('is undefined for any other invalid_client', () => {
    expect(jwksFetchFailure(new errors.InvalidClientAuth('alg mismatch'))).toBeUndefined();
    expect(jwksFetchFailure(undefined)).toBeUndefined();
  });
});

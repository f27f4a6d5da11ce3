// Hostile input (fast-check): whatever the Authorization and DPoP headers, the URL, the token or
// the status list hold, the kit answers 400, 401 or 403 — never a 500, a thrown exception or an
// unhandled rejection.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Refused, refusal } from '../src/errors.ts';
import { createResourceServer, type ResourceServer } from '../src/index.ts';
import { parseCompactJws } from '../src/jws.ts';
import { extractCredentials } from '../src/request.ts';
import { decodeStatusList, statusAt } from '../src/status-list-token.ts';
import { AUDIENCE, ISSUER, memoryIssuer, type MemoryIssuer } from './helpers/memory-issuer.ts';

let m: MemoryIssuer;
let kit: ResourceServer;
let good: string;
let unhandled = 0;
const onUnhandled = () => void unhandled++;

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  m = await memoryIssuer();
  kit = createResourceServer({ issuer: ISSUER, audience: AUDIENCE, fetch: m.fetch, jwks: { cooldown: 60_000 } });
  good = await m.mint();
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toBe(0);
});

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const scheme = fc.constantFrom('Bearer', 'bearer', 'DPoP', 'dpop', 'Basic', 'Bearer,', '', 'Bearer\t');
const sep = fc.constantFrom(' ', '  ', '', '\t', ', ');
const jwtish = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.tuple(fc.jsonValue(), fc.jsonValue(), fc.string()).map(([h, p, s]) => `${b64(h)}.${b64(p)}.${b64(s)}`),
  fc.tuple(fc.dictionary(fc.constantFrom('alg', 'typ', 'kid', 'crit', 'jwk'), fc.jsonValue()), fc.jsonValue()).map(([h, p]) => `${b64(h)}.${b64(p)}.c2ln`),
  fc.nat({ max: 400 }).chain((i) => fc.string({ maxLength: 3 }).map((s) => good.slice(0, i) + s + good.slice(i + s.length))),
);
const authorization = fc.oneof(jwtish, fc.tuple(scheme, sep, jwtish).map(([a, b, c]) => `${a}${b}${c}`));
const headerValues = (value: fc.Arbitrary<string>) => fc.option(fc.array(value, { minLength: 0, maxLength: 3 }), { nil: undefined });
const url = fc.oneof(fc.constant('/predict'), fc.webPath(), fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.string().map((s) => `/x?${s}`), fc.constant('/x?access_token=a'));

describe('fuzzing', () => {
  it('header parsing either yields credentials, nothing, or a Refused', () => {
    fc.assert(
      fc.property(headerValues(authorization), headerValues(jwtish), url, fc.boolean(), (auth, dpop, target, dpopOn) => {
        try {
          const c = extractCredentials({ method: 'GET', url: target, headers: { authorization: auth, dpop } }, dpopOn);
          if (c) expect(['Bearer', 'DPoP']).toContain(c.scheme);
        } catch (err) {
          expect(err).toBeInstanceOf(Refused);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('authorize answers every request with 400, 401 or 403, and never rejects', async () => {
    const route = kit.route({ scopes: ['ai.prediction.run'] });
    await fc.assert(
      fc.asyncProperty(headerValues(authorization), headerValues(jwtish), url, fc.constantFrom('GET', 'POST', 'get', ''), async (auth, dpop, target, method) => {
        const d = await kit.authorize({ method, url: target, headers: { authorization: auth, dpop } }, route);
        if (!d.ok) {
          expect([400, 401, 403]).toContain(d.refusal.status);
          expect(d.refusal.headers['content-type']).toBe('application/json');
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('a good token with any DPoP proof or claim tampering is refused, never accepted', async () => {
    const route = kit.route();
    const bound = await m.mint({ cnf: { jkt: 'x'.repeat(43) } });
    await fc.assert(
      fc.asyncProperty(fc.array(jwtish, { maxLength: 2 }), fc.constantFrom('DPoP', 'Bearer'), async (proofs, s) => {
        const d = await kit.authorize({ method: 'GET', url: '/', headers: { authorization: [`${s} ${bound}`], dpop: proofs } }, route);
        expect(d.ok).toBe(false);
        if (!d.ok) expect([400, 401]).toContain(d.refusal.status);
      }),
      { numRuns: 500 },
    );
  });

  it('the JWS parser never throws', () => {
    fc.assert(fc.property(jwtish, (s) => void parseCompactJws(s)), { numRuns: 3000 });
  });

  it('the status list decoder rejects or decodes, and lookups never throw', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.uint8Array({ maxLength: 64 }), fc.constantFrom(1, 2, 3, 4, 8, '1'), fc.integer(), async (any, bytes, bits, idx) => {
        for (const claim of [any, { bits, lst: Buffer.from(bytes).toString('base64url') }]) {
          const list = await decodeStatusList(claim).catch(() => undefined);
          if (list) {
            const s = statusAt(list, Math.abs(idx));
            expect(s === undefined || (s >= 0 && s < 256)).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('challenges stay well-formed whatever a description holds (RFC 6750 §3 charset)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.constantFrom('invalid_token', 'invalid_request', 'insufficient_scope', 'invalid_dpop_proof') as fc.Arbitrary<'invalid_token'>, (text, code) => {
        const header = refusal(new Refused(code, text), { resourceMetadata: 'https://a.example/.well-known/oauth-protected-resource', dpopAlgorithms: ['ES256'], scope: ['a'] }).headers['www-authenticate'];
        if (header !== undefined) expect(header).toMatch(/^Bearer( [a-z_]+="[\x20\x21\x23-\x5b\x5d-\x7e]*"(,|$))+( DPoP( [a-z_]+="[\x20\x21\x23-\x5b\x5d-\x7e]*"(,|$))+)?$/);
      }),
      { numRuns: 1000 },
    );
  });
});

// The audit chain's hashes depend on canonicalJson byte for byte: records written by earlier
// versions must keep verifying. The reference below is the first implementation, kept as the
// specification; the current one must agree with it on every value audit records can hold.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/db/canonical-json.ts';

function reference(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('cannot canonicalise a non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => reference(v === undefined ? null : v)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
  }
  throw new TypeError(`cannot canonicalise a ${typeof value}`);
}

// JSON-like values with undefined members and items mixed in, and keys that sort differently
// by code unit than by code point or locale (astral characters, upper before lower case).
const key = fc.oneof(fc.string(), fc.constantFrom('a', 'A', 'b', '_', 'é', '\u{1F600}', '\uFB33', 'aa', ''));
const leaf = fc.oneof(fc.string({ unit: 'grapheme' }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.constant(undefined));
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value')), fc.dictionary(key, tie('value'))),
}));

describe('canonicalJson', () => {
  it('agrees with the reference implementation on any JSON-like value', () => {
    fc.assert(
      fc.property(value, (v) => {
        if (v === undefined) return;
        expect(canonicalJson(v)).toBe(reference(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('sorts keys by UTF-16 code units and drops undefined members (RFC 8785 §3.2.3)', () => {
    expect(canonicalJson({ b: 1, a: [true, undefined, 'x'], A: { z: null, y: undefined }, '\u{1F600}': 0, '\uFB33': 1 })).toBe(
      '{"A":{"z":null},"a":[true,null,"x"],"b":1,"\u{1F600}":0,"\uFB33":1}',
    );
    expect(canonicalJson({ seq: 1, at: '2026-12-02T00:00:00.000Z', detail: '{"a":1}' })).toBe('{"at":"2026-12-02T00:00:00.000Z","detail":"{\\"a\\":1}","seq":1}');
  });

  it('refuses what it cannot represent', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(/non-finite/);
    expect(() => canonicalJson({ a: Number.POSITIVE_INFINITY })).toThrow(/non-finite/);
    expect(() => canonicalJson(10n)).toThrow(/bigint/);
    expect(() => canonicalJson(undefined)).toThrow(/undefined/);
    expect(() => canonicalJson([() => 1])).toThrow(/function/);
  });
});

// Duplicate names in admin JSON bodies are refused (src/http/json-body.ts). The scan runs on
// text JSON.parse accepted; it must find every duplicate, however spelled, and nothing else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duplicateField } from '../../src/http/json-body.ts';

describe('duplicateField', () => {
  it('finds no duplicate in any JSON text JSON.stringify produces', () => {
    fc.assert(
      fc.property(fc.json({ depthSize: 'medium' }), (text) => {
        expect(duplicateField(text)).toBeUndefined();
        expect(duplicateField(JSON.stringify(JSON.parse(text), null, 2))).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });

  it('finds a name repeated in one object, at any depth, however it is escaped', () => {
    expect(duplicateField('{"a":1,"a":2}')).toBe('a');
    expect(duplicateField('{"a":1,"\\u0061":2}')).toBe('a');
    expect(duplicateField('{"x":[{"k":"v"},{"k":"v","k":"w"}]}')).toBe('k');
    expect(duplicateField('{"o":{"p":1},"q":{"p":2},"o":3}')).toBe('o');
    expect(duplicateField(' { "s\\"q" : "\\"}" , "s\\"q" : 0 } ')).toBe('s"q');
  });

  it('does not confuse values, arrays or sibling objects with names', () => {
    expect(duplicateField('{"a":"a","b":["a","a"],"c":{"a":1},"d":{"a":2}}')).toBeUndefined();
    expect(duplicateField('[{"a":1},{"a":1}]')).toBeUndefined();
    expect(duplicateField('"a"')).toBeUndefined();
    expect(duplicateField('{"a":{},"b":[],"c":{"a":[{}]}}')).toBeUndefined();
  });

  it('finds any duplicate inserted into a generated object', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }), fc.jsonValue(), (object, extra) => {
        const [name] = Object.keys(object);
        const text = JSON.stringify(object);
        const doubled = `${text.slice(0, -1)},${JSON.stringify(name)}:${JSON.stringify(extra) ?? 'null'}}`;
        expect(duplicateField(doubled)).toBe(name);
      }),
      { numRuns: 500 },
    );
  });
});

// Canonical JSON for hashing: object keys sorted, no whitespace, undefined members dropped.
// For the values audit records hold (strings, integers, booleans, null, arrays, objects) this
// is the JSON Canonicalization Scheme (RFC 8785); non-finite numbers are refused. Every audit
// record is hashed on the request path, so this builds one string in place instead of
// entries/filter/map/join arrays (test/unit/canonical-json.test.ts holds it to that version).
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('cannot canonicalise a non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          out += (i ? ',' : '') + canonicalJson(item === undefined ? null : item);
        }
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      // Array.prototype.sort compares UTF-16 code units, as RFC 8785 §3.2.3 requires.
      const keys = Object.keys(record).sort();
      let out = '{';
      for (const key of keys) {
        const member = record[key];
        if (member === undefined) continue;
        out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${canonicalJson(member)}`;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`cannot canonicalise a ${typeof value}`);
  }
}

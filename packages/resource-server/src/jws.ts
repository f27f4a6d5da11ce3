// Strict parsing of a JWS compact serialization (RFC 7515 §7.1): three base64url parts without
// padding, a JSON object header and payload. Buffer's base64url decoder skips characters outside
// the alphabet, so the alphabet is checked first: a token that differs only in such characters
// must not verify as the same token.

export interface CompactJws {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  /** ASCII(BASE64URL(header) || '.' || BASE64URL(payload)), the JWS Signing Input. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

const PART = /^[A-Za-z0-9_-]+$/;
// A length of 1 mod 4 is no base64url encoding of any byte string.
const wellFormed = (part: string): boolean => part.length % 4 !== 1 && PART.test(part);

function jsonObject(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function parseCompactJws(token: string): CompactJws | undefined {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first === -1 || second === -1 || token.indexOf('.', second + 1) !== -1) return undefined;
  const h = token.slice(0, first);
  const p = token.slice(first + 1, second);
  const s = token.slice(second + 1);
  if (!wellFormed(h) || !wellFormed(p) || !wellFormed(s)) return undefined;
  const header = jsonObject(h);
  const payload = jsonObject(p);
  if (!header || !payload) return undefined;
  return { header, payload, signingInput: token.slice(0, second), signature: Buffer.from(s, 'base64url') };
}

// Small parsers for environment variables. Each throws a message that tells the operator
// what is wrong and what a valid value looks like; load-config collects them all.

export class EnvValueError extends Error {}

export function parseInteger(raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw.trim())) throw new EnvValueError(`must be a whole number between ${min} and ${max}`);
  const n = Number(raw.trim());
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new EnvValueError(`must be a whole number between ${min} and ${max}`);
  }
  return n;
}

export function parseBoolean(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  throw new EnvValueError('must be true or false');
}

export function parseEnum<T extends string>(raw: string, allowed: readonly T[]): T {
  const v = raw.trim() as T;
  if (!allowed.includes(v)) throw new EnvValueError(`must be one of: ${allowed.join(', ')}`);
  return v;
}

/** An absolute http(s) URL without query or fragment; trailing slash removed. */
export function parseHttpUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new EnvValueError('must be an absolute URL such as https://auth.example.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new EnvValueError('must use https (or http for local development)');
  if (url.search || url.hash) throw new EnvValueError('must not contain a query or fragment (RFC 8414 §2)');
  if (url.username || url.password) throw new EnvValueError('must not contain credentials');
  return url.href.replace(/\/$/, '');
}

/** A 32-byte key given as 64 hex characters or 43/44 base64(url) characters. */
export function parseKey32(raw: string): Buffer {
  const v = raw.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(v)) key = Buffer.from(v, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(v)) key = Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key?.length !== 32) {
    throw new EnvValueError('must be 32 random bytes as 64 hex characters or base64 (generate one with: openssl rand -base64 32)');
  }
  return key;
}

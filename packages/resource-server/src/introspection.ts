// Per-route introspection (RFC 7662) for the most sensitive scopes: govauth is asked whether the
// token is active right now, so a revocation applies at once instead of within a status list's
// ttl. Answers are cached briefly (never past the token's expiry); when govauth cannot answer,
// the caller falls back to the status list.
import { createHash } from 'node:crypto';
import { basicAuth, parseObject, request, type Fetch } from './http.ts';

type IntrospectionResult = 'active' | 'inactive' | 'unavailable';

export interface IntrospectionOptions {
  readonly endpoint: () => Promise<string>;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly fetch: Fetch;
  readonly now: () => number;
  /** Seconds an answer is reused. */
  readonly cacheTtl: number;
  readonly maxEntries: number;
  readonly timeoutMs: number;
  readonly onError: (error: unknown) => void;
}

export interface Introspector {
  /** `exp`: the token's expiry in seconds, the longest an answer may be reused. */
  introspect(token: string, exp: number): Promise<IntrospectionResult>;
}

export function createIntrospector(options: IntrospectionOptions): Introspector {
  // Keyed by the token's hash: the cache holds no bearer token.
  const cache = new Map<string, { result: 'active' | 'inactive'; until: number }>();

  async function ask(token: string): Promise<IntrospectionResult> {
    try {
      const res = await request(options.fetch, await options.endpoint(), {
        method: 'POST',
        headers: {
          authorization: basicAuth(options.clientId, options.clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        timeoutMs: options.timeoutMs,
        maxBytes: 64_000,
      });
      // 401 means this resource server's own credentials were refused: a configuration fault,
      // reported, and treated as govauth not answering.
      if (res.status !== 200) throw new Error(`introspection answered ${res.status}`);
      return parseObject(res.body, 'introspection response').active === true ? 'active' : 'inactive';
    } catch (err) {
      options.onError(err);
      return 'unavailable';
    }
  }

  return {
    async introspect(token, exp) {
      const key = createHash('sha256').update(token).digest('base64url');
      const now = options.now();
      const hit = cache.get(key);
      if (hit && hit.until > now) return hit.result;
      const result = await ask(token);
      if (result !== 'unavailable') {
        cache.delete(key);
        cache.set(key, { result, until: Math.min(options.now() + options.cacheTtl * 1000, exp * 1000) });
        for (const [k, v] of cache) {
          if (cache.size <= options.maxEntries && v.until > now) break;
          cache.delete(k);
        }
      }
      return result;
    },
  };
}

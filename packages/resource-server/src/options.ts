// The kit's options, checked once when a resource server is created: a wrong option is a
// TypeError at start-up (programmer misuse), never a refusal at request time.
import { DEFAULT_DPOP_ALGORITHMS } from './dpop.ts';
import type { Fetch } from './http.ts';

export interface ResourceServerOptions {
  /** govauth's issuer identifier, exactly as in the tokens' `iss` (e.g. https://auth.example). */
  readonly issuer: string;
  /** The audience tokens must be issued for: this API's resource identifier in govauth. */
  readonly audience: string | readonly string[];
  /** RFC 9728 resource identifier; defaults to the (first) audience. */
  readonly resource?: string;
  /** RFC 9728 `resource_name`. */
  readonly resourceName?: string;
  /** RFC 9728 `scopes_supported`; defaults to every scope a route of this kit requires. */
  readonly scopesSupported?: readonly string[];
  /** Seconds of clock skew allowed on exp, nbf, iat (token and DPoP proof). Default 5. */
  readonly clockTolerance?: number;
  /** This API's public origin (https://api.example), for DPoP `htu`. Default: from the Host header. */
  readonly origin?: string;
  /** Read X-Forwarded-Proto / X-Forwarded-Host for the request URL (behind a proxy that sets them). */
  readonly trustProxy?: boolean;
  /** A fixed JWKS URL instead of the issuer metadata's jwks_uri. */
  readonly jwksUri?: string;
  readonly jwks?: {
    /** ms before a background refetch of the key set. Default 600000 (10 min). */
    readonly cacheMaxAge?: number;
    /** ms between refetches for an unknown kid. Default 30000. */
    readonly cooldown?: number;
  };
  /** ms allowed for each call to govauth. Default 5000. */
  readonly timeoutMs?: number;
  /** DPoP (RFC 9449); on by default. `required`: refuse tokens that are not DPoP-bound. */
  readonly dpop?: boolean | { readonly algorithms?: readonly string[]; readonly maxAge?: number; readonly replayCacheSize?: number; readonly required?: boolean };
  /** Announce certificate-bound tokens (RFC 8705) and name a trusted proxy's certificate header. */
  readonly mtls?: boolean | { readonly certificateHeader?: string };
  /** Token Status List checks for tokens with a `status` claim; `required`: refuse tokens without one. */
  readonly statusList?:
    | false
    | {
        readonly required?: boolean;
        readonly allowedOrigins?: readonly string[];
        /** Seconds a list serves past its `exp` while no new one can be fetched. Default 0. */
        readonly grace?: number;
        /** Seconds to keep a list without `ttl`. Default 60. */
        readonly defaultTtl?: number;
        readonly maxLists?: number;
      };
  /** This resource server's own client credentials in govauth (introspection, usage reports). */
  readonly client?: { readonly id: string; readonly secret: string };
  readonly introspection?: { readonly cacheTtl?: number; readonly maxEntries?: number };
  /** Usage reports to govauth (needs `client`). */
  readonly usage?: boolean | { readonly endpoint?: string; readonly maxQueue?: number; readonly intervalMs?: number };
  readonly fetch?: Fetch;
  /** The clock (ms); tests move it. */
  readonly now?: () => number;
  /** Failures in the background (key, list, introspection, usage calls): log them here. */
  readonly onError?: (error: unknown) => void;
}

export interface RouteOptions {
  /** Scopes the token must all carry (403 insufficient_scope otherwise). */
  readonly scopes?: readonly string[];
  /** Ask govauth's introspection on every request (cached briefly), falling back to the status list. */
  readonly introspect?: boolean;
  /** The route's name in usage reports; default `METHOD /path`. */
  readonly route?: string;
}

export interface ResolvedOptions {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly resource: string;
  readonly resourceName: string | undefined;
  readonly scopesSupported: readonly string[] | undefined;
  readonly clockTolerance: number;
  readonly origin: string | undefined;
  readonly trustProxy: boolean;
  readonly jwksUri: string | undefined;
  readonly cacheMaxAge: number;
  readonly cooldown: number;
  readonly timeoutMs: number;
  readonly dpop: { readonly algorithms: readonly string[]; readonly maxAge: number; readonly replayCacheSize: number; readonly required: boolean } | undefined;
  readonly mtls: { readonly announced: boolean; readonly certificateHeader: string | undefined };
  readonly statusList: { readonly required: boolean; readonly allowedOrigins: readonly string[]; readonly grace: number; readonly defaultTtl: number; readonly maxLists: number } | undefined;
  readonly client: { readonly id: string; readonly secret: string } | undefined;
  readonly introspection: { readonly cacheTtl: number; readonly maxEntries: number };
  readonly usage: { readonly endpoint: string; readonly maxQueue: number; readonly intervalMs: number } | undefined;
  readonly fetch: Fetch;
  readonly now: () => number;
  readonly onError: (error: unknown) => void;
}

function absoluteUrl(value: unknown, name: string): string {
  const url = typeof value === 'string' ? URL.parse(value) : null;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new TypeError(`${name} must be an absolute http(s) URL`);
  return value as string;
}

const nonNegative = (value: number | undefined, fallback: number, name: string): number => {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError(`${name} must be a non-negative number`);
  return v;
};

export function resolveOptions(o: ResourceServerOptions): ResolvedOptions {
  const issuer = absoluteUrl(o.issuer, 'issuer');
  const audiences = typeof o.audience === 'string' ? [o.audience] : [...(o.audience ?? [])];
  if (!audiences.length || audiences.some((a) => typeof a !== 'string' || !a)) throw new TypeError('audience must be a non-empty string or list of strings');
  const resource = absoluteUrl(o.resource ?? audiences[0], 'resource (or the first audience)');
  const parsed = new URL(resource);
  if (parsed.search || parsed.hash) throw new TypeError('resource must not have a query or fragment (RFC 9728 §1.2)');
  const dpopOption = o.dpop === undefined || o.dpop === true ? {} : o.dpop;
  const algorithms = dpopOption ? (dpopOption.algorithms ?? DEFAULT_DPOP_ALGORITHMS) : [];
  for (const alg of algorithms) {
    if (!(DEFAULT_DPOP_ALGORITHMS as readonly string[]).includes(alg)) throw new TypeError(`dpop.algorithms: ${alg} is not an asymmetric JWS algorithm this kit verifies`);
  }
  const statusOption = o.statusList === false ? undefined : (o.statusList ?? {});
  const usageOption = o.usage === undefined || o.usage === false ? undefined : o.usage === true ? {} : o.usage;
  if (usageOption && !o.client) throw new TypeError('usage reports need client: the resource server’s own credentials');
  const mtlsOption = typeof o.mtls === 'object' ? o.mtls : {};
  return {
    issuer,
    audiences,
    resource,
    resourceName: o.resourceName,
    scopesSupported: o.scopesSupported,
    clockTolerance: nonNegative(o.clockTolerance, 5, 'clockTolerance'),
    origin: o.origin === undefined ? undefined : new URL(absoluteUrl(o.origin, 'origin')).origin,
    trustProxy: o.trustProxy ?? false,
    jwksUri: o.jwksUri === undefined ? undefined : absoluteUrl(o.jwksUri, 'jwksUri'),
    cacheMaxAge: nonNegative(o.jwks?.cacheMaxAge, 600_000, 'jwks.cacheMaxAge'),
    cooldown: nonNegative(o.jwks?.cooldown, 30_000, 'jwks.cooldown'),
    timeoutMs: nonNegative(o.timeoutMs, 5000, 'timeoutMs'),
    dpop: dpopOption
      ? {
          algorithms,
          maxAge: nonNegative(dpopOption.maxAge, 60, 'dpop.maxAge'),
          replayCacheSize: nonNegative(dpopOption.replayCacheSize, 100_000, 'dpop.replayCacheSize'),
          required: dpopOption.required ?? false,
        }
      : undefined,
    mtls: { announced: o.mtls !== undefined && o.mtls !== false, certificateHeader: mtlsOption.certificateHeader?.toLowerCase() },
    statusList: statusOption && {
      required: statusOption.required ?? false,
      allowedOrigins: (statusOption.allowedOrigins ?? []).map((origin) => new URL(absoluteUrl(origin, 'statusList.allowedOrigins')).origin),
      grace: nonNegative(statusOption.grace, 0, 'statusList.grace'),
      defaultTtl: nonNegative(statusOption.defaultTtl, 60, 'statusList.defaultTtl'),
      maxLists: nonNegative(statusOption.maxLists, 64, 'statusList.maxLists'),
    },
    client: o.client,
    introspection: {
      cacheTtl: nonNegative(o.introspection?.cacheTtl, 5, 'introspection.cacheTtl'),
      maxEntries: nonNegative(o.introspection?.maxEntries, 10_000, 'introspection.maxEntries'),
    },
    usage: usageOption && {
      endpoint: absoluteUrl(usageOption.endpoint ?? `${issuer.replace(/\/$/, '')}/resource-usage`, 'usage.endpoint'),
      maxQueue: nonNegative(usageOption.maxQueue, 10_000, 'usage.maxQueue'),
      // At most one report per second per process, whatever is configured.
      intervalMs: Math.max(1000, nonNegative(usageOption.intervalMs, 1000, 'usage.intervalMs')),
    },
    fetch: o.fetch ?? globalThis.fetch,
    now: o.now ?? Date.now,
    onError: o.onError ?? (() => undefined),
  };
}

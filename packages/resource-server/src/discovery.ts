// The authorization server's metadata (RFC 8414), read once and kept: where its keys are
// (jwks_uri) and where introspection is. A failed read is retried by the next caller.
import { getJson, HttpError, type Fetch } from './http.ts';

export interface IssuerMetadata {
  readonly jwksUri: string;
  readonly introspectionEndpoint: string | undefined;
}

/** RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path. */
function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return [`${url.origin}/.well-known/oauth-authorization-server${path}`, `${url.origin}${path}/.well-known/openid-configuration`];
}

/**
 * An endpoint the issuer names must be https, or share the issuer's own origin (a development
 * issuer on http://localhost): a token's keys never come from a place an attacker could answer for.
 */
function trustedEndpoint(issuer: string, value: unknown, what: string): string {
  const url = typeof value === 'string' ? URL.parse(value) : null;
  if (!url || (url.protocol !== 'https:' && url.origin !== new URL(issuer).origin)) throw new HttpError(`${what} must be an https URL`);
  return url.href;
}

export interface DiscoveryOptions {
  readonly issuer: string;
  readonly fetch: Fetch;
  readonly timeoutMs: number;
  /** Skips discovery for the keys (a fixed JWKS URL). */
  readonly jwksUri?: string | undefined;
}

export function createDiscovery(options: DiscoveryOptions): () => Promise<IssuerMetadata> {
  let pending: Promise<IssuerMetadata> | undefined;
  const load = async (): Promise<IssuerMetadata> => {
    let lastError: unknown;
    for (const url of metadataUrls(options.issuer)) {
      try {
        const doc = await getJson(options.fetch, url, options.timeoutMs);
        // RFC 8414 §3.3: the metadata must name the issuer it was fetched for.
        if (doc.issuer !== options.issuer) throw new HttpError(`${url} names issuer ${String(doc.issuer)}`);
        return {
          jwksUri: options.jwksUri ?? trustedEndpoint(options.issuer, doc.jwks_uri, 'jwks_uri'),
          introspectionEndpoint: doc.introspection_endpoint === undefined ? undefined : trustedEndpoint(options.issuer, doc.introspection_endpoint, 'introspection_endpoint'),
        };
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  };
  return () => {
    pending ??= load().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

// Server-side fetches to URLs chosen by someone else (src/oidc/outbound-fetch.ts): the
// development allowance that lets them reach private and loopback addresses, and an extra
// certificate authority they trust. Both exist for tests and local development (an https
// document served on 127.0.0.1 with a test CA) and are refused when NODE_ENV=production:
// there, they would turn the server into a way into its own network (SECURITY.md, SSRF).
import { parseBoolean } from './env-parsers.ts';
import type { Read } from './env-reader.ts';
import { checkCertificates, readPem } from './tls-config.ts';

export interface OutboundFetchConfig {
  /** GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE: private, loopback and link-local hosts may be fetched. */
  readonly allowPrivate: boolean;
  /** GOVAUTH_OUTBOUND_FETCH_CA_FILE: a PEM bundle trusted beside the system's authorities. */
  readonly ca: string | undefined;
}

export function readOutboundFetch(read: Read, problems: string[], base: string, production: boolean): OutboundFetchConfig {
  const allowPrivate = read('GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE', false, parseBoolean);
  const ca = read<string | undefined>('GOVAUTH_OUTBOUND_FETCH_CA_FILE', undefined, readPem(base, checkCertificates));
  if (production && allowPrivate) {
    problems.push('GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE=true is refused when NODE_ENV=production: it lets anyone who can register a URL (a jwks_uri) make govauth fetch from its own network (loopback, private, cloud metadata addresses); it is for tests and local development only');
  }
  if (production && ca !== undefined) {
    problems.push('GOVAUTH_OUTBOUND_FETCH_CA_FILE is refused when NODE_ENV=production: it is for tests and local development only (documents fetched in production must be served with certificates the system trusts)');
  }
  return { allowPrivate, ca };
}

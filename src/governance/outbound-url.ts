// The rules for a URL govauth's server fetches on someone else's say (a client's jwks_uri, RFC
// 7591 §2; next, Client ID Metadata Documents): checked when the URL is registered and again
// before every fetch (oidc/outbound-fetch.ts), so a refusal names the rule instead of failing
// somewhere inside a connection. Server-side request forgery is the threat (SECURITY.md): the
// server must not become a way to reach addresses only it can reach.
import { BlockList, isIP } from 'node:net';

/**
 * Special-use addresses (IANA IPv4 and IPv6 Special-Purpose Address Registries, RFC 6890):
 * private, loopback, link-local (cloud metadata at 169.254.169.254), shared, documentation,
 * benchmarking, multicast and reserved ranges. The same ranges as oidc-provider's connection
 * check (lib/helpers/fetch_request.js), which stays in force for names that resolve to them;
 * test/unit/outbound-url.test.ts holds both to the same answers.
 */
const SPECIAL_USE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.31.196.0', 24], ['192.52.193.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16],
  ['192.175.48.0', 24], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) SPECIAL_USE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['100:0:0:1::', 64], ['2001::', 23], ['2001:db8::', 32], ['2002::', 16],
  ['2620:4f:8000::', 48], ['3fff::', 20], ['5f00::', 16], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
] as const) SPECIAL_USE.addSubnet(net, prefix, 'ipv6');

/** Whether an IP address (v4, or v6 with or without brackets) lies in a special-use range. */
export function isSpecialUseAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, '');
  const version = isIP(ip);
  if (version === 0) return false;
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) reaches the IPv4 host.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1] ?? (version === 6 ? mappedHex(ip) : undefined);
  if (mapped) return SPECIAL_USE.check(mapped, 'ipv4');
  return SPECIAL_USE.check(ip, version === 4 ? 'ipv4' : 'ipv6');
}

/** ::ffff:7f00:1 (how URL serialises ::ffff:127.0.0.1) as its IPv4 address. */
function mappedHex(ip: string): string | undefined {
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (!m) return undefined;
  const hi = parseInt(m[1] ?? '0', 16);
  const lo = parseInt(m[2] ?? '0', 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export interface OutboundUrlRules {
  /** Development allowance (GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE): private and loopback hosts pass. */
  readonly allowPrivate: boolean;
}

/**
 * Why `raw` may not be fetched, or undefined when it may: an absolute https URL (TLS is what
 * ties the document to its host), without credentials or fragment, whose host is not an IP
 * literal in a special-use range nor `localhost` (RFC 6761 §6.3) unless the development
 * allowance is on. A name that resolves to such an address is refused at connection time.
 */
export function outboundUrlProblem(raw: string, rules: OutboundUrlRules): string | undefined {
  const url = URL.parse(raw);
  if (!url) return 'is not an absolute URL';
  if (url.protocol !== 'https:') return 'must use https';
  if (url.username || url.password) return 'must not contain credentials (user:password@)';
  if (url.hash || raw.includes('#')) return 'must not contain a fragment';
  if (rules.allowPrivate) return undefined;
  const host = url.hostname.toLowerCase().replace(/\.$/, ''); // a fully-qualified name's root dot
  if (isSpecialUseAddress(host)) return `must not point at a private, loopback, link-local or other special-use address (${host})`;
  if (host === 'localhost' || host.endsWith('.localhost')) return `must not point at the local host (${host})`;
  return undefined;
}

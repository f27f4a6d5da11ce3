// The network a client address belongs to, as suspicious-use.ts compares them: the address
// (ctx.ip, decided once in src/http/request-context.ts) with its host bits cleared. A client on
// one site keeps its network while its addresses change (DHCP, NAT pools, IPv6 privacy
// addresses, RFC 8981, within the /64 and the site's /48, RFC 6177).
import { isIPv4, isIPv6 } from 'node:net';

export interface NetworkPrefixes {
  readonly ipv4Prefix: number;
  readonly ipv6Prefix: number;
}

/** "203.0.113.7" → "203.0.113.0/24"; "2001:db8:1:2::5" → "2001:db8:1::/48"; undefined when not an address. */
export function sourceNetwork(address: string, prefixes: NetworkPrefixes): string | undefined {
  const ip = address.trim().replace(/%.*$/, ''); // a zone index (fe80::1%eth0) names an interface, not a network
  if (isIPv4(ip)) return ipv4Network(ip, prefixes.ipv4Prefix);
  if (!isIPv6(ip)) return undefined;
  const groups = ipv6Groups(ip);
  // An IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2): the
  // same client must get the same network as over IPv4.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return ipv4Network(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, prefixes.ipv4Prefix);
  }
  const masked = groups.map((g, i) => g & groupMask(prefixes.ipv6Prefix - i * 16));
  // The WHATWG URL parser writes an IPv6 address in its canonical text form (RFC 5952 §4).
  const text = new URL(`http://[${masked.map((g) => g.toString(16)).join(':')}]/`).hostname.slice(1, -1);
  return `${text}/${prefixes.ipv6Prefix}`;
}

function ipv4Network(ip: string, prefix: number): string {
  const value = ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const network = prefix === 0 ? 0 : Math.floor(value / 2 ** (32 - prefix)) * 2 ** (32 - prefix);
  return `${[24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.')}/${prefix}`;
}

/** The bits of a 16-bit group kept when `bits` of it (≤ 0: none, ≥ 16: all) belong to the prefix. */
const groupMask = (bits: number): number => (bits >= 16 ? 0xffff : bits <= 0 ? 0 : (0xffff << (16 - bits)) & 0xffff);

/** The eight 16-bit groups of a valid IPv6 address (isIPv6), a trailing dotted quad included. */
function ipv6Groups(ip: string): number[] {
  let text = ip.toLowerCase();
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const part = (s: string): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

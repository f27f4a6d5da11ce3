// Attribute-based access control: the data Cedar policies read, and its validation. Attributes
// of people and clients (department=research, region=eu) and labels of resources and scopes
// (classification=pii) are key-value pairs, exposed to Cedar as entity tags (Cedar 4 `hasTag` /
// `getTag`), so a new key never changes the schema a policy was validated against. Network zones
// are names for CIDR lists (context.zones). Pure: no I/O.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { AppError } from '../../errors/app-error.ts';

export type AttributeSubject = 'person' | 'client' | 'resource' | 'scope';
export const ATTRIBUTE_SUBJECTS: readonly AttributeSubject[] = ['person', 'client', 'resource', 'scope'];

/** Limits that keep every entity small: Cedar requests carry them on every evaluation. */
export const ATTRIBUTE_LIMITS = { keyLength: 64, valueLength: 256, perSubject: 32, zoneCidrs: 256 } as const;

// A key is an identifier a policy can name literally: lower-case, digits, '_', '-', '.', ':'.
const KEY = /^[a-z][a-z0-9_.:-]*$/;
// A value is printable text: no control characters (they would reach logs and the console).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export function checkAttributeKey(key: string): string {
  if (key.length === 0 || key.length > ATTRIBUTE_LIMITS.keyLength || !KEY.test(key)) {
    throw new AppError('invalid_request', `attribute key ${JSON.stringify(key.slice(0, 80))} must be 1-${ATTRIBUTE_LIMITS.keyLength} characters: a lower-case letter, then lower-case letters, digits, '_', '-', '.' or ':'`);
  }
  return key;
}

export function checkAttributeValue(key: string, value: string): string {
  if (value.length > ATTRIBUTE_LIMITS.valueLength || CONTROL.test(value) || value !== value.trim() || !value.length) {
    throw new AppError('invalid_request', `the value of ${key} must be 1-${ATTRIBUTE_LIMITS.valueLength} printable characters without leading or trailing spaces`);
  }
  return value;
}

/** "region=eu" pairs (CLI arguments) as a validated record; the last of a repeated key wins. */
export function parseAssignments(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new AppError('invalid_request', `expected key=value, got ${JSON.stringify(pair.slice(0, 80))}`);
    const key = checkAttributeKey(pair.slice(0, eq));
    out[key] = checkAttributeValue(key, pair.slice(eq + 1));
  }
  return out;
}

/** A record received from the admin API: string values, valid keys. */
export function checkAttributeRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AppError('invalid_request', 'attributes must be an object of key: string value');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > ATTRIBUTE_LIMITS.perSubject) throw new AppError('invalid_request', `at most ${ATTRIBUTE_LIMITS.perSubject} attributes per subject`);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw new AppError('invalid_request', `the value of ${JSON.stringify(k.slice(0, 80))} must be a string`);
    out[checkAttributeKey(k)] = checkAttributeValue(k, v);
  }
  return out;
}

// --- network zones ---------------------------------------------------------------------------

const ZONE_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

export function checkZoneName(name: string): string {
  if (!ZONE_NAME.test(name)) throw new AppError('invalid_request', `zone name ${JSON.stringify(name.slice(0, 80))} must be 1-63 lower-case letters, digits, '_' or '-', starting with a letter`);
  return name;
}

/** "10.0.0.0/8" or "2001:db8::/32" (a bare address is a /32 or /128), in canonical text. */
export function checkCidr(text: string): string {
  const [address = '', prefixText, extra] = text.trim().split('/');
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  const max = family === 'ipv4' ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!family || extra !== undefined || !(prefix >= 0 && prefix <= max)) throw new AppError('invalid_request', `${JSON.stringify(text.slice(0, 80))} is not an IPv4 or IPv6 CIDR range`);
  return `${address}/${prefix}`;
}

export function checkCidrs(list: readonly string[]): string[] {
  if (!list.length) throw new AppError('invalid_request', 'a zone needs at least one CIDR range');
  if (list.length > ATTRIBUTE_LIMITS.zoneCidrs) throw new AppError('invalid_request', `at most ${ATTRIBUTE_LIMITS.zoneCidrs} CIDR ranges per zone`);
  return [...new Set(list.map(checkCidr))];
}

export interface NetworkZone {
  readonly name: string;
  readonly cidrs: readonly string[];
}

/** Names of the zones an address is in, sorted; matching through node:net BlockList (IPv4-mapped IPv6 included). */
export function zoneMatcher(zones: readonly NetworkZone[]): (ip: string | undefined) => string[] {
  const lists = zones.map((z) => {
    const list = new BlockList();
    for (const cidr of z.cidrs) {
      const [address = '', prefix = '0'] = cidr.split('/');
      list.addSubnet(address, Number(prefix), isIPv4(address) ? 'ipv4' : 'ipv6');
    }
    return { name: z.name, list };
  });
  return (ip) => {
    if (ip === undefined) return [];
    const family = isIPv4(ip) ? 'ipv4' : isIPv6(ip) ? 'ipv6' : undefined;
    if (!family) return [];
    return lists.filter((z) => z.list.check(ip, family)).map((z) => z.name).sort();
  };
}

/** Everything the policies read besides the catalogue snapshot: attributes by subject, zones. */
export interface AbacData {
  /** subject kind → subject key → attributes. */
  readonly attributes: ReadonlyMap<AttributeSubject, ReadonlyMap<string, Readonly<Record<string, string>>>>;
  readonly zones: readonly NetworkZone[];
}

export const attributesOf = (data: AbacData, kind: AttributeSubject, key: string): Readonly<Record<string, string>> => data.attributes.get(kind)?.get(key) ?? {};

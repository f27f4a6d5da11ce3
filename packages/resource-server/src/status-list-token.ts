// The Token Status List data structure (draft-ietf-oauth-status-list §4, §5.1): a byte array
// of 1, 2, 4 or 8-bit statuses, index i at byte ⌊i·bits/8⌋ counted from the least significant
// bit, DEFLATE-compressed in the ZLIB format (RFC 1950) and base64url-encoded in `lst`.
import { inflate } from 'node:zlib';

export interface StatusList {
  readonly bits: 1 | 2 | 4 | 8;
  readonly bytes: Uint8Array;
}

/** The decompressed list is bounded: 16 MiB holds 134 million 1-bit statuses. */
const MAX_LIST_BYTES = 16 * 1024 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

const inflateBounded = (data: Buffer): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    inflate(data, { maxOutputLength: MAX_LIST_BYTES }, (err, out) => (err ? reject(err) : resolve(out)));
  });

/** Decodes the `status_list` claim; rejects with an Error for any malformed shape. */
export async function decodeStatusList(claim: unknown): Promise<StatusList> {
  if (typeof claim !== 'object' || claim === null) throw new Error('status_list is not an object');
  const { bits, lst } = claim as Record<string, unknown>;
  if (bits !== 1 && bits !== 2 && bits !== 4 && bits !== 8) throw new Error('status_list.bits must be 1, 2, 4 or 8');
  if (typeof lst !== 'string' || !BASE64URL.test(lst)) throw new Error('status_list.lst is not base64url');
  const bytes = await inflateBounded(Buffer.from(lst, 'base64url'));
  return { bits, bytes };
}

/** The status at `idx` (O(1)), or undefined when the index is outside the list. */
export function statusAt(list: StatusList, idx: number): number | undefined {
  const bit = idx * list.bits;
  const byte = list.bytes[Math.floor(bit / 8)];
  if (byte === undefined) return undefined;
  return (byte >> (bit % 8)) & ((1 << list.bits) - 1);
}

export const isStatusIndex = (idx: unknown): idx is number => typeof idx === 'number' && Number.isSafeInteger(idx) && idx >= 0;

// A Status List Token in JWT format (draft-ietf-oauth-status-list-20 §5.1): header typ
// `statuslist+jwt`, signed with the key that signs access tokens (same JWKS, same kid); claims
// sub (the list's URI, equal to the `uri` of the tokens' status claim), iat, exp, ttl and
// status_list {bits: 1, lst}: the bit array, DEFLATE in the ZLIB format at the highest
// compression level (§4.1), base64url. `iss` is added (§5.1 allows other claims): the resource
// server can check the list comes from the issuer of its tokens.
import { constants, deflateSync } from 'node:zlib';
import type { JwtSigner } from '../keys/jwt-signer.ts';

const STATUS_LIST_TYP = 'statuslist+jwt';
export const STATUS_LIST_MEDIA_TYPE = 'application/statuslist+jwt';

/** The compressed, base64url-encoded list of a bit array (index i: byte ⌊i/8⌋, bit i mod 8, LSB first). */
export function encodeStatusList(bits: Uint8Array): string {
  return deflateSync(bits, { level: constants.Z_BEST_COMPRESSION }).toString('base64url');
}

export interface StatusListToken {
  readonly issuer: string;
  readonly uri: string;
  readonly bits: Uint8Array;
  /** Seconds. */
  readonly iat: number;
  readonly exp: number;
  readonly ttl: number;
}

export function signStatusList(sign: JwtSigner, t: StatusListToken): Promise<string> {
  return sign({ iss: t.issuer, sub: t.uri, iat: t.iat, exp: t.exp, ttl: t.ttl, status_list: { bits: 1, lst: encodeStatusList(t.bits) } }, STATUS_LIST_TYP);
}

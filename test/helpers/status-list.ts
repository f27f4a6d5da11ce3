// Reading token status lists as a resource server does (draft-ietf-oauth-status-list-20 §8.3):
// the token's status claim, the Status List Token fetched from its uri and verified with the
// issuer's JWKS (typ statuslist+jwt, sub equal to the uri), the list inflated, the bit read.
import { inflateSync } from 'node:zlib';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { decodeJwt } from './oauth.ts';

export interface StatusRef {
  readonly idx: number;
  readonly uri: string;
}

export function statusOf(token: string): StatusRef {
  const status = decodeJwt(token).payload.status as { status_list?: { idx?: unknown; uri?: unknown } } | undefined;
  const ref = status?.status_list;
  if (typeof ref?.idx !== 'number' || typeof ref.uri !== 'string') throw new Error(`no status claim in ${JSON.stringify(decodeJwt(token).payload)}`);
  return { idx: ref.idx, uri: ref.uri };
}

export interface FetchedList {
  readonly payload: JWTPayload & { ttl?: number; status_list: { bits: number; lst: string } };
  readonly header: Record<string, unknown>;
  readonly response: Response;
  /** The status of index i (0 valid, 1 invalid). */
  bit(i: number): number;
  readonly size: number;
}

const jwksByIssuer = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

/**
 * Fetches and verifies the list at `uri` (issued by `issuer`); throws on any other answer than
 * 200. `from`: the address of the instance to ask instead of the issuer's (instances share it).
 */
export async function fetchList(issuer: string, uri: string, from = issuer): Promise<FetchedList> {
  const at = from === issuer ? uri : uri.replace(issuer, from);
  const response = await fetch(at, { headers: { accept: 'application/statuslist+jwt' } });
  if (response.status !== 200) throw new Error(`GET ${at}: ${response.status} ${await response.text()}`);
  const jwt = await response.text();
  let jwks = jwksByIssuer.get(issuer);
  if (!jwks) {
    jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`), { cooldownDuration: 0 });
    jwksByIssuer.set(issuer, jwks);
  }
  const { payload, protectedHeader } = await jwtVerify(jwt, jwks, { typ: 'statuslist+jwt', algorithms: ['RS256'], subject: uri, issuer });
  const list = payload.status_list as { bits: number; lst: string };
  const bytes = inflateSync(Buffer.from(list.lst, 'base64url'));
  return {
    payload: payload as FetchedList['payload'],
    header: protectedHeader,
    response,
    size: bytes.length * 8,
    bit: (i) => ((bytes[i >> 3] ?? 0) >> (i & 7)) & 1,
  };
}

/** The token's bit in its list, as a resource server would read it now (`from`: see fetchList). */
export async function statusBit(issuer: string, token: string, from = issuer): Promise<number> {
  const { idx, uri } = statusOf(token);
  const list = await fetchList(issuer, uri, from);
  if (idx >= list.size) throw new Error(`index ${idx} out of the list's bounds (${list.size})`);
  return list.bit(idx);
}

// Building blocks for forged JWTs: raw headers and payloads, HMAC keyed with whatever the
// attacker likes (the server's public key, for algorithm confusion), attacker RSA keys, and a
// local JWKS server that records whether govauth ever fetched it (jku/x5u must never be used).
import { createHmac, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign, exportJWK, type JWK } from 'jose';

export type Claims = Record<string, unknown>;

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export function parts(token: string): { header: Claims; payload: Claims; signature: string } {
  const [h = '', p = '', s = ''] = token.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()) as Claims, payload: JSON.parse(Buffer.from(p, 'base64url').toString()) as Claims, signature: s };
}

/** Header and payload as given, with a literal signature part (empty for `alg: none`). */
export const withSignature = (header: Claims, payload: Claims, signature = ''): string => `${b64(header)}.${b64(payload)}.${signature}`;

/** HS256/384/512 (from `header.alg`) over the exact header and payload, keyed with `key` (RFC 7518 §3.2). */
export function hmacSigned(header: Claims & { alg: 'HS256' | 'HS384' | 'HS512' }, payload: Claims, key: string | Buffer): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(`sha${header.alg.slice(2)}`, key).update(input).digest('base64url')}`;
}

/** Signed with an RSA private key, with exactly this protected header (jku, x5u, jwk included). */
export async function rsaSigned(key: KeyObject, header: Claims, payload: Claims): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'RS256', ...header }).sign(key);
}

export interface AttackerKey {
  readonly privateKey: KeyObject;
  readonly publicJwk: JWK;
}

export async function attackerKey(kid = 'attacker'): Promise<AttackerKey> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

/** The server's published signing keys. */
export async function serverJwks(baseUrl: string): Promise<JWK[]> {
  const res = await fetch(`${baseUrl}/jwks`);
  return ((await res.json()) as { keys: JWK[] }).keys;
}

export const spkiPem = (jwk: JWK): string => createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
export const spkiDer = (jwk: JWK): Buffer => createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });

export interface AttackerServer {
  readonly url: string;
  /** Every path requested, in order. */
  readonly hits: string[];
  close(): Promise<void>;
}

/** Serves the attacker's JWKS (and anything else) on 127.0.0.1, recording each request. */
export async function startAttackerServer(jwks: { keys: JWK[] }): Promise<AttackerServer> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections(); // fetch keeps connections alive; close() would wait for them
      }),
  };
}

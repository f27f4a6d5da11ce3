// DPoP-bound client_credentials (RFC 9449) under load: every request carries a fresh proof,
// signed by the load generator as a real client would (a proof's jti may be used only once,
// §11.1), so the server pays for verifying the proof, its replay check and the `cnf` claim.
// Signing is synchronous ES256 with node:crypto in autocannon's setupRequest (a few µs each).
import { createPrivateKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { BENCH_RESOURCE, type ClientCredentials } from './issuance.ts';
import { basicAuth, FORM, type LoadOptions } from './load.ts';

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A signer of DPoP proofs for POST `htu`, with one ES256 key for the whole run. */
function proofSigner(htu: string): () => string {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key: KeyObject = createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  const header = b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } });
  return () => {
    const input = `${header}.${b64({ jti: randomUUID(), htm: 'POST', htu, iat: Math.floor(Date.now() / 1000) })}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };
}

/** The same request as govauthTokenRequest (issuance.ts), with a new DPoP proof each time. */
export async function dpopTokenRequest(serverUrl: string, bot: ClientCredentials, connections: number): Promise<LoadOptions> {
  // htu must be the token endpoint as the issuer names it (RFC 9449 §4.3), not the address dialled.
  const { token_endpoint: htu } = (await (await fetch(`${serverUrl}/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
  const proof = proofSigner(htu);
  const headers = { ...FORM, authorization: basicAuth(bot.client_id, bot.client_secret) };
  return {
    url: `${serverUrl}/token`,
    method: 'POST',
    headers,
    body: `grant_type=client_credentials&resource=${encodeURIComponent(BENCH_RESOURCE)}`,
    connections,
    setupRequest: (req) => ({ ...req, headers: { ...headers, dpop: proof() } }),
  };
}

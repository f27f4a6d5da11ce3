// JWTs govauth signs itself besides access tokens (introspection responses, RFC 9701; status
// list tokens, draft-ietf-oauth-status-list), with the key that signs access tokens now, so a
// resource server verifies them with the same JWKS. The imported key is kept until the signing
// key changes.
import { importJWK, SignJWT, type JWTPayload } from 'jose';
import { AppError } from '../errors/app-error.ts';
import type { Keyring } from './keyring.ts';
import { SIGNING_ALG } from './signing-keys.ts';

export type JwtSigner = (payload: JWTPayload, typ: string) => Promise<string>;

export function createJwtSigner(keyring: Keyring): JwtSigner {
  let current: { kid: string; key: Awaited<ReturnType<typeof importJWK>> } | undefined;
  return async (payload, typ) => {
    const kid = keyring.signingKid();
    if (current?.kid !== kid) {
      const jwk = keyring.privateJwks().find((k) => k.kid === kid);
      if (!jwk) throw new AppError('server_error', 'no signing key');
      current = { kid, key: await importJWK(jwk, SIGNING_ALG) };
    }
    return new SignJWT(payload).setProtectedHeader({ alg: SIGNING_ALG, typ, kid }).sign(current.key);
  };
}

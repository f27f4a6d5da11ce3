// An issuer without a network: discovery and JWKS answered by an in-process fetch, for unit
// tests and fuzzing of the core, where an HTTP round trip per case would only add time.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { newSigningKey, type SigningKey } from './stub-issuer.ts';

export const ISSUER = 'https://auth.example';
export const AUDIENCE = 'https://models.example';

export interface MemoryIssuer {
  readonly key: SigningKey;
  readonly fetch: typeof fetch;
  mint(claims?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
}

export async function memoryIssuer(): Promise<MemoryIssuer> {
  const key = await newSigningKey('mem-1');
  const documents: Record<string, unknown> = {
    [`${ISSUER}/.well-known/oauth-authorization-server`]: { issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` },
    [`${ISSUER}/jwks`]: { keys: [key.jwk] },
  };
  return {
    key,
    fetch: (input) => {
      const body = documents[input instanceof Request ? input.url : String(input)];
      return Promise.resolve(body ? Response.json(body) : new Response('not found', { status: 404 }));
    },
    mint(claims = {}, header = {}) {
      const now = Math.floor(Date.now() / 1000);
      const payload: Record<string, unknown> = { iss: ISSUER, sub: 'cl_bot', aud: AUDIENCE, client_id: 'cl_bot', jti: randomUUID(), iat: now, exp: now + 300, scope: 'ai.prediction.run', ...claims };
      for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
      return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: key.kid, ...header }).sign(key.privateKey);
    },
  };
}

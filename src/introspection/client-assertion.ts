// private_key_jwt at govauth's own endpoints (introspection, revocation): the client proves
// itself with a JWT signed by a key it registered (RFC 7523 §2.2, §3; OpenID Connect Core §9).
// The token endpoint's checks are oidc-provider's (lib/shared/jwt_client_auth.js) plus
// governance/client-assertion-rules.ts; these are the same, with jose, and the jti is
// remembered in the same store (oidc-provider's ReplayDetection through the adapter), so an
// assertion used once, anywhere, on any instance, is refused everywhere after.
import { createLocalJWKSet, decodeJwt, jwtVerify, type JWK } from 'jose';
import { clientAuthMethod } from '../governance/client-auth-method.ts';
import { CLIENT_ASSERTION_ALGS } from '../governance/client-jwks.ts';
import { assertionClaimsProblem, CLOCK_SKEW } from '../governance/client-assertion-rules.ts';
import type { ClientDef } from '../governance/policy-model.ts';
import type { ClientAuthFailureBudget } from '../ratelimit/client-auth-failures.ts';
import type { Clock } from '../time/clock.ts';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'; // RFC 7523 §2.2

export interface ClientAssertionDeps {
  readonly issuer: string;
  /** True the first time (iss, jti) is seen; it is remembered until `exp` (epoch seconds). */
  firstUse(iss: string, jti: string, exp: number): Promise<boolean>;
  /** Refused assertions spend from the source address's budget, as wrong secrets do. */
  readonly failures: ClientAuthFailureBudget;
  readonly now: Clock;
}

/** The client_id an assertion claims (its sub, RFC 7523 §3 B), before anything is verified. */
export function assertionSubject(assertion: string): string | undefined {
  try {
    const { sub } = decodeJwt(assertion);
    return typeof sub === 'string' && sub ? sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why `assertion` does not authenticate `client` at `endpointUrl`, or undefined when it does.
 * `aud` may be the issuer identifier (RFC 7523 §3 C, and the OpenID Connect Core errata), the
 * token endpoint URL, or the URL of the endpoint called: the same set oidc-provider accepts
 * at /token (clientJwtAuthExpectedAudience), so one assertion recipe works everywhere.
 */
export async function clientAssertionProblem(assertion: string, client: ClientDef, endpointUrl: string, deps: ClientAssertionDeps): Promise<string | undefined> {
  // A client authenticates one way: a self_signed_tls_client_auth client's keys are its certificates' (RFC 8705 §2.2), not assertion keys.
  if (!client.jwks || clientAuthMethod(client) !== 'private_key_jwt') return 'this client has no registered assertion keys';
  const now = deps.now();
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet({ keys: client.jwks.keys.map((k): JWK => ({ ...k })) }), {
      algorithms: [...CLIENT_ASSERTION_ALGS],
      issuer: client.id,
      subject: client.id,
      audience: [deps.issuer, `${deps.issuer}/token`, endpointUrl],
      requiredClaims: ['exp', 'jti'],
      clockTolerance: CLOCK_SKEW,
      currentDate: new Date(now),
    }));
  } catch (err) {
    return `client_assertion refused: ${(err as Error).message}`;
  }
  const problem = assertionClaimsProblem(payload, Math.floor(now / 1000));
  if (problem) return problem;
  if (!(await deps.firstUse(client.id, payload.jti as string, (payload.exp as number) + CLOCK_SKEW))) return 'client assertion tokens must only be used once';
  return undefined;
}

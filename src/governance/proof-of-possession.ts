// When an access token must be sender-constrained: the one rule, asked wherever an access token
// is minted (client_credentials, authorization_code, refresh_token, token exchange; see
// src/oidc/proof-of-possession.ts). A bearer token works for whoever holds it; a bound token
// only with its key (RFC 9449 DPoP `cnf.jkt`, or RFC 8705 mTLS `cnf.x5t#S256`), so RFC 9700
// §2.2.1 recommends sender-constrained tokens. Either binding satisfies the rule.
import { SENSITIVITIES, type ClientDef, type PolicySnapshot, type ResourceDef, type Sensitivity } from './policy-model.ts';

/** How an access token is bound (its `cnf` claim), as the audit record names it. */
export type TokenBinding = 'dpop' | 'mtls' | 'bearer';

export interface PopRequest {
  readonly client: ClientDef | undefined;
  readonly resource: ResourceDef | undefined;
  /** The scopes the token would carry. */
  readonly scopes: Iterable<string>;
}

/**
 * Why a token for this request must be bound, as a sentence for `error_description`, or
 * undefined when a bearer token is allowed. `threshold`: GOVAUTH_POP_REQUIRED_SENSITIVITY.
 */
export function popRequiredBecause(snapshot: PolicySnapshot, threshold: Sensitivity | null, req: PopRequest): string | undefined {
  if (req.client?.requirePop) return `client ${req.client.id} requires proof of possession: send a DPoP proof (RFC 9449)`;
  if (req.resource?.requirePop) return `tokens for ${req.resource.audience} are only issued bound: send a DPoP proof (RFC 9449)`;
  if (threshold === null) return undefined;
  const floor = SENSITIVITIES.indexOf(threshold);
  for (const name of req.scopes) {
    const scope = snapshot.scopes.get(name);
    if (scope && SENSITIVITIES.indexOf(scope.sensitivity) >= floor) {
      return `scope ${name} (${scope.sensitivity} sensitivity) is only issued in a bound token: send a DPoP proof (RFC 9449)`;
    }
  }
  return undefined;
}

/** Whether a token of this binding satisfies a requirement: any proof of possession does. */
export const isBound = (binding: TokenBinding): boolean => binding !== 'bearer';

// Where the proof-of-possession rule (governance/proof-of-possession.ts) meets oidc-provider:
// - at the mint of every access token (extraTokenClaims, accounts-and-claims.ts), which sees the
//   token's actual binding (`jkt` after a DPoP proof, `x5t#S256` after a client certificate),
//   its scopes and its resource, whatever the grant: client_credentials, authorization_code,
//   refresh_token, token exchange;
// - before a refresh token is rotated (resource-indicators.ts createRotateRefreshToken): a
//   refusal at the mint would come after the refresh token is consumed, and the client's next
//   attempt would look like reuse and revoke the grant (RFC 9700 §4.14.2).
// The refusal is RFC 9449 §5's `invalid_dpop_proof` with the reason; no token leaves.
// oidc-provider's own switch (client metadata `dpop_bound_access_tokens`) is not used for
// per-client requirements: it answers `invalid_grant`, and would refuse a certificate-bound
// token that equally proves possession (RFC 8705).
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { popRequiredBecause, isBound, type TokenBinding } from '../governance/proof-of-possession.ts';
import type { PolicySnapshot, Sensitivity } from '../governance/policy-model.ts';

/** What a token says of its binding (oidc-provider's BaseToken `jkt`, `x5t#S256`: the `cnf` claim). */
export function tokenBinding(token: { jkt?: unknown; 'x5t#S256'?: unknown }): TokenBinding {
  if (typeof token.jkt === 'string') return 'dpop';
  if (typeof token['x5t#S256'] === 'string') return 'mtls';
  return 'bearer';
}

/**
 * How the token this request mints will be bound, before it is. Every grant handler validates
 * the DPoP header first of all (lib/helpers/validate_dpop.js: a malformed or stale proof is
 * refused there), so a DPoP header still present here is a valid proof it will bind to; a
 * client registered for certificate-bound tokens is refused without a certificate.
 */
export function requestBinding(ctx: KoaContextWithOIDC): TokenBinding {
  if (ctx.get('DPoP')) return 'dpop';
  if (ctx.oidc.client?.tlsClientCertificateBoundAccessTokens) return 'mtls';
  return 'bearer';
}

export interface PopCheck {
  readonly snapshot: PolicySnapshot;
  /** GOVAUTH_POP_REQUIRED_SENSITIVITY. */
  readonly threshold: Sensitivity | null;
  readonly clientId: string | undefined;
  readonly audience: string | undefined;
  readonly scopes: Iterable<string>;
}

/** Refuses (RFC 9449 §5 invalid_dpop_proof) a token of this binding that the rule requires bound. */
export function assertPossession(binding: TokenBinding, check: PopCheck): void {
  if (isBound(binding)) return;
  const { snapshot } = check;
  const because = popRequiredBecause(snapshot, check.threshold, {
    client: check.clientId === undefined ? undefined : snapshot.clients.get(check.clientId),
    resource: check.audience === undefined ? undefined : snapshot.resources.get(check.audience),
    scopes: check.scopes,
  });
  if (because) throw new errors.InvalidDpopProof(because);
}

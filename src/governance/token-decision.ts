// The one per-request decision object (ctx.state.decision, src/http/request-state.ts): made by
// the resource indicator hook from the effective grant, read by the token's lifetime and claims,
// completed when the access token is minted, and read by the audit record of the response. The
// audit record thus names the token from what minted it, without decoding what was just signed.
import type { Grant } from './effective-grant.ts';

/** What the audit record says about the access token a request minted (its claims, RFC 9068 §2.2). */
interface MintedToken {
  readonly jti: string;
  readonly sub: string;
  readonly clientId: string;
  readonly aud: string;
  readonly scopes: readonly string[];
  /** The `roles` claim. */
  readonly roles: readonly string[];
  /** Seconds (exp − iat). */
  readonly lifetime: number;
  readonly grantId: string | undefined;
}

export interface TokenDecision {
  /** What governance granted for this request (effective-grant.ts). */
  readonly grant: Grant;
  /** Set when the access token is minted (src/oidc/accounts-and-claims.ts). */
  minted?: MintedToken;
}

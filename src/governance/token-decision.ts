// The one per-request decision object (ctx.state.decision, src/http/request-state.ts): made by
// the resource indicator hook from the effective grant, read by the token's lifetime and claims,
// completed when the access token is minted, and read by the audit record of the response. The
// audit record thus names the token from what minted it, without decoding what was just signed.
import type { ChainHop } from './delegation.ts';
import type { Grant } from './effective-grant.ts';
import type { TokenBinding } from './proof-of-possession.ts';

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
  /** Seconds: the signed `iat` (set once the JWT's claims are final, oidc/accounts-and-claims.ts). */
  readonly iat?: number;
  /** The `source_iat` claim (a person's token: when its code or refresh-token chain began). */
  readonly sourceIat?: number | undefined;
  /** Its `status` claim (src/statuslist): the list's number and the token's index in it. */
  readonly statusList?: number;
  readonly statusIdx?: number;
  readonly grantId: string | undefined;
  /** Its `cnf`: DPoP key (RFC 9449 §6), client certificate (RFC 8705 §3), or none. */
  readonly binding: TokenBinding;
  /** A delegated token's actors, current first (token exchange only). */
  readonly chain?: readonly ChainHop[];
  /** Its `exchanged_from`: the jtis it was exchanged from, its subject token's first (act-claim.ts). */
  readonly exchangedFrom?: readonly string[];
  readonly subjectJti?: string;
  readonly actorJti?: string | undefined;
  /** Its `ciba_request`: the person's approval of the agent it acts on (act-claim.ts approvalClaims). */
  readonly cibaRequest?: string | undefined;
  /** A person's token: how they authenticated, its `acr`, `amr` and `auth_time` (RFC 9068 §2.2.1). */
  readonly acr?: string | undefined;
  readonly amr?: readonly string[] | undefined;
  readonly authTime?: number | undefined;
}

/** What a token exchange (RFC 8693) carries over from the subject token into the new one. */
interface ExchangeFacts {
  /** The new token's actors, current first (delegation.ts). */
  readonly chain: readonly ChainHop[];
  /** The jtis it is exchanged from, its subject token's first (act-claim.ts). */
  readonly exchangedFrom: readonly string[];
  readonly subjectJti: string;
  readonly actorJti: string | undefined;
  /** The subject token's source_iat (or iat): revocations of the person cover the new token as they cover it. */
  readonly sourceIat: number;
  readonly grantId: string | undefined;
  /** How the person authenticated (RFC 9068 §2.2.1), from the subject token. */
  readonly acr: string | undefined;
  readonly amr: readonly string[] | undefined;
  readonly authTime: number | undefined;
}

export interface TokenDecision {
  /** What governance granted for this request (effective-grant.ts). */
  readonly grant: Grant;
  /**
   * Set when the token acts on a person's CIBA approval of this agent: the CIBA grant and every
   * refresh of its grant (oidc/ciba-approval.ts, the one place that decides it).
   */
  readonly cibaRequest?: string;
  /** Set for a token exchange (oidc/token-exchange-grant.ts). */
  readonly exchange?: ExchangeFacts;
  /** Set when the access token is minted (src/oidc/accounts-and-claims.ts). */
  minted?: MintedToken;
}

// What govauth's own introspection and revocation endpoints (src/introspection) read from
// oidc-provider's storage: refresh tokens and grants, through its public models, under types
// govauth owns.
import type Provider from 'oidc-provider';

/** A refresh token as oidc-provider stored it (its RefreshToken model, the parts read). */
interface RefreshTokenRecord {
  readonly isExpired: boolean;
  readonly consumed?: unknown;
  readonly accountId: string;
  readonly clientId?: string | undefined;
  readonly grantId?: string | undefined;
  readonly iat?: number | undefined;
  /** When the first token of its rotation chain was issued (epoch seconds). */
  readonly iiat?: number | undefined;
  readonly exp?: number | undefined;
  readonly resource?: string | string[] | undefined;
  readonly scope?: string | undefined;
  readonly scopes: ReadonlySet<string>;
  readonly acr?: string | undefined;
  readonly amr?: string[] | undefined;
}

export interface ProtocolTokens {
  /** The stored refresh token; undefined when unknown or unreadable. */
  findRefreshToken(token: string): Promise<RefreshTokenRecord | undefined>;
  /** Whether the grant still exists (revoking a grant deletes it). */
  grantExists(grantId: string): Promise<boolean>;
  /**
   * True the first time a client assertion's (iss, jti) is seen, remembered until `exp`: the
   * store the token endpoint uses (ReplayDetection, through the adapter, so across instances).
   */
  firstUseOfAssertion(iss: string, jti: string, exp: number): Promise<boolean>;
}

/** Over the current provider (it is rebuilt when signing keys change, provider-host.ts). */
export function createProtocolTokens(provider: () => Provider): ProtocolTokens {
  return {
    findRefreshToken: (token) => provider().RefreshToken.find(token).catch(() => undefined),
    grantExists: async (grantId) => Boolean(await provider().Grant.find(grantId)),
    firstUseOfAssertion: (iss, jti, exp) => provider().ReplayDetection.unique(iss, jti, exp),
  };
}

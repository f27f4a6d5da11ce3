// What the audit records need to know about a protocol request that only oidc-provider's
// context holds (ctx.oidc), as plain facts: the audit middleware (token-audit.ts) reads
// these, not ctx.oidc. What the token says comes from the request's decision (ctx.state.decision).
import type { Context } from 'koa';
import { protocolOf } from './seams.ts';
import { checkAudience } from '../governance/validation.ts';

export interface TokenRequestFacts {
  readonly grantType: string | undefined;
  /** The client oidc-provider authenticated (or resolved, for a public client). */
  readonly clientId: string | undefined;
  /** The client_id the request names, authenticated or not. */
  readonly claimedClientId: string | undefined;
  /** How the client authenticated (RFC 7591 §2 token_endpoint_auth_method names), once it did. */
  readonly clientAuth: string | undefined;
  /**
   * The one resource the request names (RFC 8707 `resource`, or RFC 8693 `audience`), when it is
   * a well-formed audience (checkAudience: at most 512 characters): what a refusal concerns.
   */
  readonly requestedResource?: string | undefined;
}

export interface SignOutFacts {
  readonly accountId: string;
  readonly clientId: string | undefined;
  /** logout=yes: the govauth session ends too, not only this app's part of it. */
  readonly everywhere: boolean;
}

/** The token endpoint's request, or undefined for any other route. */
export function tokenRequestFacts(ctx: Context): TokenRequestFacts | undefined {
  const oidc = protocolOf(ctx);
  if (oidc?.route !== 'token') return undefined;
  const clientId = oidc.client?.clientId;
  return {
    grantType: typeof oidc.params?.grant_type === 'string' ? oidc.params.grant_type : undefined,
    clientId,
    claimedClientId: clientId ?? (typeof oidc.params?.client_id === 'string' ? oidc.params.client_id : undefined),
    clientAuth: clientAuthUsed(oidc.client?.clientAuthMethod, oidc.params?.client_secret !== undefined),
    requestedResource: wellFormedAudience(oidc.params?.resource ?? oidc.params?.audience),
  };
}

/** A client-supplied target, kept only if it could be a resource's audience (never a list or free text). */
function wellFormedAudience(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return checkAudience(value);
  } catch {
    return undefined;
  }
}

/**
 * The method that authenticated the request. oidc-provider accepts a secret in the body or in
 * a Basic header whichever of the two is registered (lib/shared/client_auth.js), so for secrets
 * the request says which; any other method is the registered one, the only one it accepts.
 */
function clientAuthUsed(registered: string | undefined, secretInBody: boolean): string | undefined {
  if (registered === 'client_secret_basic' || registered === 'client_secret_post') return secretInBody ? 'client_secret_post' : 'client_secret_basic';
  return registered;
}

/** A confirmed RP-initiated sign-out (end_session_confirm, 303) of someone signed in, or undefined. */
export function signOutFacts(ctx: Context): SignOutFacts | undefined {
  const oidc = protocolOf(ctx);
  // 303 is the confirmed sign-out; the session object keeps its accountId after destroy().
  const accountId = oidc?.route === 'end_session_confirm' && ctx.status === 303 ? oidc.session?.accountId : undefined;
  if (!accountId) return undefined; // nobody was signed in: nothing ended
  return { accountId, clientId: oidc?.client?.clientId, everywhere: Boolean(oidc?.params?.logout) };
}

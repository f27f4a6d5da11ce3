// Who is calling the admin API, and may they? The caller presents one of govauth's own JWT
// access tokens for the admin resource (RFC 6750 §2.1 Authorization header only: tokens in
// URLs end up in logs). The checker verifies signature, issuer, typ, expiry, revocation and
// live policy; what remains here is the scope decision and the RFC 6750 §3 challenges.
import type { Context } from 'koa';
import type { Actor } from '../audit/audit-chain.ts';
import { ADMIN_AUDIENCE, ADMIN_SCOPE, AUDIT_READ_SCOPE, REQUESTS_SCOPE } from '../governance/admin-model.ts';
import type { AccessTokenChecker, InactiveReason } from '../introspection/access-token-check.ts';
import type { Access } from './route.ts';

export interface AdminPrincipal {
  /** The token's subject: a client_id (bots) or a user id (people). */
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: ReadonlySet<string>;
}

export interface Refusal {
  readonly ok: false;
  readonly status: 401 | 403;
  /** The WWW-Authenticate header. */
  readonly challenge: string;
  readonly body: { error: string; error_description: string };
}

export type AuthOutcome = { readonly ok: true; readonly principal: AdminPrincipal } | Refusal;

const REALM = 'Bearer realm="govauth"';
// RFC 6750 §2.1 b64token; real tokens are three base64url parts.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const MAX_TOKEN_LENGTH = 8192;

const WHY: Partial<Record<InactiveReason, string>> = {
  expired: 'the access token has expired',
  not_yet_valid: 'the access token was issued in the future (its iat is ahead of the server clock)',
  wrong_audience: `the access token is not for ${ADMIN_AUDIENCE} (request one with resource=${ADMIN_AUDIENCE})`,
  invalid: 'the access token is invalid',
  audience_not_allowed: `the client this token was issued to is not allowed the admin API (an administrator allows it with govauth client update <client_id> --admin-access)`,
};

function unauthorized(description: string, tokenSent: boolean): Refusal {
  // §3.1: a request without credentials gets the challenge without an error code.
  return {
    ok: false,
    status: 401,
    challenge: tokenSent ? `${REALM}, error="invalid_token"` : REALM,
    body: { error: 'invalid_token', error_description: description },
  };
}

export async function authenticate(ctx: Context, checker: AccessTokenChecker): Promise<AuthOutcome> {
  const header = ctx.get('authorization');
  if (!/^bearer(\s|$)/i.test(header)) return unauthorized(`a bearer access token for ${ADMIN_AUDIENCE} is required (Authorization: Bearer <token>)`, false);
  const token = BEARER.exec(header)?.[1];
  if (!token || token.length > MAX_TOKEN_LENGTH) return unauthorized('malformed bearer token', true);
  const outcome = await checker.check(token, ADMIN_AUDIENCE);
  if (!outcome.active) return unauthorized(WHY[outcome.reason] ?? 'the access token has been revoked or no longer matches policy', true);
  const claims = outcome.claims;
  // A sender-constrained token is only good with its proof; presented as a bearer token it
  // could be a stolen one (RFC 9449 §7.1).
  if (claims.cnf !== undefined) return unauthorized('a sender-constrained token cannot be used as a bearer token', true);
  const scopes = new Set(typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : []);
  return { ok: true, principal: { subject: String(claims.sub), clientId: String(claims.client_id), scopes } };
}

/** The scope that would satisfy `access`, or undefined when the principal already has it. */
export function missingScope(principal: AdminPrincipal, access: Access): string | undefined {
  if (access === 'public') return undefined;
  if (principal.scopes.has(ADMIN_SCOPE)) return undefined;
  if (access === 'read' && principal.scopes.has(AUDIT_READ_SCOPE)) return undefined;
  if (access === 'requests' && principal.scopes.has(REQUESTS_SCOPE)) return undefined;
  return access === 'read' ? AUDIT_READ_SCOPE : access === 'requests' ? REQUESTS_SCOPE : ADMIN_SCOPE;
}

export function insufficientScope(scope: string): Refusal {
  return {
    ok: false,
    status: 403,
    challenge: `${REALM}, error="insufficient_scope", scope="${scope}"`,
    body: { error: 'insufficient_scope', error_description: `this operation requires the ${scope} scope${scope === AUDIT_READ_SCOPE || scope === REQUESTS_SCOPE ? ` (or ${ADMIN_SCOPE})` : ''}` },
  };
}

export const actorOf = (principal: AdminPrincipal, ctx: Context): Actor => ({
  actorType: 'admin',
  actor: principal.subject,
  requestId: String(ctx.state.requestId),
  ip: ctx.ip,
});

// govauth's own introspection (RFC 7662) and revocation (RFC 7009) endpoints, at the paths
// oidc-provider would use. Its built-in ones reject JWT access tokens (400
// unsupported_token_type), and every govauth access token is a JWT.
import type { Context, Middleware } from 'koa';
import { AppError } from '../errors/app-error.ts';
import type { Database } from '../db/database.ts';
import type { SecretVerifier } from '../governance/client-secrets.ts';
import type { ClientDef } from '../governance/policy-model.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import { revokeAccessToken, revokeGrant } from '../governance/revocations.ts';
import { RESERVED_SCOPES } from '../governance/validation.ts';
import type { SecurityEventSink } from '../governance/security-events.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Keyring } from '../keys/keyring.ts';
import { createJwtSigner } from '../keys/jwt-signer.ts';
import { readForm } from '../http/form-body.ts';
import type { ProtocolTokens } from '../oidc/protocol-tokens.ts';
import type { Clock } from '../time/clock.ts';
import type { AccessTokenChecker } from './access-token-check.ts';
import { tokenLiveness } from './token-liveness.ts';
import { authenticateClient, unauthorized } from './client-authentication.ts';
import type { ClientAssertionDeps } from './client-assertion.ts';

export const INTROSPECTION_PATH = '/token/introspection';
export const REVOCATION_PATH = '/token/revocation';
const JWT_RESPONSE = 'application/token-introspection+jwt'; // RFC 9701

export interface TokenEndpointDeps {
  /** Refresh tokens and grants in oidc-provider's storage (oidc/protocol-tokens.ts). */
  readonly tokens: ProtocolTokens;
  readonly db: Database;
  readonly policy: PolicyStore;
  readonly verifier: SecretVerifier;
  /** private_key_jwt callers (client-assertion.ts). */
  readonly assertions?: ClientAssertionDeps | undefined;
  readonly checker: AccessTokenChecker;
  readonly keyring: Keyring;
  readonly issuer: string;
  readonly events: SecurityEventSink;
  readonly metrics: Pick<Metrics, 'introspection'>;
  readonly now: Clock;
}

const looksLikeJws = (token: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);

function requireToken(form: Record<string, string>): string {
  const token = form.token;
  if (!token) throw new AppError('invalid_request', "missing required parameter 'token'");
  if (token.length > 8192) throw new AppError('invalid_request', 'token is too long');
  return token;
}

type Introspection = { active: false } | ({ active: true } & Record<string, unknown>);
/** `jti` of an access token; for a refresh token, its grant (see introspectRefreshToken). */
/** `resource`: the one audience the record concerns, when known (the audit explorer's resource filter). */
type Outcome = { result: Introspection; reason: string; jti?: string | undefined; grantId?: string | undefined; resource?: string | undefined };

export function tokenEndpoints(deps: TokenEndpointDeps): Middleware {
  const { policy } = deps;

  // An opaque refresh token's jti IS the token (oidc-provider lib/models/formats/opaque.js), so
  // its records name the grant instead: the audit trail holds no secret.
  async function introspectRefreshToken(token: string, caller: ClientDef): Promise<Outcome> {
    const rt = await deps.tokens.findRefreshToken(token);
    if (!rt || rt.isExpired || rt.consumed) return { result: { active: false }, reason: 'invalid' };
    // Only the client a refresh token was issued to may introspect it.
    if (rt.clientId !== caller.id) return { result: { active: false }, reason: 'not_owner', grantId: rt.grantId };
    // The same revocation and live-policy checks as an access token's (token-liveness.ts): a
    // refresh token of a revoked role, person, client or grant, or of a disabled person or
    // client, or whose scopes are no longer granted at all (a refresh would be refused), is inactive.
    const reason = tokenLiveness(deps, {
      iat: rt.iat ?? 0,
      sourceIat: typeof rt.iiat === 'number' ? rt.iiat : undefined,
      grantId: rt.grantId,
      userId: rt.accountId,
      clientId: rt.clientId ?? caller.id,
      audiences: [rt.resource ?? []].flat(),
      scopes: [...rt.scopes].filter((s) => !RESERVED_SCOPES.has(s)),
      scopeRule: 'some',
    });
    // Its own client asked: the resource it was issued for is no secret to it.
    const resource = typeof rt.resource === 'string' ? rt.resource : undefined;
    if (reason) return { result: { active: false }, reason, grantId: rt.grantId, resource };
    if (!rt.grantId || !(await deps.tokens.grantExists(rt.grantId))) return { result: { active: false }, reason: 'revoked_grant', grantId: rt.grantId, resource };
    return {
      resource,
      result: {
        active: true,
        token_type: 'refresh_token',
        scope: rt.scope,
        client_id: rt.clientId,
        sub: rt.accountId,
        iss: deps.issuer,
        iat: rt.iat,
        exp: rt.exp,
        grant_id: rt.grantId,
        ...(rt.acr && { acr: rt.acr }),
        ...(rt.amr && { amr: rt.amr }),
      },
      reason: 'active',
      grantId: rt.grantId,
    };
  }

  async function introspectAccessToken(token: string, caller: ClientDef): Promise<Outcome> {
    const outcome = await deps.checker.check(token, caller.introspectAudience);
    // A resource server's question concerns its own resource, whatever the answer (an active
    // token's aud is that resource: the check refuses any other).
    const resource = caller.introspectAudience ?? undefined;
    if (!outcome.active) return { result: { active: false }, reason: outcome.reason, jti: outcome.jti, resource };
    const c = outcome.claims;
    const cnf = c.cnf as { jkt?: string } | undefined;
    return {
      result: {
        active: true,
        token_type: cnf?.jkt ? 'DPoP' : 'Bearer',
        scope: c.scope,
        client_id: c.client_id,
        sub: c.sub,
        aud: c.aud,
        iss: c.iss,
        exp: c.exp,
        iat: c.iat,
        jti: c.jti,
        ...(c.roles !== undefined && { roles: c.roles }),
        ...(c.acr !== undefined && { acr: c.acr }),
        ...(c.amr !== undefined && { amr: c.amr }),
        ...(c.auth_time !== undefined && { auth_time: c.auth_time }),
        ...(c.grant_id !== undefined && { grant_id: c.grant_id }),
        // The whole delegation chain (RFC 8693 §4.1; the current actor is the outermost).
        ...(c.act !== undefined && { act: c.act }),
        ...(c.may_act !== undefined && { may_act: c.may_act }),
        ...(cnf && { cnf }),
      },
      reason: 'active',
      jti: String(c.jti),
      resource,
    };
  }

  const sign = createJwtSigner(deps.keyring);
  const signedResponse = (result: Introspection, caller: ClientDef): Promise<string> =>
    sign({ token_introspection: result, iss: deps.issuer, aud: caller.id, iat: Math.floor(deps.now() / 1000) }, 'token-introspection+jwt');

  async function introspect(ctx: Context): Promise<void> {
    const form = await readForm(ctx);
    const caller = await authenticateClient(ctx, form, deps, { allowPublic: false });
    // Resource servers introspect access tokens for their audience; apps may introspect their
    // own refresh tokens. Anyone else learns nothing.
    const isResourceServer = caller.introspectAudience !== null;
    if (!isResourceServer && !caller.grantTypes.includes('refresh_token')) {
      throw unauthorized(ctx, 'this client is not allowed to introspect tokens');
    }
    const token = requireToken(form);
    const hint = form.token_type_hint;
    const asRefresh = hint === 'refresh_token' || !looksLikeJws(token);
    let outcome = asRefresh ? await introspectRefreshToken(token, caller) : await introspectAccessToken(token, caller);
    if (!outcome.result.active && hint === 'refresh_token' && looksLikeJws(token)) outcome = await introspectAccessToken(token, caller);
    const kind = asRefresh ? 'refresh_token' : 'access_token';
    deps.metrics.introspection(kind, outcome.result.active, outcome.reason);

    await deps.events.record({
      type: 'token.introspected',
      actor: caller.id,
      clientId: caller.id,
      ip: ctx.ip,
      requestId: ctx.state.requestId,
      resource: outcome.resource,
      detail: { ...(outcome.grantId === undefined ? { jti: outcome.jti } : { grant_id: outcome.grantId }), token_kind: kind, active: outcome.result.active, reason: outcome.reason },
    });

    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    if (ctx.accepts('application/json', JWT_RESPONSE) === JWT_RESPONSE && ctx.get('accept').includes(JWT_RESPONSE)) {
      ctx.type = JWT_RESPONSE;
      ctx.body = await signedResponse(outcome.result, caller);
      return;
    }
    ctx.body = outcome.result;
  }

  async function revoke(ctx: Context): Promise<void> {
    const form = await readForm(ctx);
    const caller = await authenticateClient(ctx, form, deps, { allowPublic: true });
    const token = requireToken(form);
    ctx.set('Cache-Control', 'no-store');
    const hint = form.token_type_hint;
    const order = hint === 'refresh_token' || !looksLikeJws(token) ? (['refresh', 'access'] as const) : (['access', 'refresh'] as const);
    let revoked: string | undefined;
    let resource: string | undefined;
    for (const kind of order) {
      if (kind === 'access' && looksLikeJws(token)) {
        const claims = await deps.checker.verifySignature(token);
        // RFC 7009 §2.1: only the client a token was issued to may revoke it; for anyone
        // else (and for invalid tokens) the answer is the same 200 with no effect.
        if (claims && claims.client_id === caller.id && typeof claims.jti === 'string' && Number(claims.exp) * 1000 > deps.now()) {
          await revokeAccessToken(deps.db, { jti: claims.jti, expSec: Number(claims.exp), actor: caller.id, reason: 'revoked by its client (RFC 7009)' }, deps.now());
          revoked = `access_token ${claims.jti}`;
          resource = typeof claims.aud === 'string' ? claims.aud : undefined;
          break;
        }
      }
      if (kind === 'refresh' && !looksLikeJws(token)) {
        const rt = await deps.tokens.findRefreshToken(token);
        if (rt?.grantId && rt.clientId === caller.id) {
          // Revoking a refresh token revokes its grant: every refresh token and access token
          // issued from it (RFC 7009 §2.1 "SHOULD also invalidate all access tokens").
          await revokeGrant(deps.db, { grantId: rt.grantId, actor: caller.id, reason: 'refresh token revoked by its client (RFC 7009)' }, deps.now());
          revoked = `grant ${rt.grantId}`;
          resource = typeof rt.resource === 'string' ? rt.resource : undefined;
          break;
        }
      }
    }
    if (revoked) await policy.sync(); // visible here before we answer; elsewhere within the bound
    await deps.events.record({
      type: 'token.revoked',
      actor: caller.id,
      clientId: caller.id,
      ip: ctx.ip,
      requestId: ctx.state.requestId,
      resource,
      detail: { effect: revoked ?? 'none' },
    });
    ctx.status = 200;
    ctx.body = '';
  }

  return async (ctx, next) => {
    if (ctx.path === INTROSPECTION_PATH || ctx.path === REVOCATION_PATH) {
      if (ctx.method !== 'POST') {
        ctx.set('Allow', 'POST');
        throw new AppError('invalid_request', `${ctx.path} only accepts POST`);
      }
      await (ctx.path === INTROSPECTION_PATH ? introspect(ctx) : revoke(ctx));
      return;
    }
    await next();
  };
}


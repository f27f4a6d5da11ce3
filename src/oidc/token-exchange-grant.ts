// OAuth 2.0 Token Exchange (RFC 8693) at the token endpoint: an agent presents a person's access
// token (subject_token) and gets one that says it acts for them (`act`, §4.1). Registered with
// oidc-provider's registerGrantType (seams.ts), so client authentication, its failure budget, the
// per-client rate limit, DPoP, the audit record and the error rendering are the token endpoint's
// own. Who may act for whom is governance's (governance/token-exchange.ts); this file reads
// the request and the presented tokens and mints the result.
import { errors, type TokenEndpointGrantContext } from 'oidc-provider';
import type { JWTPayload } from 'jose';
import { approvalOf, chainOf, exchangedFromOf } from '../governance/act-claim.ts';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from '../governance/delegation.ts';
import { mfaFresh, type PolicyDefaults } from '../governance/policy-model.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import { waitOutCutoff } from '../governance/revocation-state.ts';
import { chainRoles, decideExchange, type SubjectToken } from '../governance/token-exchange.ts';
import type { AccessTokenChecker } from '../introspection/access-token-check.ts';
import { isUserSubject } from '../introspection/token-liveness.ts';
import type { Clock } from '../time/clock.ts';
import { jwtAccessTokenFormat } from './resource-indicators.ts';
import { dpopThumbprint, type CustomGrant } from './seams.ts';
import { policyFactsOf, policyRequestFor } from './policy-facts.ts';

export interface TokenExchangeDeps {
  readonly policy: PolicyStore;
  readonly defaults: PolicyDefaults;
  readonly checker: Pick<AccessTokenChecker, 'checkAnyAudience'>;
  readonly now: Clock;
  /** Seconds a second factor counts as recent for high-sensitivity scopes. */
  readonly mfaMaxAge: number;
  readonly signingKid: () => string;
}

// RFC 8693 §2.1. `resource` and `audience` name the target; neither may repeat (one token, one
// audience, as for every govauth grant).
const PARAMETERS = ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'resource', 'audience', 'scope'] as const;
type Params = Partial<Record<(typeof PARAMETERS)[number], string>>;

/** An OAuth error with a description for the client and a stable reason for the audit record. */
function refusal(error: string, description: string, reason: string): Error {
  const err = error === 'invalid_client' ? new errors.InvalidClient(description, reason) : new errors.CustomOIDCProviderError(error, description, { detail: reason });
  return err;
}

const badRequest = (description: string, reason = 'invalid_request'): Error => refusal('invalid_request', description, reason);

/** §2.1: the token types govauth exchanges and issues; anything else is invalid_request (§2.2.2). */
function checkParameters(p: Params): void {
  if (!p.subject_token) throw badRequest("missing required parameter 'subject_token'");
  if (!p.subject_token_type) throw badRequest("missing required parameter 'subject_token_type'");
  if (p.subject_token_type !== ACCESS_TOKEN_TYPE) throw badRequest(`unsupported subject_token_type: govauth exchanges the access tokens it issued (${ACCESS_TOKEN_TYPE})`, 'unsupported_token_type');
  if (p.actor_token !== undefined && !p.actor_token_type) throw badRequest("'actor_token_type' is required with 'actor_token'");
  if (p.actor_token === undefined && p.actor_token_type !== undefined) throw badRequest("'actor_token_type' was given without 'actor_token'");
  if (p.actor_token_type !== undefined && p.actor_token_type !== ACCESS_TOKEN_TYPE) throw badRequest(`unsupported actor_token_type: use ${ACCESS_TOKEN_TYPE}`, 'unsupported_token_type');
  if (p.requested_token_type !== undefined && p.requested_token_type !== ACCESS_TOKEN_TYPE) throw badRequest(`unsupported requested_token_type: govauth issues ${ACCESS_TOKEN_TYPE}`, 'unsupported_token_type');
  for (const name of ['subject_token', 'actor_token'] as const) {
    const v = p[name];
    if (v !== undefined && v.length > 8192) throw badRequest(`'${name}' is too long`);
  }
}

/** The target: `resource` (RFC 8707) or `audience` (RFC 8693 §2.1), else the subject token's own. */
function targetOf(p: Params, subjectAudience: string): string {
  const named = p.resource ?? p.audience;
  if (p.resource !== undefined && p.audience !== undefined && p.resource !== p.audience) {
    throw refusal('invalid_target', "'resource' and 'audience' name different targets", 'resource_mismatch');
  }
  if (named === undefined) return subjectAudience;
  const url = URL.parse(named);
  // RFC 8707 §2: an absolute URI without a fragment. govauth names its resources (the
  // audiences of RFC 8693 §2.1) only so; the description names the parameter the client sent.
  if (!url || named.includes('#')) throw refusal('invalid_target', `the ${p.resource === undefined ? 'audience' : 'resource'} must be an absolute URI without a fragment`, 'invalid_resource');
  return named;
}

const INACTIVE: Record<string, string> = {
  expired: 'has expired',
  not_yet_valid: 'is not valid yet',
  invalid: 'is not an access token issued by this server',
};
const inactive = (which: string, reason: string): Error => refusal('invalid_grant', `the ${which} ${INACTIVE[reason] ?? 'is no longer active'}`, `${which}_${reason}`);

const audienceOf = (c: JWTPayload): string => String(Array.isArray(c.aud) ? c.aud[0] : c.aud);
const scopesOf = (c: JWTPayload): string[] => (typeof c.scope === 'string' ? c.scope.split(' ').filter(Boolean) : []);
const jktOf = (c: JWTPayload): string | undefined => (c.cnf as { jkt?: string } | undefined)?.jkt;

async function subjectToken(deps: TokenExchangeDeps, token: string): Promise<{ claims: JWTPayload; subject: SubjectToken }> {
  const r = await deps.checker.checkAnyAudience(token);
  if (!r.active) throw inactive('subject_token', r.reason);
  const c = r.claims;
  // Agents act for people: a client's own token has nobody to act for.
  if (!isUserSubject(c.sub)) throw refusal('invalid_grant', 'the subject_token does not represent a person', 'subject_not_person');
  // A sender-constrained token (RFC 9449 §6, RFC 8705 §3) is usable only with its holder's key,
  // which the agent does not have; exchanging it would strip the binding.
  if (c.cnf !== undefined) throw refusal('invalid_grant', 'the subject_token is bound to its holder’s key and cannot be exchanged', 'subject_sender_constrained');
  // A CIBA token: the person approved that agent for that request only (act-claim.ts approvalClaims).
  if (approvalOf(c) !== undefined) throw refusal('invalid_grant', 'the subject_token was approved by its person for one agent and request (CIBA) and cannot be exchanged', 'subject_ciba_approval');
  const chain = chainOf(c) ?? [];
  const mayAct = (c.may_act as { sub?: unknown } | undefined)?.sub;
  const iat = Number(c.iat);
  return {
    claims: c,
    subject: {
      jti: String(c.jti),
      exchangedFrom: exchangedFromOf(c) ?? [],
      audience: audienceOf(c),
      scopes: scopesOf(c),
      exp: Number(c.exp),
      chain,
      mayAct: typeof mayAct === 'string' ? mayAct : undefined,
      sourceIat: typeof c.source_iat === 'number' ? Math.min(c.source_iat, iat) : iat,
      grantId: typeof c.grant_id === 'string' ? c.grant_id : undefined,
    },
  };
}

/** §2.1 actor_token: here, the authenticated agent's own token (its client_credentials token). */
async function actorToken(deps: TokenExchangeDeps, token: string, clientId: string, jkt: string | undefined): Promise<JWTPayload> {
  const r = await deps.checker.checkAnyAudience(token);
  if (!r.active) throw inactive('actor_token', r.reason);
  const c = r.claims;
  if (c.sub !== clientId || c.client_id !== clientId || c.act !== undefined) {
    throw refusal('invalid_grant', 'the actor_token must be an access token the authenticated client obtained for itself', 'actor_not_client');
  }
  const bound = jktOf(c);
  if (bound !== undefined && bound !== jkt) throw refusal('invalid_grant', 'the actor_token is DPoP-bound: present a DPoP proof with its key', 'actor_key_mismatch');
  return c;
}

export function tokenExchangeGrant(deps: TokenExchangeDeps): CustomGrant {
  const { policy } = deps;
  return {
    name: TOKEN_EXCHANGE_GRANT,
    parameters: PARAMETERS,
    async handler(ctx: TokenEndpointGrantContext): Promise<void> {
      const p = ctx.oidc.params as Params;
      const { client, provider } = ctx.oidc;
      checkParameters(p);
      // An agent must authenticate: anyone can present a public client's id (RFC 8693 §5).
      if (client.clientAuthMethod === 'none') throw refusal('unauthorized_client', 'a public client cannot exchange tokens', 'public_client');
      const jkt = await dpopThumbprint(ctx);
      const { claims, subject } = await subjectToken(deps, p.subject_token as string);
      // A refusal from here on is about this person: `govauth audit delegations --refused` finds it.
      ctx.state.concerns = String(claims.sub);
      const actor = p.actor_token === undefined ? undefined : await actorToken(deps, p.actor_token, client.clientId, jkt);
      const audience = targetOf(p, subject.audience);

      const snapshot = policy.snapshot();
      const now = deps.now();
      const user = policy.user(String(claims.sub));
      const amr = Array.isArray(claims.amr) ? claims.amr.map(String) : undefined;
      const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : undefined;
      const decision = decideExchange(snapshot, policy.revocations, deps.defaults, {
        user,
        mfa: mfaFresh(amr, authTime, deps.mfaMaxAge, now) ? 'fresh' : 'stale',
        actor: snapshot.clients.get(client.clientId),
        audience,
        requested: typeof p.scope === 'string' ? p.scope.split(' ').filter(Boolean) : undefined,
        subject,
        now,
        policy: policyRequestFor(policy, policyFactsOf(ctx, now, { amr, authTime })),
      });
      if (!decision.ok) throw refusal(decision.error, decision.description, decision.reason);
      const { grant, chain, exchangedFrom } = decision;
      await waitOutCutoff(policy.revocations, { userId: user?.id, clientId: client.clientId, roles: [...grant.roles, ...chainRoles(snapshot, chain)] }, deps.now);

      const { grantId } = subject;
      ctx.state.decision = {
        grant,
        exchange: {
          chain,
          exchangedFrom,
          subjectJti: String(claims.jti),
          actorJti: actor && String(actor.jti),
          sourceIat: subject.sourceIat,
          grantId,
          acr: typeof claims.acr === 'string' ? claims.acr : undefined,
          amr,
          authTime,
        },
      };
      const at = new provider.AccessToken({
        accountId: String(claims.sub),
        client,
        grantId: grantId as string,
        gty: 'token_exchange',
        scope: grant.scopes.join(' '),
        expiresIn: grant.ttl,
      });
      at.resourceServer = new provider.ResourceServer(audience, { scope: grant.scopes.join(' '), audience, accessTokenTTL: grant.ttl, ...jwtAccessTokenFormat(deps.signingKid) });
      if (jkt) at.setThumbprint('jkt', jkt);
      ctx.oidc.entity('AccessToken', at);
      const value = await at.save();
      // RFC 8693 §2.2.1; no refresh token: a delegation is re-exchanged from a fresh subject token.
      ctx.body = {
        access_token: value,
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: at.tokenType,
        expires_in: at.expiration,
        scope: grant.scopes.join(' '),
      };
    },
  };
}

// OpenID CIBA (Client-Initiated Backchannel Authentication Core 1.0) on oidc-provider's
// features.ciba: an agent allowed CIBA by an administrator (governance/client-ciba.ts) asks at
// /backchannel for a person's approval; govauth records the request, notifies (webhook) and shows
// it on the person's approvals page; the person's decision becomes an oidc-provider Grant (or
// access_denied) through provider.backchannelResult. The token endpoint then issues under the same
// governance as a code exchange (resource-indicators.ts, accounts-and-claims.ts).
// - No enumeration (SECURITY.md): a login_hint naming nobody (or a disabled person) is answered
//   exactly like one naming a person: an auth_req_id nobody can approve, which ends expired_token.
// - binding_message (§7.1): shown to the person, so short and printable: no control or format
//   characters (bidirectional overrides could make it read as something else), at most 64.
// - Only login_hint (the person's email) identifies the person: id_token_hint and
//   login_hint_token are refused with invalid_request.
import { randomBytes } from 'node:crypto';
import type Provider from 'oidc-provider';
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { CibaConfig } from '../config/ciba-config.ts';
import type { Database } from '../db/database.ts';
import { decideCibaRequest, personForLoginHint, recordApprovalGrant, recordCibaRequest, type CibaDecisionInput } from '../governance/ciba-requests.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import type { Actor } from '../audit/audit-chain.ts';
import type { UserDef } from '../governance/policy-model.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../time/clock.ts';
import type { RateLimiter } from '../ratelimit/rate-limiter.ts';
import { SlowDown } from './token-rate-limit.ts';
import type { Middleware } from 'koa';
import { recordCibaPoll } from '../db/ciba-request-repository.ts';
import { protocolOf } from './seams.ts';

/** Code points a binding message may have (CIBA Core §7.1 suggests a short message). */
const BINDING_MESSAGE_MAX = 64;
/** Control (Cc), format (Cf: bidi overrides, zero-width), separators other than space, unassigned and private-use. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cn}\p{Co}\p{Cs}]/u;

/** The account id of a login_hint that names nobody who may approve: never a person's (usr_…). */
const NOBODY = 'ciba-nobody:';
export const isNobody = (accountId: string | undefined): boolean => accountId?.startsWith(NOBODY) === true;

export interface CibaDeps {
  readonly config: CibaConfig;
  readonly db: Database;
  readonly policy: PolicyStore;
  readonly log: Logger;
  readonly now: Clock;
  readonly limiter: RateLimiter;
}

type CibaFeature = NonNullable<NonNullable<Configuration['features']>['ciba']>;

function checkBindingMessage(message: unknown): void {
  if (message === undefined) return;
  if (typeof message !== 'string' || !message.trim()) throw new errors.InvalidBindingMessage('binding_message must not be empty');
  if ([...message].length > BINDING_MESSAGE_MAX) throw new errors.InvalidBindingMessage(`binding_message must be at most ${BINDING_MESSAGE_MAX} characters`);
  if (!message.isWellFormed() || UNPRINTABLE.test(message)) throw new errors.InvalidBindingMessage('binding_message must not contain control or formatting characters');
}

const POLICY_UNAVAILABLE = 'the access policy cannot be evaluated right now; try again later';
const policyUnavailable = (policy: Pick<PolicyStore, 'abac'>): boolean => policy.abac?.active().state === 'unavailable';

/**
 * Before oidc-provider consumes an approved auth_req_id (seams.ts patchCibaPolling): while the
 * active policy set cannot be loaded, answer temporarily_unavailable with the approval still
 * redeemable, so the agent's retry succeeds once it loads. Refusing later, at
 * getResourceServerInfo, would leave it consumed, and a retry would revoke the grant.
 */
export function cibaRedeemCheck(policy: Pick<PolicyStore, 'abac'>): () => void {
  return () => {
    if (policyUnavailable(policy)) throw new errors.TemporarilyUnavailable(POLICY_UNAVAILABLE);
  };
}

const clientActor = (ctx: KoaContextWithOIDC, clientId: string): Actor => ({ actorType: 'client', actor: clientId, requestId: String(ctx.state.requestId ?? ''), ip: ctx.ip });

/** oidc-provider's features.ciba; disabled unless GOVAUTH_CIBA is on. */
export function cibaFeature(deps: CibaDeps): CibaFeature {
  if (!deps.config.enabled) return { enabled: false };
  return {
    enabled: true,
    // Push mode would hand the token to a URL rather than to the authenticated client (§10.3).
    deliveryModes: ['poll', 'ping'],
    async processLoginHint(_ctx, loginHint) {
      const user = typeof loginHint === 'string' ? await personForLoginHint(deps.db, deps.policy, loginHint) : undefined;
      return user?.id ?? `${NOBODY}${randomBytes(12).toString('base64url')}`;
    },
    processLoginHintToken() {
      throw new errors.InvalidRequest('login_hint_token is not supported: identify the person with login_hint (their email)');
    },
    // Runs before the person is looked up (lib/actions/authorization/index.js checkCibaContext).
    async validateRequestContext(ctx) {
      // Only an administrator's choice counts (governance/client-ciba.ts): a client that describes
      // itself (a metadata document, RFC 7591) cannot give itself the CIBA grant in its metadata.
      const def = deps.policy.snapshot().clients.get(ctx.oidc.client?.clientId ?? '');
      if (!def?.ciba || def.disabled) throw new errors.UnauthorizedClient('this client is not allowed CIBA (an administrator must allow it)');
      // Each request notifies a person: GOVAUTH_CIBA_REQUESTS_PER_MINUTE per client, whoever it names
      // (counted before the person is looked up, so the answer says nothing about them).
      if (deps.config.requestsPerMinute > 0) {
        const verdict = await deps.limiter.take({ name: 'ciba-request-client', limit: deps.config.requestsPerMinute, windowSeconds: 60 }, def.id);
        if (!verdict.allowed) {
          ctx.set('Retry-After', String(verdict.retryAfterSeconds));
          if (verdict.first) deps.log.warn('CIBA request rate limit reached', { client: def.id, limitPerMinute: deps.config.requestsPerMinute });
          throw new SlowDown(`too many CIBA requests from this client (limit ${deps.config.requestsPerMinute} per minute); retry after ${verdict.retryAfterSeconds} s`);
        }
      }
      // Fail closed (issue 24): no request a person would be asked to approve while the active
      // policy set cannot be loaded (RFC 6749 §5.2 temporarily_unavailable: retry later).
      if (policyUnavailable(deps.policy)) throw new errors.TemporarilyUnavailable(POLICY_UNAVAILABLE);
      if (ctx.oidc.params?.id_token_hint !== undefined) throw new errors.InvalidRequest('id_token_hint is not supported: identify the person with login_hint (their email)');
      // One resource per request: the token is for it (RFC 8707), and the person approves it by name.
      const resources = Object.keys(ctx.oidc.resourceServers ?? {});
      if (resources.length !== 1) throw new errors.InvalidTarget(resources.length ? 'a CIBA request is for one resource' : 'name the resource (or request a scope of exactly one resource)');
    },
    validateBindingMessage(_ctx, bindingMessage) {
      checkBindingMessage(bindingMessage);
      return Promise.resolve();
    },
    // user_code (§7.1) is not used: the person approves after signing in to govauth.
    verifyUserCode: () => Promise.resolve(),
    async triggerAuthenticationDevice(ctx, request, account, client) {
      const resource = [request.resource ?? []].flat()[0];
      await recordCibaRequest(
        deps.db,
        {
          authReqId: String(request.jti),
          clientId: client.clientId,
          userId: isNobody(account.accountId) ? undefined : account.accountId,
          bindingMessage: typeof request.params?.binding_message === 'string' ? request.params.binding_message : undefined,
          scopes: String(request.scope ?? '').split(' ').filter(Boolean),
          resource,
          // As the agent was told (expires_in): oidc-provider stamps exp from it when saving.
          expiresAt: (request.exp ?? Math.floor(deps.now() / 1000) + request.expiration) * 1000,
        },
        clientActor(ctx, client.clientId),
        deps.now(),
      );
    },
  };
}

/** The expires_in of an auth_req_id: GOVAUTH_CIBA_REQUEST_TTL, or less when the client asks (requested_expiry, §7.1). */
export function cibaRequestTtl(config: CibaConfig) {
  return (ctx: KoaContextWithOIDC | undefined): number => {
    const asked = Number(ctx?.oidc?.params?.requested_expiry);
    return Number.isSafeInteger(asked) && asked > 0 ? Math.min(asked, config.requestTtl) : config.requestTtl;
  };
}

/** The person's sign-in that decides (oidc/account-session.ts): how they authenticated goes into the tokens (acr, amr, auth_time). */
interface DecidingSession {
  readonly acr: string | undefined;
  readonly amr: readonly string[] | undefined;
  readonly authTime: number | undefined;
}

export interface CibaApprovals {
  decide(id: string, user: UserDef, session: DecidingSession, input: CibaDecisionInput, by: Actor): Promise<{ approved: boolean }>;
}

/**
 * Turns the person's decision (governance/ciba-requests.ts) into oidc-provider's result for the
 * auth_req_id: a Grant of exactly the approved scopes for the one resource, or access_denied.
 * backchannelResult also pings a ping-mode client (through outbound-fetch.ts); a failed ping is
 * logged, not shown to the person: the client can still poll.
 */
export function createCibaApprovals(deps: { provider: () => Provider; db: Database; policy: PolicyStore; log: Logger; now: Clock }): CibaApprovals {
  return {
    async decide(id, user, session, input, by) {
      const outcome = await decideCibaRequest(
        deps.db,
        { snapshot: deps.policy.snapshot(), revocations: deps.policy.revocations, abac: deps.policy.abac },
        id,
        user,
        { ...input, amr: session.amr, authTime: session.authTime },
        by,
        deps.now(),
      );
      const provider = deps.provider();
      const authReqId = outcome.request.authReqId;
      try {
        if (outcome.approved) {
          const grant = new provider.Grant({ accountId: user.id, clientId: outcome.request.clientId });
          if (outcome.oidcScopes.length) grant.addOIDCScope(outcome.oidcScopes.join(' '));
          grant.addResourceScope(outcome.resource, outcome.scopes.join(' '));
          await grant.save();
          // Before the agent can redeem it: every refresh of this grant finds its approval by it (ciba-approval.ts).
          await recordApprovalGrant(deps.db, outcome.request.id, grant.jti);
          await provider.backchannelResult(authReqId, grant, { acr: session.acr, amr: session.amr ? [...session.amr] : undefined, authTime: session.authTime });
        } else {
          await provider.backchannelResult(authReqId, new errors.AccessDenied(outcome.reason));
        }
      } catch (err) {
        // Recorded as decided; the agent's poll answers from oidc-provider's copy (a failed ping
        // still leaves the result there; anything else leaves the request to expire: fail closed).
        deps.log.warn('CIBA result not fully delivered to the client', { err: (err as Error).message, request: id, client: outcome.request.clientId });
      }
      return { approved: outcome.approved };
    },
  };
}

/** The backchannel answer (§7.3) says how often to poll (GOVAUTH_CIBA_POLL_INTERVAL); slow_down enforces it (seams.ts patchCibaPolling). */
export function cibaInterval(config: CibaConfig): Middleware {
  return async (ctx, next) => {
    await next();
    const body = ctx.body as { auth_req_id?: unknown } | undefined;
    if (protocolOf(ctx)?.route === 'backchannel_authentication' && ctx.status === 200 && body && typeof body.auth_req_id === 'string') {
      ctx.body = { ...body, interval: config.pollInterval };
    }
  };
}

/**
 * Whether a poll is not too soon. A little slack below the interval: a client that waits exactly
 * `interval` seconds (as openid-client does) must not be told slow_down by clock granularity.
 */
export function cibaPollCheck(deps: Pick<CibaDeps, 'config' | 'db' | 'now'>) {
  const minGapMs = Math.max(500, deps.config.pollInterval * 1000 - 250);
  return (authReqId: string, clientId: string): Promise<boolean> => recordCibaPoll(deps.db, authReqId, clientId, new Date(deps.now()), minGapMs);
}

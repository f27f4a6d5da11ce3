// Audit records for token-endpoint decisions: tokens issued, refreshed and refused (awaited:
// the token response waits for its durable record, and is replaced by a 503 if the record
// cannot be written), and the sign-out that oidc-provider performs inside its own route.
// Both are provider middleware, registered in the ordered list of seams.ts.
import type { Middleware } from 'koa';
import type { AuditInput } from '../audit/audit-chain.ts';
import type { AuditWriter } from '../audit/audit-writer.ts';
import type { RefusalSummary } from '../audit/refusal-summary.ts';
import { CIBA_GRANT } from '../governance/client-ciba.ts';
import type { SecurityEventSink } from '../governance/security-events.ts';
import type { TokenUse } from '../governance/suspicious-use.ts';
import { CANNOT_RECORD, sendUnavailable } from '../http/error-responses.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { signOutFacts, tokenRequestFacts } from './token-response-facts.ts';
import { REFRESH_TOKEN_REUSED, REVOKES_GRANT } from './upstream-strings.ts';

/**
 * A provider middleware for RP-initiated logout (end_session_confirm): oidc-provider signs the
 * person out inside its own route and offers only a fire-and-forget event, so the `logout`
 * security event is recorded here, before the redirect leaves. Without this, sign-out was the
 * one sign-in decision missing from the trail (test/integration/audit-events.test.ts).
 */
export function endSessionAudit(events: SecurityEventSink, log: Logger): Middleware {
  return async (ctx, next) => {
    await next();
    const signOut = signOutFacts(ctx);
    if (!signOut) return; // nobody was signed in: nothing ended
    try {
      await events.record({
        type: 'logout',
        actor: signOut.accountId,
        clientId: signOut.clientId,
        ip: ctx.ip,
        requestId: String(ctx.state.requestId),
        // logout=yes ends the govauth session too; without it only this app's part of it ends.
        detail: { everywhere: signOut.everywhere },
      });
    } catch (err) {
      // The person is signed out already; a failed record must not tell them otherwise.
      log.error('audit record for a sign-out was lost', { err: (err as Error).message, requestId: ctx.state.requestId });
    }
  };
}

/**
 * A provider middleware: every token response waits for its audit record, except refusals of
 * requests without a verified client secret beyond a small allowance per address, which are
 * summarised (refusal-summary.ts).
 */
export function tokenEndpointAudit(
  writer: AuditWriter,
  log: Logger,
  refusals: RefusalSummary,
  metrics: Pick<Metrics, 'tokenIssued' | 'tokenRefused'>,
  /** Told of each minted access token's detail once its record is durable (the status list, src/statuslist). */
  recorded?: (detail: Record<string, unknown>) => void,
  /**
   * Told of each token issued to an authenticated client once its record is durable: new source
   * networks and rate anomalies (src/governance/suspicious-use.ts). Synchronous, never throws.
   */
  issued?: (use: TokenUse) => void,
): Middleware {
  return async (ctx, next) => {
    await next();
    const request = tokenRequestFacts(ctx);
    if (!request) return;
    const { grantType, clientId } = request;
    const common = { actorType: 'client' as const, actor: clientId, clientId, requestId: String(ctx.state.requestId), ip: ctx.ip };
    let input: AuditInput;
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.status === 200 && body?.access_token) {
      // What the access token says, recorded when it was minted (src/oidc/accounts-and-claims.ts);
      // absent for an opaque sign-in-only token, which names no resource.
      const at = ctx.state.decision?.minted;
      input = {
        ...common,
        action: grantType === 'refresh_token' ? 'token.refreshed' : at?.chain ? 'token.exchanged' : 'token.issued',
        subject: at?.sub,
        resource: at?.aud,
        detail: {
          grant_type: grantType,
          jti: at?.jti,
          sub: at?.sub,
          client_id: at?.clientId,
          aud: at?.aud,
          scopes: at?.scopes ?? [],
          roles: at?.roles,
          lifetime: at?.lifetime,
          grant_id: at?.grantId,
          // Item 7 of the threat model (SECURITY.md): how the token is bound, how the client proved itself.
          binding: at?.binding ?? (body.token_type === 'DPoP' ? 'dpop' : 'bearer'),
          client_auth: request.clientAuth,
          // How the person authenticated, as the token's claims say (RFC 9068 §2.2.1): with the
          // binding and ciba_request, the context the policy step judges it in again (token-liveness.ts).
          ...(at?.acr !== undefined && { acr: at.acr }),
          ...(at?.amr !== undefined && { amr: at.amr }),
          ...(at?.authTime !== undefined && { auth_time: at.authTime }),
          // What the token status list needs to judge it as introspection does (src/statuslist).
          iat: at?.iat,
          source_iat: at?.sourceIat,
          status_list: at?.statusList,
          status_idx: at?.statusIdx,
          // A token exchange (RFC 8693): the whole chain, current actor first, with the
          // delegation that let each in, the tokens presented, and every token it descends from
          // as its exchanged_from claim names them (act-claim.ts): revoking any of them ends it,
          // at introspection and so in the status list, which judges it from this record.
          ...(at?.chain && {
            act: at.chain.map((h) => h.actor),
            delegations: at.chain.map((h) => h.delegationId),
            ...(at.exchangedFrom && { exchanged_from: [...at.exchangedFrom] }),
            subject_token_jti: at.subjectJti,
            ...(at.actorJti !== undefined && { actor_token_jti: at.actorJti }),
          }),
          // The Cedar policy step (governance/abac/scope-policy.ts): the version, the policies that
          // permitted what was issued, and the scopes it removed with the policies that decided.
          ...(ctx.state.decision?.grant.policy && {
            policy_version: ctx.state.decision.grant.policy.version,
            policies: ctx.state.decision.grant.policy.permittedBy,
            policy_removed: ctx.state.decision.grant.policy.removed.map((r) => ({ scope: r.scope, reason: r.verdict.reason, policies: r.verdict.policies })),
          }),
          ...(body.refresh_token !== undefined && { refresh_token: grantType === 'refresh_token' ? 'rotated' : 'issued' }),
          ...(body.id_token !== undefined && { id_token: true }),
          // OpenID CIBA: the approval it acts on, issued or refreshed (ciba.approved names the same
          // request and who approved; oidc/ciba-approval.ts decides it for both).
          ...(at?.cibaRequest !== undefined && { ciba_request: at.cibaRequest }),
        },
      };
    } else if (ctx.status >= 400 && body?.error) {
      // A CIBA poll before the person decided (OpenID CIBA Core §11) is an answer, not a refusal:
      // a client polls every few seconds for minutes, and the request's own steps are audited (ciba.*).
      // Only for the CIBA grant and not the rate limiter's slow_down (token-rate-limit.ts), which is
      // a refusal on any grant and is recorded and counted below.
      if (grantType === CIBA_GRANT && !ctx.state.rateLimited && (body.error === 'authorization_pending' || body.error === 'slow_down')) return;
      // Counted before any summarising below; labelled with the authenticated client only.
      metrics.tokenRefused(grantType, clientId, body.error);
      const detail = ctx.state.grantError?.error_detail;
      const rateLimited = ctx.state.rateLimited;
      // Only compareClientSecret's success sets this (token-rate-limit.ts): a public client, an
      // unknown client_id or a wrong secret is anyone at all.
      const authenticated = ctx.state.clientAuthenticated === true;
      const refusal = { error: typeof body.error === 'string' ? body.error : 'unknown', grantType, clientId: request.claimedClientId };
      if (rateLimited?.first === false) {
        // The first 429 of this client or address in this window is recorded; a flood is not.
        if (!authenticated) refusals.count(ctx.ip, refusal);
        return;
      }
      const summarisable = !authenticated && !rateLimited && !(detail && REVOKES_GRANT.has(detail));
      if (summarisable && !refusals.admit(ctx.ip, refusal)) return;
      input = {
        ...common,
        action: detail === REFRESH_TOKEN_REUSED ? 'refresh.reuse_detected' : 'token.refused',
        outcome: ctx.status === 401 ? 'denied' : 'failure',
        subject: ctx.state.concerns,
        resource: request.requestedResource,
        detail: { grant_type: grantType, error: body.error, reason: detail },
      };
    } else {
      return;
    }
    try {
      await writer.record(input);
      if (ctx.status === 200) metrics.tokenIssued(grantType, clientId);
      if (ctx.status === 200 && input.detail) recorded?.(input.detail);
      // A public client ('none') has no credential to leak, and its address is its users'.
      if (ctx.status === 200 && clientId && request.clientAuth && request.clientAuth !== 'none') {
        issued?.({ clientId, ip: ctx.ip, grantType, requestId: String(ctx.state.requestId) });
      }
    } catch (err) {
      if (ctx.status === 200) metrics.tokenRefused(grantType, clientId, 'temporarily_unavailable');
      log.error('token not delivered: its audit record could not be written', { err: (err as Error).message, requestId: ctx.state.requestId });
      // Fail closed: no token leaves without its durable audit record.
      sendUnavailable(ctx, { retryAfterSeconds: 1, description: CANNOT_RECORD });
    }
  };
}

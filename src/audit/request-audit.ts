// Audit records for request-path decisions: tokens issued, refreshed and refused (awaited:
// the token response waits for its durable record, and is replaced by a 503 if the record
// cannot be written), and the security events of sign-in, consent, introspection and
// revocation. Records carry identifiers only (a jti, never a token).
import type { Middleware } from 'koa';
import { signOutFacts, tokenRequestFacts } from '../oidc/token-response-facts.ts';
import type { SecurityEvent, SecurityEventSink } from '../governance/security-events.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { ActorType, Alongside, AuditInput } from './audit-chain.ts';
import type { AuditWriter } from './audit-writer.ts';
import type { RefusalSummary } from './refusal-summary.ts';

/**
 * Refusals that revoke a grant (RFC 9700 §4.14.2 refresh token reuse; oidc-provider revokes the
 * grant of a replayed authorization code, RFC 6749 §4.1.2): each is a security event of its
 * own, so it is recorded in full even when its client did not authenticate.
 */
const REVOKES_GRANT = new Set(['refresh token already used', 'authorization code already consumed']);

const ACTOR_OF: Record<string, ActorType> = {
  'login.succeeded': 'user',
  'login.failed': 'user',
  'login.throttled': 'user',
  'mfa.succeeded': 'user',
  'mfa.failed': 'user',
  'consent.granted': 'user',
  'consent.denied': 'user',
  logout: 'user',
  'token.introspected': 'client',
  'token.revoked': 'client',
};

const FAILURES = new Set(['login.failed', 'login.throttled', 'mfa.failed', 'consent.denied']);

/** Security events → audit records. Introspection is recorded without waiting (read-only). */
export function auditSecurityEvents(writer: AuditWriter, log: Logger): SecurityEventSink {
  return {
    async record(event: SecurityEvent) {
      const input: AuditInput = {
        action: event.type,
        actorType: ACTOR_OF[event.type] ?? 'system',
        actor: event.actor,
        subject: event.actor,
        clientId: event.clientId,
        ip: event.ip,
        requestId: event.requestId,
        outcome: FAILURES.has(event.type) ? 'failure' : event.type === 'token.introspected' && event.detail?.active === false ? 'denied' : 'success',
        detail: event.detail,
      };
      if (event.type === 'token.introspected') {
        writer.record(input).catch((err: unknown) => log.error('audit record for an introspection was lost', { err: (err as Error).message, requestId: event.requestId }));
        return;
      }
      await writer.record(input);
    },
  };
}

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

/** Which principal a token was issued to, for the access review's scope usage. */
export function principalOf(sub: unknown, clientId: unknown): { type: 'user' | 'client'; id: string } | undefined {
  if (typeof sub === 'string' && sub.startsWith('usr_')) return { type: 'user', id: sub };
  if (typeof clientId === 'string') return { type: 'client', id: clientId };
  return undefined;
}

/** Keeps ScopeUsage current: one upsert in each audit batch's transaction (audit-chain.ts). */
export const scopeUsageAlongside: Alongside = (records, inputs, time) => {
  const latest = new Map<string, { type: string; id: string; scope: string; at: Date }>();
  inputs.forEach((input, i) => {
    if (input.action !== 'token.issued' && input.action !== 'token.refreshed') return;
    const d = input.detail ?? {};
    const principal = principalOf(d.sub, d.client_id);
    const at = records[i]?.at;
    if (!principal || !at || !Array.isArray(d.scopes)) return;
    for (const scope of d.scopes as string[]) latest.set(`${principal.type}\0${principal.id}\0${scope}`, { ...principal, scope, at });
  });
  if (!latest.size) return undefined;
  const rows = [...latest.values()];
  return {
    sql: `INSERT INTO "ScopeUsage" ("principalType", "principalId", "scope", "lastUsedAt") VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')}
     ON CONFLICT ("principalType", "principalId", "scope") DO UPDATE SET "lastUsedAt" = excluded."lastUsedAt"`,
    params: rows.flatMap((u) => [u.type, u.id, u.scope, time(u.at)]),
  };
};

/**
 * A provider middleware: every token response waits for its audit record, except refusals of
 * requests without a verified client secret beyond a small allowance per address, which are
 * summarised (refusal-summary.ts).
 */
export function tokenEndpointAudit(writer: AuditWriter, log: Logger, refusals: RefusalSummary, metrics: Pick<Metrics, 'tokenIssued' | 'tokenRefused'>): Middleware {
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
        action: grantType === 'refresh_token' ? 'token.refreshed' : 'token.issued',
        subject: at?.sub,
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
          ...(body.refresh_token !== undefined && { refresh_token: grantType === 'refresh_token' ? 'rotated' : 'issued' }),
          ...(body.id_token !== undefined && { id_token: true }),
        },
      };
    } else if (ctx.status >= 400 && body?.error) {
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
        action: detail === 'refresh token already used' ? 'refresh.reuse_detected' : 'token.refused',
        outcome: ctx.status === 401 ? 'denied' : 'failure',
        detail: { grant_type: grantType, error: body.error, reason: detail },
      };
    } else {
      return;
    }
    try {
      await writer.record(input);
      if (ctx.status === 200) metrics.tokenIssued(grantType, clientId);
    } catch (err) {
      if (ctx.status === 200) metrics.tokenRefused(grantType, clientId, 'temporarily_unavailable');
      log.error('token not delivered: its audit record could not be written', { err: (err as Error).message, requestId: ctx.state.requestId });
      // Fail closed: no token leaves without its durable audit record.
      ctx.status = 503;
      ctx.set('Retry-After', '1');
      ctx.body = { error: 'temporarily_unavailable', error_description: 'the service cannot record this request right now; try again shortly' };
    }
  };
}

// POST /resource-usage: a resource server reports the requests it accepted or refused, in
// batches (the resource-server kit, packages/resource-server). Each event becomes one
// `resource.request` audit record with the server as actor; an accepted request with a token
// this instance knows (the status lists' facts) names the token's subject and moves the access
// review's "last used" of the scopes the request used (ScopeUsage, security-event-records.ts).
// Authenticated like introspection (client_secret_basic, or client_id/client_secret members in
// the JSON body), by resource servers only; limited per server; validated at the edge.
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { AuditInput } from '../audit/audit-chain.ts';
import type { AuditWriter } from '../audit/audit-writer.ts';
import { AppError } from '../errors/app-error.ts';
import { CANNOT_RECORD, sendUnavailable } from '../http/error-responses.ts';
import { readJson } from '../http/json-body.ts';
import type { ClientDef } from '../governance/policy-model.ts';
import type { Logger } from '../log/logger.ts';
import type { RateLimiter } from '../ratelimit/rate-limiter.ts';
import type { KnownToken } from '../statuslist/status-lists.ts';
import type { Clock } from '../time/clock.ts';
import { authenticateClient, unauthorized, type ClientAuthDeps } from './client-authentication.ts';

export const RESOURCE_USAGE_PATH = '/resource-usage';
/** 500 events of the largest allowed size do not fit; a real batch (routes of tens of characters) does many times over. */
export const MAX_USAGE_BODY_BYTES = 256 * 1024;
const MAX_EVENTS = 500;
const MAX_FUTURE_MS = 60_000;
const MAX_AGE_MS = 86_400_000;

// Free text that reaches logs, the audit trail and terminals: no control or format characters
// (NUL, newlines, escape sequences, bidirectional overrides).
const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((v) => !/[\p{Cc}\p{Cf}]/u.test(v), 'must not contain control or format characters');
const scopeToken = z.string().min(1).max(128).regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be a scope token (RFC 6749 §3.3)');

const usageEvent = z.object({
  jti: z.string().min(1).max(256).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII').nullable(),
  route: text(200),
  decision: z.enum(['allowed', 'refused']),
  status: z.number().int().min(100).max(599),
  /** Epoch milliseconds. */
  at: z.number().int(),
  scope: z.array(scopeToken).max(50).optional(),
  reason: text(200).optional(),
});
const usageReport = z.object({ events: z.array(usageEvent).max(MAX_EVENTS) });
type UsageEvent = z.infer<typeof usageEvent>;

export interface ResourceUsageDeps extends ClientAuthDeps {
  readonly audit: Pick<AuditWriter, 'record'>;
  readonly limiter: RateLimiter;
  /** Reports per minute per resource server; 0: unlimited. */
  readonly perMinute: number;
  /** The live token with this jti, if this instance knows it (src/statuslist). */
  readonly knownToken: (jti: string) => KnownToken | undefined;
  readonly log: Logger;
  readonly now: Clock;
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const path = issue?.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') ?? '';
  return `body${path}: ${issue?.message ?? 'invalid'}`.slice(0, 300);
}

/** The audit record of one reported request. */
function recordOf(e: UsageEvent, caller: ClientDef, ctx: Context, token: KnownToken | undefined): AuditInput {
  // Only a token for the reporting server's own resource is attributed (it sees no other), and
  // only the scopes the token carries count as used.
  const mine = token && token.audience === caller.introspectAudience ? token : undefined;
  const carried = mine && e.scope ? e.scope.filter((s) => mine.scopes.includes(s)) : e.scope;
  const notCarried = mine && e.scope ? e.scope.filter((s) => !mine.scopes.includes(s)) : [];
  return {
    action: 'resource.request',
    actorType: 'client',
    actor: caller.id,
    clientId: caller.id,
    // The server reports requests to its own resource (only resource servers may report).
    resource: caller.introspectAudience ?? undefined,
    subject: mine?.sub,
    requestId: String(ctx.state.requestId),
    ip: ctx.ip,
    outcome: e.decision === 'allowed' ? 'success' : 'denied',
    detail: {
      jti: e.jti,
      route: e.route,
      decision: e.decision,
      status: e.status,
      occurred_at: new Date(e.at).toISOString(),
      ...(carried && { scope: carried }),
      ...(notCarried.length && { scope_not_in_token: notCarried }),
      ...(e.reason !== undefined && { reason: e.reason }),
      ...(mine && { token_client_id: mine.clientId }),
    },
  };
}

export function resourceUsage(deps: ResourceUsageDeps): Middleware {
  const rule = { name: 'resource-usage', limit: deps.perMinute, windowSeconds: 60 };

  async function report(ctx: Context): Promise<void> {
    const body = await readJson(ctx, MAX_USAGE_BODY_BYTES);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new AppError('invalid_request', 'body: must be a JSON object');
    const { client_id: id, client_secret: secret } = body as Record<string, unknown>;
    if ((id !== undefined && typeof id !== 'string') || (secret !== undefined && typeof secret !== 'string')) throw new AppError('invalid_request', 'client_id and client_secret must be strings');
    const caller = await authenticateClient(ctx, { ...(id !== undefined && { client_id: id }), ...(secret !== undefined && { client_secret: secret }) }, deps, { allowPublic: false });
    if (caller.introspectAudience === null) throw unauthorized(ctx, 'only resource servers may report usage');
    if (rule.limit > 0) {
      const verdict = await deps.limiter.take(rule, caller.id);
      if (!verdict.allowed) {
        ctx.set('Retry-After', String(verdict.retryAfterSeconds));
        if (verdict.first) deps.log.warn('usage report rate limit reached', { client: caller.id, limitPerMinute: rule.limit });
        throw new AppError('slow_down', `too many usage reports from this client (limit ${rule.limit} per minute); retry after ${verdict.retryAfterSeconds} s`);
      }
    }
    const parsed = usageReport.safeParse(body);
    if (!parsed.success) throw new AppError('invalid_request', firstIssue(parsed.error));
    const { events } = parsed.data;
    const now = deps.now();
    const late = events.findIndex((e) => e.at > now + MAX_FUTURE_MS || e.at < now - MAX_AGE_MS);
    if (late >= 0) throw new AppError('invalid_request', `body.events[${late}].at: must be epoch milliseconds within the last day (and not in the future)`);

    const records = events.map((e) => recordOf(e, caller, ctx, e.jti === null ? undefined : deps.knownToken(e.jti)));
    try {
      // Queued together, they go to the database in one group commit (audit-writer.ts).
      await Promise.all(records.map((r) => deps.audit.record(r)));
    } catch (err) {
      deps.log.error('usage report not recorded', { err: (err as Error).message, requestId: ctx.state.requestId });
      sendUnavailable(ctx, { retryAfterSeconds: 1, description: CANNOT_RECORD });
      return;
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 202;
    ctx.body = { accepted: records.length };
  }

  return async (ctx, next) => {
    if (ctx.path !== RESOURCE_USAGE_PATH) {
      await next();
      return;
    }
    ctx.state.route = RESOURCE_USAGE_PATH;
    if (ctx.method !== 'POST') {
      ctx.set('Allow', 'POST');
      throw new AppError('invalid_request', `${RESOURCE_USAGE_PATH} only accepts POST`);
    }
    await report(ctx);
  };
}

// Per-client rate limit on the token endpoint. It is checked right after the client has
// authenticated, before the grant is processed: counting only authenticated requests means
// nobody can spend another client's budget by sending its client_id, and checking before the
// grant means a refused request never consumes an authorization code or rotates a refresh
// token. Wrong secrets stay cheap to refuse (client-secrets.ts) and are not counted here.
//
// Public clients (token_endpoint_auth_method none) are not limited per client: anyone can
// present their client_id, and every token request they make spends one person's one-time
// code or rotating refresh token, so a per-client budget would only let one user starve all.
import type { Context, Middleware } from 'koa';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { ClientAuthThrottled, type ClientAuthFailureBudget } from '../ratelimit/client-auth-failures.ts';
import type { RateLimiter, RateRule } from '../ratelimit/rate-limiter.ts';
import type { Logger } from '../log/logger.ts';
import { protocolOf } from './seams.ts';
import { sendError } from '../http/error-responses.ts';

/**
 * 429 with `slow_down`: the OAuth error registered for token endpoint responses that ask the
 * client to slow down (RFC 8628 §3.5, IANA "OAuth Extensions Error Registry"); RFC 6749
 * §5.2 defines none for rate limiting. Retry-After says when (RFC 6585 §4).
 */
export class SlowDown extends errors.OIDCProviderError {
  constructor(description: string) {
    super(429, 'slow_down');
    this.error_description = description;
    this.allow_redirect = false;
  }
}

/**
 * Called once a client's secret has been verified (compareClientSecret, with the request it
 * serves). Marks the request as authenticated, so its refusals are always audited in full
 * (token-audit.ts), and spends from the client's token budget.
 */
export function tokenRateLimit(limiter: RateLimiter, perMinute: number, log: Logger): (clientId: string, ctx: KoaContextWithOIDC | undefined) => Promise<void> {
  const rule: RateRule = { name: 'token-client', limit: perMinute, windowSeconds: 60 };
  return async (clientId, ctx) => {
    if (ctx) ctx.state.clientAuthenticated = true;
    if (ctx?.oidc?.route !== 'token' || rule.limit <= 0) return;
    const verdict = await limiter.take(rule, clientId);
    if (verdict.allowed) return;
    ctx.set('Retry-After', String(verdict.retryAfterSeconds));
    // One audit record and log line per client and window, not one per refused request: a
    // runaway client must not turn its flood into a flood of audit writes.
    ctx.state.rateLimited = { first: verdict.first };
    if (verdict.first) log.warn('token rate limit reached', { client: clientId, limitPerMinute: rule.limit });
    throw new SlowDown(`too many token requests from this client (limit ${rule.limit} per minute); retry after ${verdict.retryAfterSeconds} s`);
  };
}

/** A client authentication refused for its address's failure budget (client-auth-failures.ts). */
export function slowDownFor(ctx: Context, err: ClientAuthThrottled): SlowDown {
  ctx.set('Retry-After', String(err.retryAfterSeconds));
  ctx.state.rateLimited = { first: err.first }; // audited once per address and window
  return new SlowDown(err.message);
}

/**
 * oidc-provider refuses an unknown or disabled client_id before compareClientSecret runs, so
 * that refusal spends from the address's failure budget here, and over it becomes the same 429
 * a known client's would (the answer must not tell which client_ids exist). A refused
 * private_key_jwt assertion (expired, replayed, another audience, badly signed) spends from it
 * too, known client or not: the budget counts failed client authentications, whatever their
 * kind. Registered inside the token endpoint's audit middleware, which then records a flood of
 * these once.
 */
export function unknownClientFailures(budget: ClientAuthFailureBudget): Middleware {
  return async (ctx, next) => {
    await next();
    const oidc = protocolOf(ctx);
    if (oidc?.route !== 'token' || ctx.status !== 401 || (ctx.body as { error?: unknown } | undefined)?.error !== 'invalid_client') return;
    const assertion = oidc.params?.client_assertion !== undefined;
    if (oidc.client && !assertion) return; // a known client's wrong secret spent in compareClientSecret
    if (!assertion && !oidc.params?.client_secret && !/^basic /i.test(ctx.get('authorization'))) return; // no secret, no argon2 to protect
    try {
      await budget.spend(ctx.ip);
    } catch (err) {
      if (!(err instanceof ClientAuthThrottled)) throw err;
      const refusal = slowDownFor(ctx, err);
      ctx.remove('WWW-Authenticate');
      sendError(ctx, refusal.statusCode, refusal.error, refusal.error_description);
    }
  };
}

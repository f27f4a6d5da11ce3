// Per-client rate limit on the token endpoint. It is checked right after the client has
// authenticated, before the grant is processed: counting only authenticated requests means
// nobody can spend another client's budget by sending its client_id, and checking before the
// grant means a refused request never consumes an authorization code or rotates a refresh
// token. Wrong secrets stay cheap to refuse (client-secrets.ts) and are not counted here.
//
// Public clients (token_endpoint_auth_method none) are not limited per client: anyone can
// present their client_id, and every token request they make spends one person's one-time
// code or rotating refresh token, so a per-client budget would only let one user starve all.
import Provider, { errors } from 'oidc-provider';
import type { RateLimiter, RateRule } from '../ratelimit/rate-limiter.ts';
import type { Logger } from '../log/logger.ts';

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

export function tokenRateLimit(limiter: RateLimiter, perMinute: number, log: Logger): (clientId: string) => Promise<void> {
  const rule: RateRule = { name: 'token-client', limit: perMinute, windowSeconds: 60 };
  return async (clientId) => {
    const ctx = Provider.ctx;
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

// Failed client authentications per source address (GOVAUTH_RATE_LIMIT_CLIENT_AUTH_FAILURES).
// A client's secret is checked against its argon2id hash until it has been verified once in
// this process (client-secrets.ts), so each wrong guess at a client not yet verified costs an
// argon2 run: random secrets at a rarely used client_id would turn cheap requests into CPU and
// memory load (security checklist 23, RFC 6819 §4.3.5), and every refused token request into a
// durable audit record. So every authentication that presents a secret and is not an
// already-verified match spends one unit of its address's budget *before* any argon2 work, and
// a success gives it back: what is counted is failures. Over budget, the address gets 429 for
// anything that would need argon2 or fail, unknown client_ids included (so the 429 does not
// tell which client_ids exist); a client whose secret is already verified keeps working from
// it, so an attacker behind the same NAT cannot lock it out.
import type { Logger } from '../log/logger.ts';
import type { RateLimiter, RateRule } from './rate-limiter.ts';

/** Thrown instead of checking a secret: the caller answers 429 with Retry-After. */
export class ClientAuthThrottled extends Error {
  readonly retryAfterSeconds: number;
  /** The first refusal for this address in this window: audit and log it once. */
  readonly first: boolean;
  constructor(retryAfterSeconds: number, first: boolean, limit: number) {
    super(`too many failed client authentications from this address (limit ${limit} per minute); retry after ${retryAfterSeconds} s`);
    this.name = 'ClientAuthThrottled';
    this.retryAfterSeconds = retryAfterSeconds;
    this.first = first;
  }
}

export interface ClientAuthFailureBudget {
  /**
   * Spends one unit for `address` (throws ClientAuthThrottled when none is left). Call
   * `succeeded()` when the secret turns out to be right: only failures count.
   */
  spend(address: string | undefined): Promise<{ succeeded(): void }>;
}

const NOTHING_SPENT = { succeeded: () => undefined };

export const unlimitedClientAuth: ClientAuthFailureBudget = { spend: () => Promise.resolve(NOTHING_SPENT) };

export function clientAuthFailureBudget(limiter: RateLimiter, perMinute: number, log: Logger): ClientAuthFailureBudget {
  const rule: RateRule = { name: 'client-auth-failures-address', limit: perMinute, windowSeconds: 60 };
  return {
    async spend(address) {
      if (rule.limit <= 0 || !address) return NOTHING_SPENT;
      const verdict = await limiter.take(rule, address);
      if (verdict.allowed) return { succeeded: () => verdict.refund() };
      if (verdict.first) log.warn('failed client authentications from one address over the limit', { ip: address, limitPerMinute: rule.limit });
      throw new ClientAuthThrottled(verdict.retryAfterSeconds, verdict.first, rule.limit);
    },
  };
}

// Counts refusals of every rate limit (token per client, sign-in per account and address,
// failed client authentications per address) at the one place all of them decide: take().
// Labelled by the rule's name, a constant of govauth's code, never by the key.
import type { RateLimiter } from '../ratelimit/rate-limiter.ts';
import type { Metrics } from './metrics.ts';

export function countRefusals(limiter: RateLimiter, metrics: Pick<Metrics, 'rateLimited'>): RateLimiter {
  return {
    async take(rule, key) {
      const verdict = await limiter.take(rule, key);
      if (!verdict.allowed) metrics.rateLimited(rule.name);
      return verdict;
    },
    flush: () => limiter.flush(),
    close: () => limiter.close(),
  };
}

// Sliding-window rate estimate from two fixed-window counters (the previous and the current
// window): the previous count is weighted by how much of it still overlaps the sliding window.
// Unlike a plain fixed window this does not let a client spend two full budgets around a
// window boundary, and it needs only two counters per key, which is what makes sharing the
// counters through the database affordable.

export interface WindowCounts {
  /** Requests counted in the previous fixed window. */
  readonly previous: number;
  /** Requests counted in the current fixed window. */
  readonly current: number;
  /** How far into the current window we are, in [0, 1). */
  readonly elapsed: number;
}

export const estimate = ({ previous, current, elapsed }: WindowCounts): number => previous * (1 - elapsed) + current;

/** Whether one more request fits under `limit` per window. */
export const admits = (counts: WindowCounts, limit: number): boolean => estimate(counts) + 1 <= limit;

/**
 * Seconds until one more request would fit, assuming no further requests meanwhile (the
 * Retry-After value, RFC 9110 §10.2.3). At least 1.
 */
export function retryAfterSeconds(counts: WindowCounts, limit: number, windowSeconds: number): number {
  const { previous, current, elapsed } = counts;
  let waitWindows: number;
  if (current + 1 <= limit) {
    // Fits once enough of the previous window has slid out: previous·(1−e) ≤ limit−current−1.
    waitWindows = previous > 0 ? 1 - (limit - current - 1) / previous - elapsed : 0;
  } else {
    // Only in the next window, once enough of this one has slid out: current·(1−e') ≤ limit−1.
    waitWindows = 1 - elapsed + Math.max(0, 1 - (limit - 1) / current);
  }
  return Math.max(1, Math.ceil(waitWindows * windowSeconds - 1e-9));
}

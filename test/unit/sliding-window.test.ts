import { describe, expect, it } from 'vitest';
import { admits, estimate, retryAfterSeconds } from '../../src/ratelimit/sliding-window.ts';

describe('sliding-window estimate', () => {
  it('weights the previous window by how much of it still overlaps', () => {
    expect(estimate({ previous: 10, current: 4, elapsed: 0.25 })).toBe(11.5);
    expect(estimate({ previous: 10, current: 4, elapsed: 0 })).toBe(14);
  });

  it('admits exactly `limit` requests in a fresh window', () => {
    let current = 0;
    while (admits({ previous: 0, current, elapsed: 0.5 }, 5)) current++;
    expect(current).toBe(5);
  });

  it('does not admit two full budgets around a window boundary', () => {
    // 5 at the end of one window, then right after the boundary the previous still counts fully.
    expect(admits({ previous: 5, current: 0, elapsed: 0.01 }, 5)).toBe(false);
    expect(admits({ previous: 5, current: 0, elapsed: 0.3 }, 5)).toBe(true);
  });

  it('says how long until one more request fits, and that it then does', () => {
    const cases = [
      { previous: 10, current: 0, elapsed: 0.1, limit: 5 },
      { previous: 3, current: 4, elapsed: 0.5, limit: 5 },
      { previous: 0, current: 5, elapsed: 0.5, limit: 5 },
      { previous: 9, current: 9, elapsed: 0.9, limit: 5 },
      { previous: 0, current: 1, elapsed: 0, limit: 1 },
    ];
    for (const { limit, ...counts } of cases) {
      expect(admits(counts, limit)).toBe(false);
      const wait = retryAfterSeconds(counts, limit, 60);
      expect(wait).toBeGreaterThanOrEqual(1);
      // Roll the windows forward by `wait` seconds with no new requests.
      const at = counts.elapsed * 60 + wait;
      const later = at < 60 ? { ...counts, elapsed: at / 60 } : { previous: at < 120 ? counts.current : 0, current: 0, elapsed: (at % 60) / 60 };
      expect(admits(later, limit), JSON.stringify({ counts, wait })).toBe(true);
      // …and one second earlier it would not have.
      const before = at - 1;
      const earlier = before < 60 ? { ...counts, elapsed: before / 60 } : { previous: counts.current, current: 0, elapsed: (before % 60) / 60 };
      if (wait > 1) expect(admits(earlier, limit), JSON.stringify({ counts, wait })).toBe(false);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { withZeros } from '../../src/console/charts.ts';

const M = 60_000;
const p = (minute: number, value: number) => ({ at: minute * M, value });

describe('withZeros (a time chart over buckets where absent means zero)', () => {
  it('a lone minute becomes a spike from and back to zero', () => {
    expect(withZeros([p(10, 5)], M, 0, 100 * M)).toEqual([p(9, 0), p(10, 5), p(11, 0)]);
  });

  it('a quiet gap drops to zero instead of joining its two ends; adjacent minutes stay joined', () => {
    expect(withZeros([p(20, 3), p(10, 5), p(11, 4)], M, 0, 100 * M)).toEqual([p(9, 0), p(10, 5), p(11, 4), p(12, 0), p(19, 0), p(20, 3), p(21, 0)]);
  });

  it('a one-minute gap gets one zero, not two', () => {
    expect(withZeros([p(10, 1), p(12, 1)], M, 0, 100 * M)).toEqual([p(9, 0), p(10, 1), p(11, 0), p(12, 1), p(13, 0)]);
  });

  it('adds no point outside the window', () => {
    expect(withZeros([p(0, 2), p(100, 7)], M, 0, 100 * M)).toEqual([p(0, 2), p(1, 0), p(99, 0), p(100, 7)]);
    expect(withZeros([], M, 0, 100 * M)).toEqual([]);
  });
});

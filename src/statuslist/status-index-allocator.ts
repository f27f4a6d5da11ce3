// Hands out status-list indices on the token path without a database write per token: this
// process reserves a block of consecutive indices (src/db/status-list-indices.ts, one short
// transaction), then gives them out from memory, in a random order within the block, and
// reserves the next block in the background when three quarters are spent, so issuance only
// waits for the database when a burst outruns that prefetch.
// - Random order (draft-ietf-oauth-status-list-20 §12.4, §12.5: "non-sequential, pseudo-random
//   or random indices"): consecutive tokens of one client do not get neighbouring indices, and an
//   index says nothing about how many tokens were issued before it.
// - A block is used for at most `maxAgeMs` after its reservation, so once a list's last block
//   was reserved, no token joins that list later than that (status-lists.ts retires lists on it).
import { randomInt } from 'node:crypto';
import type { Clock } from '../time/clock.ts';

export interface StatusIndexAllocatorDeps {
  /** Reserves a block of `blockSize` indices; resolves to its first. */
  readonly reserve: () => Promise<number>;
  readonly blockSize: number;
  readonly maxAgeMs: number;
  readonly now: Clock;
}

export interface StatusIndexAllocator {
  /** The next index (synchronous while the current block lasts). */
  next(): number | Promise<number>;
  /** The highest index this process has reserved, plus one (0: none yet). */
  highWater(): number;
}

interface Block {
  readonly start: number;
  readonly reservedAt: number;
  /** The offsets not yet given out, shuffled; taken from the end. */
  readonly order: Uint32Array;
  left: number;
}

function shuffled(size: number): Uint32Array {
  const order = new Uint32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  for (let i = size - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    const t = order[i] ?? 0;
    order[i] = order[j] ?? 0;
    order[j] = t;
  }
  return order;
}

export function createStatusIndexAllocator(deps: StatusIndexAllocatorDeps): StatusIndexAllocator {
  let current: Block | undefined;
  let spare: Promise<Block> | undefined;
  let high = 0;

  const reserve = (): Promise<Block> => {
    const pending = deps.reserve().then((start) => {
      high = Math.max(high, start + deps.blockSize);
      return { start, reservedAt: deps.now(), order: shuffled(deps.blockSize), left: deps.blockSize };
    });
    // A failed prefetch is retried by the next token that needs it, not left to reject unheard.
    pending.catch(() => {
      if (spare === pending) spare = undefined;
    });
    return pending;
  };

  const usable = (b: Block | undefined): b is Block => b !== undefined && b.left > 0 && deps.now() - b.reservedAt < deps.maxAgeMs;

  const take = (b: Block): number => {
    b.left--;
    if (b.left < deps.blockSize / 4 && !spare) spare = reserve();
    return b.start + (b.order[b.left] ?? 0);
  };

  // One reservation at a time, however many token requests wait for it.
  let refilling: Promise<void> | undefined;
  const refill = async (): Promise<number> => {
    while (!usable(current)) {
      refilling ??= (async () => {
        const next = spare ?? reserve();
        spare = undefined;
        current = await next;
      })().finally(() => {
        refilling = undefined;
      });
      await refilling;
    }
    return take(current);
  };

  return {
    next: () => (usable(current) ? take(current) : refill()),
    highWater: () => high,
  };
}

// Each client's tokens per minute against its own recent past: an exponentially weighted moving
// average (EWMA) of its per-minute counts with a one-hour time constant, so the last hour
// weighs most and a client's normal rhythm, whatever it is, becomes its baseline. A minute is
// anomalous when its count passes both a multiple of that baseline and an absolute floor (a
// client that usually takes 1 token a minute taking 4 is not news). Pure: time is a parameter.
const MINUTE_MS = 60_000;
/** Weight of the newest minute: a time constant of 60 minutes (α = 1 − e^(−1/60) ≈ 0.0165). */
const ALPHA = 1 - Math.exp(-1 / 60);
/**
 * Minutes a client must have been watched before its baseline is judged: without them a
 * restart would report every busy client at its first minute.
 */
export const WARM_UP_MINUTES = 10;

export interface RateRule {
  readonly multiplier: number;
  readonly floor: number;
  readonly cooldownMs: number;
}

interface RateAnomaly {
  /** Tokens in the current minute, this one included. */
  readonly observed: number;
  /** The client's usual tokens per minute (EWMA). */
  readonly baseline: number;
}

interface ClientRate {
  minute: number;
  count: number;
  /** EWMA over completed minutes, before bias correction. */
  average: number;
  /** Completed minutes folded into `average` (idle ones included). */
  minutes: number;
  alertedAt: number | undefined;
}

export interface RateBaselines {
  /** Counts one token of `clientId` at `at` (epoch ms); returns an anomaly to report, at most one per cool-down. */
  count(clientId: string, at: number): RateAnomaly | undefined;
  /** The client's baseline now (tokens per minute), or undefined while it warms up. */
  baseline(clientId: string, at: number): number | undefined;
}

/**
 * `clients` holds one small record per client that obtained a token since the process
 * started: bounded by the registered clients (only authenticated clients are counted).
 */
export function createRateBaselines(rule: RateRule): RateBaselines {
  const clients = new Map<string, ClientRate>();

  const advance = (c: ClientRate, minute: number): void => {
    if (minute <= c.minute) return; // a clock step backwards counts into the current minute
    const idle = minute - c.minute - 1;
    c.average = (c.average * (1 - ALPHA) + ALPHA * c.count) * (1 - ALPHA) ** idle;
    c.minutes += minute - c.minute;
    c.minute = minute;
    c.count = 0;
  };
  // Bias correction (the average started at 0): the mean of the minutes actually watched.
  const corrected = (c: ClientRate): number | undefined => (c.minutes < WARM_UP_MINUTES ? undefined : c.average / (1 - (1 - ALPHA) ** c.minutes));

  return {
    count(clientId, at) {
      const minute = Math.floor(at / MINUTE_MS);
      let c = clients.get(clientId);
      if (!c) {
        c = { minute, count: 0, average: 0, minutes: 0, alertedAt: undefined };
        clients.set(clientId, c);
      }
      advance(c, minute);
      c.count++;
      const baseline = corrected(c);
      if (baseline === undefined || c.count < rule.floor || c.count <= rule.multiplier * baseline) return undefined;
      if (c.alertedAt !== undefined && at - c.alertedAt < rule.cooldownMs) return undefined;
      c.alertedAt = at;
      return { observed: c.count, baseline };
    },
    baseline(clientId, at) {
      const c = clients.get(clientId);
      if (!c) return undefined;
      advance(c, Math.floor(at / MINUTE_MS));
      return corrected(c);
    },
  };
}

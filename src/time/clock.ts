// The one clock. Every decision that depends on "now" (token lifetimes, time-boxed roles,
// revocation cutoffs, lockouts, retention) takes a Clock from the composition root
// (src/main.ts, the CLI's entry, or a test), so a test can freeze or move time and two parts
// of one request never disagree about the instant. Nothing else in src/ reads Date.now().
export type Clock = () => number;

/** Wall-clock milliseconds since the epoch. */
export const systemClock: Clock = () => Date.now();

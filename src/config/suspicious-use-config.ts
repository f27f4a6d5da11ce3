// GOVAUTH_SUSPICIOUS_*: when a client's token use is reported as suspicious (src/governance/
// suspicious-use.ts): a token from a source network it never used, and a sudden rise of its
// token rate above its own baseline. README "Suspicious use" explains each setting.
import { parseBoolean, parseInteger } from './env-parsers.ts';
import type { Read } from './env-reader.ts';

export interface SuspiciousUseConfig {
  /** Record each client's source networks and report new ones. */
  readonly networks: boolean;
  /** Prefix lengths an address is reduced to: one network per /24 (IPv4) and /48 (IPv6) by default. */
  readonly ipv4Prefix: number;
  readonly ipv6Prefix: number;
  /** Compare each client's tokens per minute with its own baseline. */
  readonly rate: boolean;
  /** A minute is anomalous above this multiple of the baseline… */
  readonly rateMultiplier: number;
  /** …and with at least this many tokens (per instance). */
  readonly rateFloor: number;
  /** At most one rate event per client and instance in this many seconds. */
  readonly rateCooldownSeconds: number;
}

export function readSuspiciousUse(read: Read, problems: string[], tokenRateLimit: number): SuspiciousUseConfig {
  const floor = read<number | undefined>('GOVAUTH_SUSPICIOUS_RATE_FLOOR', undefined, (v) => parseInteger(v, 1, 1_000_000_000));
  const config: SuspiciousUseConfig = {
    networks: read('GOVAUTH_SUSPICIOUS_NETWORKS', true, parseBoolean),
    // Shorter than /8 (IPv4) or /16 (IPv6) would put unrelated operators in one network.
    ipv4Prefix: read('GOVAUTH_SUSPICIOUS_IPV4_PREFIX', 24, (v) => parseInteger(v, 8, 32)),
    ipv6Prefix: read('GOVAUTH_SUSPICIOUS_IPV6_PREFIX', 48, (v) => parseInteger(v, 16, 128)),
    rate: read('GOVAUTH_SUSPICIOUS_RATE', true, parseBoolean),
    // 2 at least: a multiple of 1 would report every minute above average.
    rateMultiplier: read('GOVAUTH_SUSPICIOUS_RATE_MULTIPLIER', 10, (v) => parseInteger(v, 2, 1000)),
    // 60, or the per-client token limit when that is lower (a floor above it could never be reached).
    rateFloor: floor ?? (tokenRateLimit > 0 ? Math.min(60, tokenRateLimit) : 60),
    rateCooldownSeconds: read('GOVAUTH_SUSPICIOUS_RATE_COOLDOWN', 900, (v) => parseInteger(v, 60, 86_400)),
  };
  // The per-client token limit refuses requests before they are issued: a floor set above it could
  // never be reached, and the operator would believe rate anomalies are watched.
  if (config.rate && tokenRateLimit > 0 && config.rateFloor > tokenRateLimit) {
    problems.push(
      `GOVAUTH_SUSPICIOUS_RATE_FLOOR=${config.rateFloor} is above GOVAUTH_RATE_LIMIT_TOKEN=${tokenRateLimit}: no client can reach it, so no rate anomaly would ever be reported; lower the floor (or set GOVAUTH_SUSPICIOUS_RATE=false)`,
    );
  }
  return config;
}

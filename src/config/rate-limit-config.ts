// GOVAUTH_RATE_LIMIT_*: requests per minute for the limits in src/ratelimit; 0 turns one off.
import { parseInteger } from './env-parsers.ts';
import type { Read } from './env-reader.ts';

export interface RateLimitConfig {
  /** Token requests per authenticated client. */
  readonly tokenPerClient: number;
  /** Password sign-in attempts per account (from any address). */
  readonly signInPerAccount: number;
  /** Password sign-in attempts per source address (for any account). */
  readonly signInPerAddress: number;
  /** Failed client authentications per minute per source address (client-auth-failures.ts). */
  readonly clientAuthFailuresPerAddress: number;
  /** Usage reports (POST /resource-usage) per authenticated resource server. */
  readonly resourceUsagePerClient: number;
  /** RFC 7591 registration and RFC 7592 management requests per source address. */
  readonly registrationPerAddress: number;
  /** Client ID Metadata Document fetches a source address may cause (a cached document costs none). */
  readonly metadataDocumentPerAddress: number;
}

export function readRateLimits(read: Read): RateLimitConfig {
  const perMinute = (v: string): number => parseInteger(v, 0, 1_000_000_000);
  return {
    tokenPerClient: read('GOVAUTH_RATE_LIMIT_TOKEN', 1200, perMinute),
    signInPerAccount: read('GOVAUTH_RATE_LIMIT_SIGNIN_ACCOUNT', 20, perMinute),
    signInPerAddress: read('GOVAUTH_RATE_LIMIT_SIGNIN_ADDRESS', 120, perMinute),
    clientAuthFailuresPerAddress: read('GOVAUTH_RATE_LIMIT_CLIENT_AUTH_FAILURES', 60, perMinute),
    // The kit sends at most one report a second per process: 600 covers ten processes.
    resourceUsagePerClient: read('GOVAUTH_RATE_LIMIT_RESOURCE_USAGE', 600, perMinute),
    registrationPerAddress: read('GOVAUTH_RATE_LIMIT_REGISTRATION', 20, perMinute),
    metadataDocumentPerAddress: read('GOVAUTH_RATE_LIMIT_METADATA_DOCUMENT', 30, perMinute),
  };
}

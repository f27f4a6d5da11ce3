// Proof of possession (RFC 9449 DPoP): which scope sensitivity only ever travels in a
// sender-constrained token (GOVAUTH_POP_REQUIRED_SENSITIVITY), and whether the token endpoint
// hands out DPoP nonces (GOVAUTH_DPOP_NONCE, RFC 9449 §8). Per-client and per-resource
// requirements are policy (`--require-pop`), not configuration.
import { parseBoolean, parseEnum } from './env-parsers.ts';
import type { Read } from './env-reader.ts';

const LEVELS = ['low', 'medium', 'high'] as const;

export interface PopConfig {
  /** Tokens carrying a scope of this sensitivity or above are only issued bound; null = no such rule. */
  readonly requiredSensitivity: (typeof LEVELS)[number] | null;
  /** Every DPoP proof at the token endpoint must carry a server-provided nonce (RFC 9449 §8). */
  readonly dpopNonce: boolean;
}

export function readPop(read: Read): PopConfig {
  return {
    requiredSensitivity: read('GOVAUTH_POP_REQUIRED_SENSITIVITY', null, (v) => {
      const level = parseEnum(v, [...LEVELS, 'off'] as const);
      return level === 'off' ? null : level;
    }),
    dpopNonce: read('GOVAUTH_DPOP_NONCE', false, parseBoolean),
  };
}

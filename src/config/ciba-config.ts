// OpenID CIBA (Client-Initiated Backchannel Authentication Core 1.0): whether the /backchannel
// endpoint exists (GOVAUTH_CIBA, off by default: it lets agents ask people for approval, and an
// operator turns that on knowingly), how long a request waits for the person's decision
// (GOVAUTH_CIBA_REQUEST_TTL, the auth_req_id's expires_in, §7.3), and the minimum seconds
// between two polls of the token endpoint (GOVAUTH_CIBA_POLL_INTERVAL, `interval`, §7.3; a
// faster poll is answered slow_down, §11), and how many requests one client may make a minute
// (GOVAUTH_CIBA_REQUESTS_PER_MINUTE: every request notifies a person; an agent must not flood them).
import { parseBoolean, parseInteger } from './env-parsers.ts';
import type { Read } from './env-reader.ts';

export interface CibaConfig {
  readonly enabled: boolean;
  /** Seconds a request may wait for the person (30 s – 1 h). */
  readonly requestTtl: number;
  /** Seconds between polls (1–60). */
  readonly pollInterval: number;
  /** Requests one client may make at /backchannel per minute (0 = no limit): each one notifies a person. */
  readonly requestsPerMinute: number;
}

export function readCiba(read: Read): CibaConfig {
  return {
    enabled: read('GOVAUTH_CIBA', false, parseBoolean),
    requestTtl: read('GOVAUTH_CIBA_REQUEST_TTL', 300, (v) => parseInteger(v, 30, 3600)),
    pollInterval: read('GOVAUTH_CIBA_POLL_INTERVAL', 5, (v) => parseInteger(v, 1, 60)),
    requestsPerMinute: read('GOVAUTH_CIBA_REQUESTS_PER_MINUTE', 30, (v) => parseInteger(v, 0, 100_000)),
  };
}

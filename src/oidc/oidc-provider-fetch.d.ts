// Types for the part of oidc-provider's fetch helper govauth uses (lib/helpers/fetch_request.js,
// 9.13; not covered by its semantic versioning): the connection check that destroys a socket
// whose peer is a special-use address. Only src/oidc/outbound-fetch.ts imports it (and a unit
// test its address ranges).
declare module 'oidc-provider/lib/helpers/fetch_request.js' {
  import type { Dispatcher } from 'undici-types';

  export function applySSRFProtection<T extends Dispatcher>(dispatcher: T): T;
  /** Used by test/unit/outbound-url.test.ts to hold governance/outbound-url.ts to the same ranges. */
  export function isSpecialUseIP(address: string): boolean;
}

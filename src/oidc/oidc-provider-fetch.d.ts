// Types for the part of oidc-provider's fetch helper govauth uses (lib/helpers/fetch_request.js,
// 9.13; not covered by its semantic versioning): the connection check that destroys a socket
// whose peer is a special-use address. Only src/oidc/outbound-fetch.ts imports it.
declare module 'oidc-provider/lib/helpers/fetch_request.js' {
  import type { Dispatcher } from 'undici-types';

  export function applySSRFProtection<T extends Dispatcher>(dispatcher: T): T;
}

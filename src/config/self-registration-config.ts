// Clients that identify or register themselves (MCP onboarding): Client ID Metadata Documents
// (GOVAUTH_CLIENT_ID_METADATA_DOCUMENTS) and RFC 7591 dynamic registration
// (GOVAUTH_DYNAMIC_REGISTRATION). Both off by default: each lets strangers' clients reach the
// consent page. What such a client may receive is policy (`govauth client trust-policy`), not
// configuration.
import { parseBoolean, parseEnum } from './env-parsers.ts';
import type { Read } from './env-reader.ts';

const REGISTRATION_MODES = ['off', 'token', 'open'] as const;

export interface SelfRegistrationConfig {
  /** A client_id may be an https URL whose document describes the client (fetched, cached). */
  readonly metadataDocuments: boolean;
  /** RFC 7591: off; token = an initial access token from an administrator (§3); open = anyone. */
  readonly dynamicRegistration: (typeof REGISTRATION_MODES)[number];
}

export function readSelfRegistration(read: Read): SelfRegistrationConfig {
  return {
    metadataDocuments: read('GOVAUTH_CLIENT_ID_METADATA_DOCUMENTS', false, parseBoolean),
    dynamicRegistration: read('GOVAUTH_DYNAMIC_REGISTRATION', 'off', (v) => parseEnum(v, REGISTRATION_MODES)),
  };
}

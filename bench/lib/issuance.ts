// The issuance load every benchmark sends, written once: client_credentials (RFC 6749 §4.4)
// with HTTP Basic client authentication (§2.3.1), for one resource (RFC 8707), answered with an
// RS256 `at+jwt` (RFC 9068). govauth names the resource; the baseline's default resource is the
// same audience, so both sign the same kind of token.
import { basicAuth, FORM, type LoadOptions } from './load.ts';

/** The demo resource (src/governance/demo-model.ts) every bench token is for. */
export const BENCH_RESOURCE = 'https://models.example';

export interface ClientCredentials {
  readonly client_id: string;
  readonly client_secret: string;
}

/** POST <server>/token as the fixture's bot (argon2id-hashed secret, data-scientist role). */
export function govauthTokenRequest(serverUrl: string, bot: ClientCredentials, connections: number): LoadOptions {
  return {
    url: `${serverUrl}/token`,
    method: 'POST',
    headers: { ...FORM, authorization: basicAuth(bot.client_id, bot.client_secret) },
    body: `grant_type=client_credentials&resource=${encodeURIComponent(BENCH_RESOURCE)}`,
    connections,
  };
}

/** POST <baseline>/token as bench/baseline-server.ts's static client (plaintext secret). */
export function baselineTokenRequest(serverUrl: string, connections: number): LoadOptions {
  return {
    url: `${serverUrl}/token`,
    method: 'POST',
    headers: { ...FORM, authorization: basicAuth('bench', 'bench-secret') },
    body: 'grant_type=client_credentials',
    connections,
  };
}

// The introspection load (RFC 7662 §2.1): a resource server, authenticated with HTTP Basic,
// asks about one valid access token, issued here by the fixture's bot. The token must outlive
// the benchmark (the fixture sets the resource's token TTL to an hour).
import { govauthTokenRequest, type ClientCredentials } from './issuance.ts';
import { basicAuth, FORM, type LoadOptions } from './load.ts';

/** Issues one token as `bot`, checks `rs` sees it active, and returns the request that asks again. */
export async function introspectionRequest(serverUrl: string, bot: ClientCredentials, rs: ClientCredentials, connections: number): Promise<LoadOptions> {
  const issuance = govauthTokenRequest(serverUrl, bot, connections);
  const issued = await fetch(issuance.url, { method: 'POST', headers: issuance.headers, body: issuance.body });
  if (issued.status !== 200) throw new Error(`issuing the token to introspect: ${issued.status} ${await issued.text()}`);
  const { access_token: token } = (await issued.json()) as { access_token: string };
  const options: LoadOptions = {
    url: `${serverUrl}/token/introspection`,
    method: 'POST',
    headers: { ...FORM, authorization: basicAuth(rs.client_id, rs.client_secret) },
    body: `token=${token}&token_type_hint=access_token`,
    connections,
  };
  const probe = (await (await fetch(options.url, { method: 'POST', headers: options.headers, body: options.body })).json()) as { active?: boolean };
  if (!probe.active) throw new Error('introspection probe: token not active');
  return options;
}

// A real govauth (test/helpers/test-server.ts of the repository: HTTP on an ephemeral port, a real
// database, the real CLI) with the demo catalogue, a bot holding data-scientist, and this API's
// own client credentials (for introspection and usage reports).
import { tokenRequest, type ClientCreds } from '../../../../test/helpers/oauth.ts';
import { API, createResourceServer } from '../../../../test/helpers/people.ts';
import { startTestServer, type TestServer } from '../../../../test/helpers/test-server.ts';

export { API };

export interface Govauth {
  readonly t: TestServer;
  readonly bot: ClientCreds;
  /** The resource server's own credentials (a client that may introspect API's tokens). */
  readonly rs: ClientCreds;
  /** A client_credentials access token for API. */
  token(scope?: string): Promise<string>;
}

export async function startGovauth(env: Record<string, string> = {}): Promise<Govauth> {
  const t = await startTestServer({ env: { GOVAUTH_RATE_LIMIT_TOKEN: '0', ...env } });
  await t.cliJson('init', '--demo');
  const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'inference-bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  const rs = await createResourceServer(t);
  await t.server.policy.sync();
  return {
    t,
    bot,
    rs,
    async token(scope) {
      const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API, ...(scope && { scope }) }, { basic: bot });
      if (res.status !== 200) throw new Error(`token ${res.status} ${JSON.stringify(res.body)}`);
      return String(res.body.access_token);
    },
  };
}

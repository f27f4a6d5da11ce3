// With GOVAUTH_CIBA off (the default) there is no /backchannel and discovery names none; a client
// an administrator allowed CIBA keeps its other grants (the setting waits, unused, for CIBA to be on).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { API, createUser } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await createUser(t, 'alice@example.com', ['data-scientist']);
});
afterAll(() => t?.stop());

describe('CIBA off', () => {
  it('has no backchannel endpoint; a client allowed CIBA still gets its client_credentials tokens', async () => {
    const meta = (await (await fetch(`${t.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(meta.backchannel_authentication_endpoint).toBeUndefined();
    expect(meta.grant_types_supported).not.toContain('urn:openid:params:grant-type:ciba');
    const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist', '--ciba', 'poll');
    const res = await fetch(`${t.issuer}/backchannel`, { method: 'POST', headers: { authorization: basic(bot), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ scope: 'openid ai.training.read', login_hint: 'alice@example.com', resource: API }) });
    expect(res.status).toBe(404);
    const token = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API, scope: 'ai.training.read' }, { basic: bot });
    expect(token.status).toBe(200);
  });
});

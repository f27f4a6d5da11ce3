// RFC 7591 registration and RFC 7592 management through govauth, as a client registers itself:
// with an initial access token from `govauth client registration-token`, under governance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let srv: TestServer;
let token: string;

const register = (body: unknown, auth?: string) =>
  fetch(`${srv.url}/reg`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth && { authorization: `Bearer ${auth}` }) }, body: JSON.stringify(body) });

beforeAll(async () => {
  srv = await startTestServer({ env: { GOVAUTH_DYNAMIC_REGISTRATION: 'token' } });
  const issued = await srv.cliJson<{ token: string }>('client', 'registration-token', '--expires-in', '1d', '--max-uses', '3');
  token = issued.token;
});
afterAll(() => srv.stop());

describe('dynamic registration', () => {
  it('registers a native public client with an initial access token', async () => {
    const res = await register({ client_name: 'My MCP client', redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: 'none' }, token);
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status, JSON.stringify(body)).toBe(201);
    console.log(body);
    expect(typeof body.registration_access_token).toBe('string');
  });
});

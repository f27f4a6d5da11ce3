// RFC 7591 registration and RFC 7592 management through govauth, as a client registers itself
// (openid-client) with an initial access token from `govauth client registration-token`, and
// every refusal with its exact error code.
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let srv: TestServer;

const NATIVE = { client_name: 'Desktop MCP client', redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: 'none' };

const register = (body: unknown, auth?: string) =>
  fetch(`${srv.url}/reg`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth && { authorization: `Bearer ${auth}` }) }, body: typeof body === 'string' ? body : JSON.stringify(body) });

async function registrationToken(maxUses = 10): Promise<{ id: string; token: string }> {
  return srv.cliJson<{ id: string; token: string }>('client', 'registration-token', '--expires-in', '1d', '--max-uses', String(maxUses));
}

async function refusal(res: Response): Promise<{ status: number; error: string; description: string }> {
  const body = (await res.json()) as { error: string; error_description: string };
  return { status: res.status, error: body.error, description: body.error_description };
}

beforeAll(async () => {
  srv = await startTestServer({ env: { GOVAUTH_DYNAMIC_REGISTRATION: 'token', GOVAUTH_RATE_LIMIT_REGISTRATION: '40' } });
});
afterAll(() => srv.stop());

describe('discovery', () => {
  it('names the registration endpoint, S256 and the iss response parameter', async () => {
    const meta = (await (await fetch(`${srv.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(meta.registration_endpoint).toBe(`${srv.issuer}/reg`);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
    expect(meta.client_id_metadata_document_supported).toBeUndefined();
  });
});

describe('RFC 7591 registration with an initial access token', () => {
  it('registers with openid-client, lands in the catalogue as self-registered, and counts the use', async () => {
    const { id, token } = await registrationToken(2);
    const config = await oidc.dynamicClientRegistration(new URL(srv.issuer), { ...NATIVE, application_type: 'native' }, oidc.None(), { initialAccessToken: token, execute: [oidc.allowInsecureRequests] });
    const clientId = config.clientMetadata().client_id;
    expect(clientId).toMatch(/^cl_/);
    const shown = await srv.cliJson<{ client: { name: string; redirect_uris: string[]; public: boolean } }>('client', 'show', clientId);
    expect(shown.client).toMatchObject({ name: 'Desktop MCP client', redirect_uris: NATIVE.redirect_uris, public: true });
    const listed = await srv.cliJson<{ clients: { client_id: string; kind: string; trust: string }[] }>('client', 'self-registered');
    expect(listed.clients).toContainEqual(expect.objectContaining({ client_id: clientId, kind: 'dynamic', trust: 'unreviewed' }));
    const tokens = await srv.cliJson<{ tokens: { id: string; uses: number; state: string }[] }>('client', 'registration-token', 'list');
    expect(tokens.tokens.find((x) => x.id === id)).toMatchObject({ uses: 1, state: 'live' });
  });

  it('issues a confidential client a secret once, never echoed by RFC 7592 read', async () => {
    const { token } = await registrationToken();
    const res = await register({ client_name: 'Web MCP client', redirect_uris: ['https://mcp-client.example/cb'] }, token);
    const body = (await res.json()) as Record<string, string>;
    expect(res.status).toBe(201);
    expect(body.client_secret).toMatch(/^[\w-]{40,}$/);
    const read = await fetch(body.registration_client_uri ?? '', { headers: { authorization: `Bearer ${body.registration_access_token}` } });
    const record = (await read.json()) as Record<string, unknown>;
    expect(read.status).toBe(200);
    expect(record.client_id).toBe(body.client_id);
    expect(record).not.toHaveProperty('client_secret');
  });

  it('refuses without a token, with an unknown one, a used-up one and a revoked one: 401 invalid_token', async () => {
    expect(await refusal(await register(NATIVE))).toMatchObject({ status: 401, error: 'invalid_token' });
    expect(await refusal(await register(NATIVE, 'govreg_not-a-token'))).toMatchObject({ status: 401, error: 'invalid_token' });
    const once = await registrationToken(1);
    expect((await register(NATIVE, once.token)).status).toBe(201);
    expect(await refusal(await register(NATIVE, once.token))).toMatchObject({ status: 401, error: 'invalid_token' });
    const revoked = await registrationToken();
    await srv.cliJson('client', 'registration-token', 'revoke', revoked.id);
    expect(await refusal(await register(NATIVE, revoked.token))).toMatchObject({ status: 401, error: 'invalid_token' });
  });

  it('refuses dangerous or unknown metadata with invalid_client_metadata / invalid_redirect_uri, and gives the use back', async () => {
    const { id, token } = await registrationToken(1);
    const cases: [unknown, string][] = [
      [{ ...NATIVE, redirect_uris: ['http://mcp-client.example/cb'] }, 'invalid_redirect_uri'],
      [{ ...NATIVE, application_type: 'web' }, 'invalid_redirect_uri'],
      [{ ...NATIVE, redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri'],
      [{ ...NATIVE, redirect_uris: ['https://a.example/cb#frag'] }, 'invalid_redirect_uri'],
      [{ ...NATIVE, redirect_uris: [] }, 'invalid_redirect_uri'],
      [{ ...NATIVE, redirect_uris: 'https://a.example/cb' }, 'invalid_redirect_uri'],
      [{ ...NATIVE, grant_types: ['client_credentials'] }, 'invalid_client_metadata'],
      [{ ...NATIVE, grant_types: ['urn:ietf:params:oauth:grant-type:token-exchange'] }, 'invalid_client_metadata'],
      [{ ...NATIVE, jwks_uri: 'https://169.254.169.254/keys' }, 'invalid_client_metadata'],
      [{ ...NATIVE, token_endpoint_auth_method: 'client_secret_jwt' }, 'invalid_client_metadata'],
      [{ ...NATIVE, client_name: 'a\u0000b' }, 'invalid_client_metadata'],
      [{ ...NATIVE, application_type: 'toaster' }, 'invalid_client_metadata'],
    ];
    for (const [body, error] of cases) {
      const r = await refusal(await register(body, token));
      expect(r, JSON.stringify(body)).toMatchObject({ status: 400, error });
    }
    // Hostile bodies: never a 500.
    for (const body of ['not json', '[]', 'null', '{"redirect_uris":[{}]}']) expect([400, 415]).toContain((await register(body, token)).status);
    const tokens = await srv.cliJson<{ tokens: { id: string; uses: number }[] }>('client', 'registration-token', 'list');
    expect(tokens.tokens.find((x) => x.id === id)?.uses).toBe(0);
  });
});

describe('RFC 7592 management with the registration access token', () => {
  it('reads, updates (rotating the token) and deletes; a deleted client is invalid_client', async () => {
    const { token } = await registrationToken();
    const created = (await (await register(NATIVE, token)).json()) as Record<string, string>;
    const uri = created.registration_client_uri ?? '';
    const update = await fetch(uri, {
      method: 'PUT',
      headers: { authorization: `Bearer ${created.registration_access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...NATIVE, client_id: created.client_id, client_name: 'Renamed MCP client' }),
    });
    const updated = (await update.json()) as Record<string, string>;
    expect(update.status, JSON.stringify(updated)).toBe(200);
    expect(updated.client_name).toBe('Renamed MCP client');
    expect(updated.registration_access_token).not.toBe(created.registration_access_token);
    expect((await srv.cliJson<{ client: { name: string } }>('client', 'show', created.client_id ?? '')).client.name).toBe('Renamed MCP client');
    // The replaced registration access token no longer works.
    expect((await fetch(uri, { headers: { authorization: `Bearer ${created.registration_access_token}` } })).status).toBe(401);

    const del = await fetch(uri, { method: 'DELETE', headers: { authorization: `Bearer ${updated.registration_access_token}` } });
    expect(del.status).toBe(204);
    await srv.server.policy.sync();
    const tokenRes = await fetch(`${srv.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', redirect_uri: NATIVE.redirect_uris[0] ?? '', code_verifier: 'x'.repeat(43), client_id: created.client_id ?? '' }),
    });
    expect(await refusal(tokenRes)).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('refuses a wrong registration access token with invalid_token', async () => {
    const { token } = await registrationToken();
    const created = (await (await register(NATIVE, token)).json()) as Record<string, string>;
    const res = await fetch(created.registration_client_uri ?? '', { headers: { authorization: 'Bearer nope' } });
    expect(await refusal(res)).toMatchObject({ status: 401, error: 'invalid_token' });
  });
});

describe('rate limit per source address', () => {
  it('answers 429 slow_down with Retry-After once the address spent its budget', async () => {
    let last: Response | undefined;
    for (let i = 0; i < 45; i++) {
      last = await register(NATIVE);
      if (last.status === 429) break;
    }
    expect(last?.status).toBe(429);
    expect(last?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await last?.json()) as { error: string }).error).toBe('slow_down');
  });
});

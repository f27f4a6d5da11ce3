// Behind a TLS-terminating proxy (GOVAUTH_TRUST_PROXY=true, https issuer) every cookie is
// Secure, HttpOnly, SameSite and signed; discovery shows https URLs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let clientId: string;
beforeAll(async () => {
  t = await startTestServer({ env: { GOVAUTH_ISSUER: 'https://auth.example', GOVAUTH_TRUST_PROXY: 'true' } });
  await t.cliJson('init', '--demo');
  clientId = (await t.cliJson<{ client_id: string }>('client', 'create', '--name', 'app', '--grant', 'authorization_code', '--redirect-uri', 'https://app.example/cb')).client_id;
  await t.server.policy.sync();
});
afterAll(() => t?.stop());

describe('behind a TLS-terminating proxy', () => {
  it('marks every cookie Secure, HttpOnly and SameSite, and signs it', async () => {
    const query = new URLSearchParams({
      client_id: clientId, response_type: 'code', redirect_uri: 'https://app.example/cb', scope: 'openid ai.training.read',
      code_challenge: 'x'.repeat(43), code_challenge_method: 'S256',
    });
    const res = await fetch(`${t.url}/auth?${String(query)}`, { redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/interaction\//);
    const cookies = res.headers.getSetCookie();
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) {
      expect(cookie).toMatch(/; secure/i);
      expect(cookie).toMatch(/; httponly/i);
      expect(cookie).toMatch(/; samesite=lax/i);
    }
    expect(cookies.some((c) => c.includes('.sig='))).toBe(true);
    const hsts = res.headers.get('strict-transport-security');
    expect(hsts).toContain('max-age=');
  });

  it('publishes https endpoints in discovery', async () => {
    const meta = (await (await fetch(`${t.url}/.well-known/openid-configuration`, { headers: { 'x-forwarded-proto': 'https' } })).json()) as Record<string, string>;
    expect(meta.issuer).toBe('https://auth.example');
    expect(meta.token_endpoint).toBe('https://auth.example/token');
  });
});

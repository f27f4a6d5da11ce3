// Fixtures for sign-in tests: people and a web app registered through the real CLI.
import * as oidc from 'openid-client';
import type { ClientCreds } from './oauth.ts';
import type { TestServer } from './test-server.ts';

export const API = 'https://models.example';
export const REDIRECT = 'https://app.example/callback';
export const PASSWORD = 'correct horse battery staple';

export async function createUser(t: TestServer, email: string, roles: string[], password = PASSWORD): Promise<string> {
  const r = await t.cliWithStdin(`${password}\n`, 'user', 'create', email, '--password-stdin', '--roles', roles.join(','), '--json');
  if (r.code !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as { id: string }).id;
}

export async function createWebApp(t: TestServer, extra: string[] = []): Promise<{ client_id: string; client_secret: string | null }> {
  return t.cliJson('client', 'create', '--name', 'Model Studio', '--grant', 'authorization_code', '--redirect-uri', REDIRECT, '--post-logout-redirect-uri', 'https://app.example/bye', ...extra);
}

/** A resource server for API that may introspect API's tokens, registered through the CLI. */
export function createResourceServer(t: TestServer, name = 'model-api'): Promise<ClientCreds> {
  return t.cliJson<ClientCreds>('client', 'create', '--name', name, '--resource', API, '--introspect');
}

export async function discover(t: TestServer, client: { client_id: string; client_secret: string | null }): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(t.issuer), client.client_id, client.client_secret ?? undefined, client.client_secret ? undefined : oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
}

export interface AuthRequest {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

export async function authorizationRequest(config: oidc.Configuration, scope: string, extra: Record<string, string> = {}): Promise<AuthRequest> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope,
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    resource: API,
    ...extra,
  });
  return { url, verifier, state, nonce };
}

// The kit against a real govauth behind a TLS-terminating proxy (RFC 9440 Client-Cert): a token
// govauth bound to one client certificate (RFC 8705 §3) is accepted with it and refused with
// another, whether the client authenticated with a CA-issued certificate (tls_client_auth) or a
// self-signed one registered in its JWKS (self_signed_tls_client_auth). The certificates are
// made with openssl.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, type Pem } from '../../../test/helpers/test-pki.ts';
import { requireToken } from '../src/adapters/node-http.ts';
import { API, startGovauth, type Govauth } from './helpers/govauth.ts';

let g: Govauth;
let api: Server;
let apiUrl: string;
let bot: Pem;
let other: Pem;
let token: string;
let selfSigned: Pem;
let impostor: Pem;
let selfSignedToken: string;

async function tokenWith(clientId: string, cert: Pem): Promise<string> {
  const res = await fetch(`${g.t.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'client-cert': cert.header },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: API, client_id: clientId }),
  });
  return String(((await res.json()) as Record<string, unknown>).access_token);
}

beforeAll(async () => {
  const pki = createTestPki();
  bot = pki.issue('bot', '/O=Example/CN=bot', 'bot.example');
  other = pki.issue('other', '/O=Example/CN=other', 'other.example');
  g = await startGovauth({ GOVAUTH_TRUST_PROXY: 'true', GOVAUTH_TLS_CLIENT_CA: pki.caFile });
  const client = await g.t.cliJson<{ client_id: string }>('client', 'create', '--name', 'tls-bot', '--grant', 'client_credentials', '--roles', 'data-scientist', '--tls-san-dns', 'bot.example', '--bind-certificate');
  selfSigned = pki.selfSigned('self-bot', '/CN=self-bot');
  impostor = pki.selfSigned('impostor', '/CN=self-bot');
  const jwksFile = join(pki.dir, 'self-bot.jwks.json');
  writeFileSync(jwksFile, JSON.stringify(selfSigned.jwks));
  const selfClient = await g.t.cliJson<{ client_id: string }>('client', 'create', '--name', 'self-bot', '--grant', 'client_credentials', '--roles', 'data-scientist', '--auth', 'self_signed_tls_client_auth', '--jwks-file', jwksFile);
  await g.t.server.policy.sync();
  token = await tokenWith(client.client_id, bot);
  selfSignedToken = await tokenWith(selfClient.client_id, selfSigned);
  // The API sits behind the same kind of proxy, which passes the certificate the same way.
  const guard = requireToken({ issuer: g.t.issuer, audience: API, mtls: { certificateHeader: 'Client-Cert' } });
  api = createServer((req: IncomingMessage, res: ServerResponse) => void guard(req, res).then((t) => t && res.writeHead(200).end('ok')));
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => (api ? api.close(() => resolve()) : resolve()));
  await g?.t.stop();
});

describe('a certificate-bound govauth token at the resource server', () => {
  it('is accepted with its certificate and refused with another or none', async () => {
    const call = (cert: Pem | undefined) => fetch(apiUrl, { headers: { authorization: `Bearer ${token}`, ...(cert && { 'client-cert': cert.header }) } });
    expect((await call(bot)).status).toBe(200);
    const stolen = await call(other);
    expect(stolen.status).toBe(401);
    expect(stolen.headers.get('www-authenticate')).toMatch(/invalid_token/);
    expect((await call(undefined)).status).toBe(401);
  });

  it('bound to a self-signed certificate (self_signed_tls_client_auth): accepted with it, refused with another of the same subject', async () => {
    const call = (cert: Pem) => fetch(apiUrl, { headers: { authorization: `Bearer ${selfSignedToken}`, 'client-cert': cert.header } });
    expect((await call(selfSigned)).status).toBe(200);
    const stolen = await call(impostor);
    expect(stolen.status).toBe(401);
    expect(stolen.headers.get('www-authenticate')).toMatch(/invalid_token/);
  });
});

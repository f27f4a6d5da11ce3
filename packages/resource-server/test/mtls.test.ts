// Certificate-bound tokens (RFC 8705 §3): cnf["x5t#S256"] must be the thumbprint of the client
// certificate of the request, read from the TLS connection (node:https with requestCert) or from
// a trusted proxy's Client-Cert header (RFC 9440). The stub issuer signs them here; the same
// against a real govauth is govauth-mtls.test.ts.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireToken } from '../src/adapters/node-http.ts';
import { createResourceServer, type ResourceServerOptions } from '../src/index.ts';
import { certificateFromHeader, certificateThumbprint } from '../src/mtls.ts';
import { AUDIENCE, startStubIssuer, type StubIssuer } from './helpers/stub-issuer.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const der = (pem: string): Buffer => Buffer.from(new X509Certificate(pem).raw);
const clientA = { key: fixture('client-a.key.pem'), cert: fixture('client-a.cert.pem') };
const clientB = { key: fixture('client-b.key.pem'), cert: fixture('client-b.cert.pem') };

let stub: StubIssuer;
let bound: string;
beforeAll(async () => {
  stub = await startStubIssuer();
  bound = await stub.mint({ cnf: { 'x5t#S256': certificateThumbprint(der(clientA.cert)) } });
});
afterAll(() => stub?.close());

function handler(options: Partial<ResourceServerOptions>) {
  const guard = requireToken({ issuer: stub.issuer, audience: AUDIENCE, ...options });
  return (req: IncomingMessage, res: ServerResponse) =>
    void guard(req, res).then((token) => token && res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub: token.subject })));
}

async function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function httpsGet(port: number, client: { key: string; cert: string } | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { authorization: `Bearer ${bound}` }, rejectUnauthorized: false, agent: false, ...client }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('from the TLS connection', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createHttpsServer({ key: fixture('server.key.pem'), cert: fixture('server.cert.pem'), requestCert: true, rejectUnauthorized: false }, handler({ mtls: true }));
    port = await listen(server);
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('accepts the token with the certificate it is bound to', async () => {
    expect(await httpsGet(port, clientA)).toEqual({ status: 200, body: JSON.stringify({ sub: 'cl_bot' }) });
  });

  it('refuses it with another certificate, or none', async () => {
    const other = await httpsGet(port, clientB);
    expect(other.status).toBe(401);
    expect(other.body).toContain('bound to another client certificate');
    const none = await httpsGet(port, undefined);
    expect(none.status).toBe(401);
    expect(none.body).toContain('none was presented');
  });
});

describe('from a trusted proxy’s Client-Cert header (RFC 9440)', () => {
  let port: number;
  let server: ReturnType<typeof createHttpServer>;
  beforeAll(async () => {
    server = createHttpServer(handler({ mtls: { certificateHeader: 'Client-Cert' } }));
    port = await listen(server);
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const call = (headers: Record<string, string>) => fetch(`http://127.0.0.1:${port}/`, { headers: { authorization: `Bearer ${bound}`, ...headers } }).then((r) => r.status);
  const header = (pem: string) => `:${der(pem).toString('base64')}:`;

  it('accepts the bound certificate and refuses another, a malformed value and a missing one', async () => {
    expect(await call({ 'client-cert': header(clientA.cert) })).toBe(200);
    expect(await call({ 'client-cert': header(clientB.cert) })).toBe(401);
    expect(await call({ 'client-cert': der(clientA.cert).toString('base64') })).toBe(401);
    expect(await call({ 'client-cert': ':bm90IGEgY2VydA==:' })).toBe(401);
    expect(await call({})).toBe(401);
  });

  it('parses only RFC 8941 byte sequences holding an X.509 certificate', () => {
    expect(certificateFromHeader(header(clientA.cert))?.equals(der(clientA.cert))).toBe(true);
    for (const value of ['', '::', ':!!:', `:${der(clientA.cert).toString('base64url')}:`, 'x'.repeat(10_000)]) expect(certificateFromHeader(value)).toBeUndefined();
  });

  it('announces certificate-bound tokens in the metadata', () => {
    expect(createResourceServer({ issuer: stub.issuer, audience: AUDIENCE, mtls: true }).metadata()).toMatchObject({ tls_client_certificate_bound_access_tokens: true });
  });
});

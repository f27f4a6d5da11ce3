// Mutual TLS (RFC 8705) with real TLS: govauth terminating TLS itself (client certificates
// requested, not required) and behind a TLS-terminating proxy that passes the certificate in
// the RFC 9440 Client-Cert header. A test CA and certificates are made with openssl here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigError } from '../../src/config/load-config.ts';
import { decodeJwt, type ClientCreds } from '../helpers/oauth.ts';
import { createTestPki, type Pem, type TestPki } from '../helpers/test-pki.ts';
import { tlsRequest as httpsWithCertificate, type TlsReply } from '../helpers/tls-request.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const API = 'https://models.example';
let pki: TestPki;
let bot: Pem;
let other: Pem;
let rogue: Pem;

/** An https request to govauth's own listener, presenting `cert` (or none) in the handshake. */
const tlsRequest = (url: string, path: string, options: { cert?: Pem; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<TlsReply> =>
  httpsWithCertificate(url, path, { ...options, ca: pki.server.cert });

async function introspect(t: TestServer, rs: ClientCreds, token: string): Promise<Record<string, unknown>> {
  const authorization = `Basic ${Buffer.from(`${rs.client_id}:${rs.client_secret}`).toString('base64')}`;
  return (await tlsRequest(t.url, '/token/introspection', { form: { token }, headers: { authorization } })).body;
}

beforeAll(() => {
  pki = createTestPki();
  bot = pki.issue('bot', '/O=Example/CN=bot', 'bot.example');
  other = pki.issue('other', '/O=Example/CN=other', 'other.example');
  rogue = pki.selfSigned('rogue', '/O=Example/CN=bot');
});

describe('govauth terminates TLS (GOVAUTH_TLS_CERT, GOVAUTH_TLS_KEY, GOVAUTH_TLS_CLIENT_CA)', () => {
  let t: TestServer;
  let dnBot: ClientCreds;
  let sanBot: ClientCreds;
  let secretBot: ClientCreds;
  let rs: ClientCreds;
  const token = (cert: Pem | undefined, form: Record<string, string>, headers?: Record<string, string>) =>
    tlsRequest(t.url, '/token', { cert, form: { grant_type: 'client_credentials', resource: API, ...form }, headers });

  beforeAll(async () => {
    t = await startTestServer({ env: { GOVAUTH_TLS_CERT: pki.server.certFile, GOVAUTH_TLS_KEY: pki.server.keyFile, GOVAUTH_TLS_CLIENT_CA: pki.caFile } });
    await t.cliJson('init', '--demo');
    dnBot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'dn-bot', '--grant', 'client_credentials', '--roles', 'data-scientist', '--tls-subject-dn', 'CN=bot,O=Example', '--bind-certificate');
    sanBot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'san-bot', '--grant', 'client_credentials', '--roles', 'data-scientist', '--tls-san-dns', 'bot.example');
    secretBot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'secret-bot', '--grant', 'client_credentials', '--roles', 'data-scientist', '--bind-certificate');
    rs = await t.cliJson<ClientCreds>('client', 'create', '--name', 'models', '--resource', API, '--introspect');
    await t.server.policy.sync();
  });
  afterAll(() => t?.stop());

  it('serves https: the issuer, discovery and the health route, to a client without a certificate', async () => {
    expect(t.issuer).toMatch(/^https:\/\/localhost:\d+$/);
    expect((await tlsRequest(t.url, '/healthz')).status).toBe(200);
    const discovery = await tlsRequest(t.url, '/.well-known/openid-configuration');
    expect(discovery.body.tls_client_certificate_bound_access_tokens).toBe(true);
    expect(discovery.body.token_endpoint_auth_methods_supported).toContain('tls_client_auth');
    // One listener serves every endpoint, so there are no aliases (RFC 8705 §5).
    expect(discovery.body.mtls_endpoint_aliases).toBeUndefined();
  });

  it('registers a mutual TLS client without a secret', async () => {
    expect(dnBot.client_secret).toBeNull();
    const shown = await t.cliJson<{ client: Record<string, unknown> }>('client', 'show', dnBot.client_id);
    expect(shown.client).toMatchObject({ tls_subject_dn: 'CN=bot,O=Example', tls_san: null, certificate_bound_tokens: true, public: false });
  });

  it('tls_client_auth by subject DN: a certificate-bound token whose cnf introspection returns', async () => {
    const res = await token(bot, { client_id: dnBot.client_id });
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('Bearer');
    const access = String(res.body.access_token);
    expect(decodeJwt(access).payload.cnf).toEqual({ 'x5t#S256': bot.thumbprint });
    expect(await introspect(t, rs, access)).toMatchObject({ active: true, client_id: dnBot.client_id, cnf: { 'x5t#S256': bot.thumbprint } });
  });

  it('tls_client_auth by SAN: an unbound token', async () => {
    const res = await token(bot, { client_id: sanBot.client_id });
    expect(res.status).toBe(200);
    expect(decodeJwt(String(res.body.access_token)).payload.cnf).toBeUndefined();
  });

  it('refuses with invalid_client: no certificate, another subject, an untrusted issuer', async () => {
    for (const [cert, why] of [[undefined, 'none'], [other, 'another subject'], [rogue, 'self-signed, same subject']] as const) {
      const res = await token(cert, { client_id: dnBot.client_id });
      expect(res.status, why).toBe(401);
      expect(res.body.error, why).toBe('invalid_client');
    }
    const san = await token(other, { client_id: sanBot.client_id });
    expect(san.status).toBe(401);
  });

  it('ignores a Client-Cert header without GOVAUTH_TRUST_PROXY', async () => {
    const res = await token(undefined, { client_id: dnBot.client_id }, { 'client-cert': bot.header });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('binds a secret client’s token to its certificate, and refuses the request without one', async () => {
    const auth = { client_id: secretBot.client_id, client_secret: secretBot.client_secret };
    const bound = await token(other, auth);
    expect(bound.status).toBe(200);
    expect(decodeJwt(String(bound.body.access_token)).payload.cnf).toEqual({ 'x5t#S256': other.thumbprint });
    const without = await token(undefined, auth);
    expect(without.status).toBe(400);
    expect(without.body.error).toBe('invalid_grant');
  });

  it('refuses an expired certificate with invalid_client', async () => {
    t.advance(11 * 86_400_000); // past the client certificate's 10 days
    const res = await token(bot, { client_id: sanBot.client_id });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });
});

describe('behind a TLS-terminating proxy (RFC 9440 Client-Cert, GOVAUTH_TRUST_PROXY=true)', () => {
  let t: TestServer;
  let dnBot: ClientCreds;
  const token = (header: string | undefined) =>
    fetch(`${t.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(header !== undefined && { 'client-cert': header }) },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: API, client_id: dnBot.client_id }),
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }));

  beforeAll(async () => {
    t = await startTestServer({ env: { GOVAUTH_TRUST_PROXY: 'true', GOVAUTH_TLS_CLIENT_CA: pki.caFile } });
    await t.cliJson('init', '--demo');
    dnBot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'dn-bot', '--grant', 'client_credentials', '--roles', 'data-scientist', '--tls-subject-dn', 'CN=bot,O=Example', '--bind-certificate');
    await t.server.policy.sync();
  });
  afterAll(() => t?.stop());

  it('authenticates and binds with the certificate the proxy passes', async () => {
    const res = await token(bot.header);
    expect(res.status).toBe(200);
    expect(decodeJwt(String(res.body.access_token)).payload.cnf).toEqual({ 'x5t#S256': bot.thumbprint });
  });

  it('verifies the chain itself: an untrusted certificate in the header is invalid_client', async () => {
    const res = await token(rogue.header);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('treats a malformed header as no certificate (invalid_client, never a 500)', async () => {
    for (const header of ['garbage', ':bm90IGEgY2VydA==:', bot.cert.replaceAll('\n', ' '), '::']) {
      const res = await token(header);
      expect(res.status, header).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    }
  });
});

describe('configuration and registration errors', () => {
  it('validates the TLS variables at start', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ NODE_ENV: 'test', ...env });
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems({ GOVAUTH_TLS_CLIENT_CA: pki.caFile }).join()).toMatch(/no client certificate can arrive/);
    expect(problems({ GOVAUTH_TLS_CERT: pki.server.certFile }).join()).toMatch(/GOVAUTH_TLS_CERT and GOVAUTH_TLS_KEY go together/);
    expect(problems({ GOVAUTH_TLS_CERT: '/nonexistent.pem', GOVAUTH_TLS_KEY: pki.server.keyFile }).join()).toMatch(/GOVAUTH_TLS_CERT.*cannot read/);
    expect(problems({ GOVAUTH_TLS_CERT: pki.server.keyFile, GOVAUTH_TLS_KEY: pki.server.certFile }).join()).toMatch(/no PEM certificate/);
    expect(problems({ GOVAUTH_TLS_CERT: pki.server.certFile, GOVAUTH_TLS_KEY: pki.server.keyFile, GOVAUTH_ISSUER: 'https://auth.example' })).toEqual([]);
  });

  it('refuses contradictory or malformed registrations with clear errors', async () => {
    const t = await startTestServer();
    try {
      await t.cliJson('init', '--demo');
      const create = (...args: string[]) => t.cli('client', 'create', '--name', 'x', '--grant', 'client_credentials', ...args);
      for (const [args, message] of [
        [['--tls-subject-dn', 'not a dn'], /RFC 4514/],
        [['--tls-subject-dn', 'CN=bot', '--tls-san-dns', 'bot.example'], /not both/],
        [['--tls-san-dns', 'a.example', '--tls-san-uri', 'spiffe://x'], /one subject alternative name/],
        [['--tls-san-dns', 'a b'], /without spaces/],
      ] as const) {
        const r = await create(...args);
        expect(r.code, args.join(' ')).not.toBe(0);
        expect(r.stderr, args.join(' ')).toMatch(message);
        expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
      }
      const rs = await t.cli('client', 'create', '--name', 'rs', '--resource', API, '--introspect', '--tls-subject-dn', 'CN=rs');
      expect(rs.stderr).toMatch(/introspection with a secret/);
    } finally {
      await t.stop();
    }
  });
});

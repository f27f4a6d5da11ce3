// self_signed_tls_client_auth (RFC 8705 §2.2) with real TLS: a client registered with the JWKS
// of its self-signed certificate (x5c) authenticates by presenting that certificate, on
// govauth's own TLS listener and behind a proxy's RFC 9440 Client-Cert header, and its tokens
// are bound to it (§3). Discovery's mtls_endpoint_aliases (§5) appear only where certificates
// are presented at another origin than the issuer's.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigError } from '../../src/config/load-config.ts';
import { decodeJwt, type ClientCreds } from '../helpers/oauth.ts';
import { createTestPki, type Pem, type TestPki } from '../helpers/test-pki.ts';
import { tlsRequest as httpsWithCertificate, type TlsReply } from '../helpers/tls-request.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const API = 'https://models.example';
const MTLS_ORIGIN = 'https://mtls.auth.example:8443';
let pki: TestPki;
let mine: Pem;
let impostor: Pem;
let issued: Pem;

/** An https request to govauth's own listener, presenting `cert` (or none) in the handshake. */
const tlsRequest = (url: string, path: string, options: { cert?: Pem; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<TlsReply> =>
  httpsWithCertificate(url, path, { ...options, ca: pki.server.cert });

const jwksFile = (pem: Pem, jwks: unknown = pem.jwks): string => {
  const file = join(pki.dir, `${pem.thumbprint.slice(0, 12)}-${Math.random().toString(36).slice(2)}.jwks.json`);
  writeFileSync(file, JSON.stringify(jwks));
  return file;
};

beforeAll(() => {
  pki = createTestPki();
  mine = pki.selfSigned('mine', '/O=Example/CN=self-bot');
  impostor = pki.selfSigned('impostor', '/O=Example/CN=self-bot'); // same subject, another key
  issued = pki.issue('issued', '/O=Example/CN=issued', 'issued.example');
});

describe('govauth terminates TLS, self-signed client certificates only (GOVAUTH_TLS_SELF_SIGNED_CLIENTS=true, no client CA)', () => {
  let t: TestServer;
  let bot: ClientCreds;
  let rs: ClientCreds;
  const token = (cert: Pem | undefined, form: Record<string, string> = {}) =>
    tlsRequest(t.url, '/token', { cert, form: { grant_type: 'client_credentials', resource: API, client_id: bot.client_id, ...form } });

  beforeAll(async () => {
    t = await startTestServer({ env: { GOVAUTH_TLS_CERT: pki.server.certFile, GOVAUTH_TLS_KEY: pki.server.keyFile, GOVAUTH_TLS_SELF_SIGNED_CLIENTS: 'true' } });
    await t.cliJson('init', '--demo');
    bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'self-bot', '--grant', 'client_credentials', '--roles', 'data-scientist', '--auth', 'self_signed_tls_client_auth', '--jwks-file', jwksFile(mine));
    rs = await t.cliJson<ClientCreds>('client', 'create', '--name', 'models', '--resource', API, '--introspect');
    await t.server.policy.sync();
  });
  afterAll(() => t?.stop());

  it('discovery offers self_signed_tls_client_auth and bound tokens, not tls_client_auth (no CA), and no aliases (one origin)', async () => {
    const d = (await tlsRequest(t.url, '/.well-known/openid-configuration')).body;
    expect(d.token_endpoint_auth_methods_supported).toContain('self_signed_tls_client_auth');
    expect(d.token_endpoint_auth_methods_supported).not.toContain('tls_client_auth');
    expect(d.tls_client_certificate_bound_access_tokens).toBe(true);
    expect(d.mtls_endpoint_aliases).toBeUndefined();
  });

  it('registers the client without a secret, its certificate in its JWKS, its tokens bound', async () => {
    expect(bot.client_secret).toBeNull();
    const shown = await t.cliJson<{ client: Record<string, unknown> }>('client', 'show', bot.client_id);
    expect(shown.client).toMatchObject({ auth_method: 'self_signed_tls_client_auth', token_endpoint_auth_method: 'self_signed_tls_client_auth', certificate_bound_tokens: true, public: false, secret: null });
    expect((await t.cli('client', 'show', bot.client_id)).stdout).toMatch(/auth:\s+self_signed_tls_client_auth \(no secret/);
  });

  it('its certificate → a token bound to it (cnf x5t#S256), which introspection reports with that thumbprint only', async () => {
    const res = await token(mine);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const access = String(res.body.access_token);
    expect(decodeJwt(access).payload.cnf).toEqual({ 'x5t#S256': mine.thumbprint });
    const authorization = `Basic ${Buffer.from(`${rs.client_id}:${rs.client_secret}`).toString('base64')}`;
    const seen = (await tlsRequest(t.url, '/token/introspection', { cert: impostor, form: { token: access }, headers: { authorization } })).body;
    expect(seen).toMatchObject({ active: true, client_id: bot.client_id, cnf: { 'x5t#S256': mine.thumbprint } });
    expect((seen.cnf as Record<string, string>)['x5t#S256']).not.toBe(impostor.thumbprint);
    // The audit record says how the token is bound and how the client authenticated.
    const rows = await t.server.db.prisma.auditEvent.findMany({ where: { action: 'token.issued' }, orderBy: { seq: 'desc' }, take: 20 });
    const record = rows.map((r) => JSON.parse(r.detail ?? '{}') as Record<string, unknown>).find((d) => d.jti === decodeJwt(access).payload.jti);
    expect(record).toMatchObject({ binding: 'mtls', client_auth: 'self_signed_tls_client_auth' });
  });

  it('refuses with invalid_client: another self-signed certificate with the same subject, a CA-issued one, none', async () => {
    for (const [cert, why] of [[impostor, 'another key, same subject'], [issued, 'issued by a CA, not registered'], [undefined, 'none']] as const) {
      const res = await token(cert);
      expect(res.status, why).toBe(401);
      expect(res.body.error, why).toBe('invalid_client');
    }
  });

  it('a client authenticates one way: no secret or client assertion stands in for the certificate', async () => {
    const withSecret = await token(mine, { client_secret: 'guess' });
    expect(withSecret.status).toBe(401);
    const authorization = `Basic ${Buffer.from(`${bot.client_id}:x`).toString('base64')}`;
    const revoke = await tlsRequest(t.url, '/token/revocation', { cert: mine, form: { token: 'x' }, headers: { authorization } });
    expect(revoke.status).toBe(401);
    expect(revoke.body.error).toBe('invalid_client');
  });

  it('replaces its certificate with client update --jwks-file; the old one stops', async () => {
    const next = pki.selfSigned('next', '/O=Example/CN=self-bot');
    const other = await t.cliJson<ClientCreds>('client', 'create', '--name', 'rotating', '--grant', 'client_credentials', '--roles', 'data-scientist', '--auth', 'self_signed_tls_client_auth', '--jwks-file', jwksFile(mine));
    const noX5c = { keys: mine.jwks.keys.map(({ x5c: _x5c, ...k }) => k) };
    const refused = await t.cli('client', 'update', other.client_id, '--jwks-file', jwksFile(mine, noX5c));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/x5c/);
    await t.cliJson('client', 'update', other.client_id, '--jwks-file', jwksFile(next));
    await t.server.policy.sync();
    const form = { grant_type: 'client_credentials', resource: API, client_id: other.client_id };
    expect((await tlsRequest(t.url, '/token', { cert: next, form })).status).toBe(200);
    expect((await tlsRequest(t.url, '/token', { cert: mine, form })).status).toBe(401);
  });

  it('review flags high-sensitivity scopes held with a shared secret and bearer tokens, not those of certificate-bound or --require-pop clients', async () => {
    const self = await t.cliJson<ClientCreds>('client', 'create', '--name', 'self-admin', '--grant', 'client_credentials', '--roles', 'admin', '--auth', 'self_signed_tls_client_auth', '--jwks-file', jwksFile(mine));
    const secret = await t.cliJson<ClientCreds>('client', 'create', '--name', 'secret-admin', '--grant', 'client_credentials', '--roles', 'admin');
    const popSecret = await t.cliJson<ClientCreds>('client', 'create', '--name', 'pop-admin', '--grant', 'client_credentials', '--roles', 'admin', '--require-pop');
    const r = await t.cliJson<{ principals: { id: string; auth_method: string | null; requires_pop: boolean | null; findings: { kind: string; scope?: string }[] }[] }>('review');
    const kinds = (id: string) => r.principals.find((p) => p.id === id)?.findings.map((f) => f.kind) ?? [];
    expect(kinds(secret.client_id)).toContain('high_sensitivity_with_shared_secret_bearer');
    expect(kinds(popSecret.client_id)).not.toContain('high_sensitivity_with_shared_secret_bearer');
    expect(kinds(self.client_id)).not.toContain('high_sensitivity_with_shared_secret_bearer');
    const entry = (id: string) => r.principals.find((p) => p.id === id);
    expect(entry(self.client_id)).toMatchObject({ auth_method: 'self_signed_tls_client_auth', requires_pop: true });
    expect(entry(popSecret.client_id)).toMatchObject({ auth_method: 'client_secret', requires_pop: true });
    expect(entry(secret.client_id)).toMatchObject({ auth_method: 'client_secret', requires_pop: false });
    const text = (await t.cli('review')).stdout;
    expect(text).toContain('auth:   self_signed_tls_client_auth · tokens: bound only');
    expect(text).toContain('auth:   client_secret · tokens: bearer allowed');
  });
});

describe('behind a TLS-terminating proxy (RFC 9440 Client-Cert), client CA too, certificates presented at another origin (GOVAUTH_MTLS_ORIGIN)', () => {
  let t: TestServer;
  let bot: ClientCreds;
  const token = (cert: Pem | undefined) =>
    fetch(`${t.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cert && { 'client-cert': cert.header }) },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: API, client_id: bot.client_id }),
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }));

  beforeAll(async () => {
    t = await startTestServer({ env: { GOVAUTH_TRUST_PROXY: 'true', GOVAUTH_TLS_CLIENT_CA: pki.caFile, GOVAUTH_MTLS_ORIGIN: MTLS_ORIGIN } });
    await t.cliJson('init', '--demo');
    bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'self-bot', '--grant', 'client_credentials', '--roles', 'data-scientist', '--auth', 'self_signed_tls_client_auth', '--jwks-file', jwksFile(mine));
    await t.server.policy.sync();
  });
  afterAll(() => t?.stop());

  it('discovery points the certificate-using endpoints at the mutual TLS origin (RFC 8705 §5)', async () => {
    const d = (await (await fetch(`${t.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(d.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['tls_client_auth', 'self_signed_tls_client_auth']));
    expect(d.token_endpoint).toBe(`${t.issuer}/token`);
    expect(d.mtls_endpoint_aliases).toEqual({
      token_endpoint: `${MTLS_ORIGIN}/token`,
      introspection_endpoint: `${MTLS_ORIGIN}/token/introspection`,
      revocation_endpoint: `${MTLS_ORIGIN}/token/revocation`,
      pushed_authorization_request_endpoint: `${MTLS_ORIGIN}/request`,
    });
    const oauth = (await (await fetch(`${t.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(oauth.mtls_endpoint_aliases).toEqual(d.mtls_endpoint_aliases);
  });

  it('authenticates with the certificate the proxy passes and binds the token to it', async () => {
    const res = await token(mine);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(decodeJwt(String(res.body.access_token)).payload.cnf).toEqual({ 'x5t#S256': mine.thumbprint });
  });

  it('refuses another certificate, even one the client CA issued, with invalid_client', async () => {
    for (const cert of [impostor, issued, undefined]) {
      const res = await token(cert);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    }
  });
});

describe('discovery without aliases where the mutual TLS origin is the issuer’s', () => {
  it('publishes no mtls_endpoint_aliases when GOVAUTH_MTLS_ORIGIN equals the issuer', async () => {
    const t = await startTestServer({ env: { GOVAUTH_TRUST_PROXY: 'true', GOVAUTH_TLS_SELF_SIGNED_CLIENTS: 'true', GOVAUTH_ISSUER: 'https://auth.example', GOVAUTH_MTLS_ORIGIN: 'https://auth.example:443' } });
    try {
      const d = (await (await fetch(`${t.url}/.well-known/openid-configuration`, { headers: { 'x-forwarded-proto': 'https' } })).json()) as Record<string, unknown>;
      expect(d.token_endpoint).toBe('https://auth.example/token');
      expect(d.token_endpoint_auth_methods_supported).toContain('self_signed_tls_client_auth');
      expect(d.mtls_endpoint_aliases).toBeUndefined();
    } finally {
      await t.stop();
    }
  });
});

describe('configuration and registration errors', () => {
  const problems = (env: Record<string, string>): string => {
    try {
      loadConfig({ NODE_ENV: 'test', ...env });
      return '';
    } catch (err) {
      return (err as ConfigError).problems.join('\n');
    }
  };

  it('validates GOVAUTH_TLS_SELF_SIGNED_CLIENTS and GOVAUTH_MTLS_ORIGIN at start', () => {
    expect(problems({ GOVAUTH_TLS_SELF_SIGNED_CLIENTS: 'true' })).toMatch(/GOVAUTH_TLS_SELF_SIGNED_CLIENTS is set but no client certificate can arrive/);
    expect(problems({ GOVAUTH_TLS_SELF_SIGNED_CLIENTS: 'maybe', GOVAUTH_TRUST_PROXY: 'true' })).toMatch(/GOVAUTH_TLS_SELF_SIGNED_CLIENTS/);
    expect(problems({ GOVAUTH_MTLS_ORIGIN: MTLS_ORIGIN, GOVAUTH_TRUST_PROXY: 'true' })).toMatch(/GOVAUTH_MTLS_ORIGIN is set but mutual TLS is off/);
    const on = { GOVAUTH_TRUST_PROXY: 'true', GOVAUTH_TLS_SELF_SIGNED_CLIENTS: 'true' };
    expect(problems({ ...on, GOVAUTH_MTLS_ORIGIN: 'http://mtls.auth.example' })).toMatch(/GOVAUTH_MTLS_ORIGIN.*https origin/);
    expect(problems({ ...on, GOVAUTH_MTLS_ORIGIN: 'https://mtls.auth.example/oauth' })).toMatch(/GOVAUTH_MTLS_ORIGIN.*without a path/);
    expect(problems({ ...on, GOVAUTH_MTLS_ORIGIN: 'not a url' })).toMatch(/GOVAUTH_MTLS_ORIGIN/);
    expect(problems({ ...on, GOVAUTH_MTLS_ORIGIN: MTLS_ORIGIN })).toBe('');
  });

  it('refuses self_signed_tls_client_auth registrations that cannot work, with clear errors', async () => {
    const t = await startTestServer();
    try {
      await t.cliJson('init', '--demo');
      const create = (...args: string[]) => t.cli('client', 'create', '--name', 'x', '--grant', 'client_credentials', ...args);
      const noX5c = { keys: mine.jwks.keys.map(({ x5c: _x5c, ...k }) => k) };
      const foreign = { keys: [{ ...mine.jwks.keys[0], x5c: impostor.jwks.keys[0]?.x5c }] };
      const badChain = { keys: [{ ...mine.jwks.keys[0], x5c: ['not base64!'] }] };
      const notCert = { keys: [{ ...mine.jwks.keys[0], x5c: [Buffer.from('hello').toString('base64')] }] };
      for (const [args, message] of [
        [['--auth', 'self_signed_tls_client_auth'], /needs the client certificate: --jwks-file/],
        [['--auth', 'self_signed_tls_client_auth', '--jwks-file', jwksFile(mine, noX5c)], /at least one key with x5c/],
        [['--auth', 'self_signed_tls_client_auth', '--jwks-file', jwksFile(mine, foreign)], /x5c\[0\] is a certificate for another key/],
        [['--auth', 'self_signed_tls_client_auth', '--jwks-file', jwksFile(mine, badChain)], /x5c must be an array/],
        [['--auth', 'self_signed_tls_client_auth', '--jwks-file', jwksFile(mine, notCert)], /x5c\[0\] is not a certificate/],
        [['--auth', 'self_signed_tls_client_auth', '--jwks-file', jwksFile(mine), '--tls-san-dns', 'a.example'], /one way/],
        [['--auth', 'tls_client_auth'], /contradicts.*client_secret client: tls_client_auth takes --tls-subject-dn/],
        [['--auth', 'private_key_jwt', '--tls-subject-dn', 'CN=bot'], /contradicts/],
        [['--auth', 'kerberos'], /unknown authentication method "kerberos"/],
      ] as const) {
        const r = await create(...args);
        expect(r.code, args.join(' ')).not.toBe(0);
        expect(r.stderr, args.join(' ')).toMatch(message);
        expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
      }
      const rs = await t.cli('client', 'create', '--name', 'rs', '--resource', API, '--introspect', '--auth', 'self_signed_tls_client_auth', '--jwks-file', jwksFile(mine));
      expect(rs.stderr).toMatch(/introspection with a secret or private_key_jwt/);
      // The registry's names are accepted and must agree too.
      expect((await create('--auth', 'client_secret_basic')).code).toBe(0);
      expect((await create('--auth', 'private_key_jwt', '--jwks-file', jwksFile(mine))).code).toBe(0);
    } finally {
      await t.stop();
    }
  });
});

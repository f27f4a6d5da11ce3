// A peer authorization server for bench/peer-bench.ts: better-auth with its OAuth 2.1 provider
// plugin, on an on-disk SQLite file (node:sqlite, no native addon), issuing RS256 JWT access
// tokens (RFC 9068) for one resource (RFC 8707) to a confidential client_credentials client
// (RFC 6749 §4.4). Configured as close to govauth's hot path as its options allow; everything
// else is left at better-auth's defaults. Installed apart from govauth (its own package.json).
// Usage: node bench/peer/better-auth/server.ts   (PEER_DATABASE=<file>, default a temp file)
// Prints one line, `peer ready {"tokenUrl":…,"jwksUrl":…,"issuer":…,"client_id":…,"client_secret":…}`.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import { jwt } from 'better-auth/plugins';
import { oauthProvider } from '@better-auth/oauth-provider';

const RESOURCE = 'https://models.example';
const SCOPE = 'models:read';
const UNREACHABLE = 1_000_000_000;
const ADMIN_EMAIL = 'admin@example.com';

const file = process.env.PEER_DATABASE ?? join(mkdtempSync(join(tmpdir(), 'peer-better-auth-')), 'auth.db');
const database = new DatabaseSync(file);
// WAL, as govauth runs SQLite; better-auth writes nothing per client_credentials JWT, so this
// mostly spares its readers a shared lock.
database.exec('PRAGMA journal_mode = WAL');

// Listen first: better-auth needs its base URL (the issuer) before it is built.
const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const options = {
  baseURL: origin,
  secret: randomBytes(32).toString('base64'),
  database,
  telemetry: { enabled: false },
  // Only so an administrator can sign up and register the bench client (client registration
  // needs a session); nothing on the token path uses it.
  emailAndPassword: { enabled: true },
  // In the path, like govauth's limiter, with a ceiling out of the bench's reach.
  rateLimit: { enabled: true, window: 60, max: UNREACHABLE },
  plugins: [
    // RS256 (RSA-2048), the algorithm govauth signs with; better-auth's default is EdDSA, about
    // six times cheaper to sign. The private key stays encrypted in the database (default).
    jwt({ jwks: { keyPairConfig: { alg: 'RS256', modulusLength: 2048 } } }),
    oauthProvider({
      loginPage: '/sign-in',
      consentPage: '/consent',
      scopes: ['openid', 'profile', 'email', 'offline_access', SCOPE],
      resources: [{ identifier: RESOURCE, signingAlgorithm: 'RS256' }],
      rateLimit: { token: { window: 60, max: UNREACHABLE } },
      // Who may register clients and give them client_credentials scopes: the bench administrator.
      clientPrivileges: ({ user }) => user?.email === ADMIN_EMAIL,
    }),
  ],
};

// Schema straight from the configuration (the same plan its CLI's `migrate` runs).
const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);
server.on('request', toNodeHandler(auth));

const admin = await auth.api.signUpEmail({
  body: { email: ADMIN_EMAIL, password: randomBytes(18).toString('base64url'), name: 'bench admin' },
  returnHeaders: true,
});
const cookie = admin.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
// A confidential client (client_secret_basic), its secret stored as better-auth's default
// "hashed" (one unsalted SHA-256), linked to the resource and allowed the one scope.
const client = await auth.api.adminCreateOAuthClient({
  headers: new Headers({ cookie }),
  body: {
    client_name: 'bench-bot',
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'client_secret_basic',
    client_credentials_scopes: [SCOPE],
    resources: [RESOURCE],
  },
});
if (!client.client_secret) throw new Error('better-auth created a client without a secret');

const tokenUrl = `${origin}/api/auth/oauth2/token`;
// One token before ready: mints the RSA signing key (lazily created on first use) and proves
// the configuration answers with a JWT.
const first = await fetch(tokenUrl, {
  method: 'POST',
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
  },
  body: `grant_type=client_credentials&resource=${encodeURIComponent(RESOURCE)}`,
});
if (first.status !== 200) throw new Error(`first token request failed: ${first.status} ${await first.text()}`);

console.log(
  `peer ready ${JSON.stringify({ tokenUrl, jwksUrl: `${origin}/api/auth/jwks`, issuer: `${origin}/api/auth`, resource: RESOURCE, client_id: client.client_id, client_secret: client.client_secret, database: file })}`,
);

process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  database.close();
});

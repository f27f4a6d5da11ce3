// A stand-in authorization server on an ephemeral port for what a real govauth cannot (yet) be
// made to do in a test: sign tokens with arbitrary claims, serve Token Status Lists and fail on
// demand, count key fetches, and collect usage reports. Signs with a test RSA key; discovery,
// JWKS and status lists are served over real HTTP, so the kit's client code runs as in production.
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';
import { SignJWT, exportJWK, type JWK } from 'jose';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwk: JWK;
}

export function newSigningKey(kid: string = randomUUID(), modulusLength = 2048): Promise<SigningKey> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  return exportJWK(publicKey).then((jwk) => ({ kid, privateKey, jwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } }));
}

/** RS256 by hand, for what jose refuses to sign (keys under 2048 bits). */
export function signRs256(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

/** A status list's `lst`: statuses packed LSB first, ZLIB-deflated, base64url. */
export function encodeStatusList(statuses: readonly number[], bits: 1 | 2 | 4 | 8): string {
  const bytes = new Uint8Array(Math.ceil((statuses.length * bits) / 8));
  statuses.forEach((status, i) => {
    const bit = i * bits;
    bytes[bit >> 3]! |= status << (bit % 8);
  });
  return deflateSync(bytes, { level: 9 }).toString('base64url');
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export interface StubIssuer {
  readonly url: string;
  readonly issuer: string;
  readonly keys: SigningKey[];
  /** Published JWKS (by default every key in `keys`). */
  published: SigningKey[];
  readonly hits: Map<string, number>;
  readonly usageReports: Array<{ authorization: string | undefined; events: unknown[]; at: number }>;
  /** Every path answers 503 while set. */
  down: boolean;
  route(path: string, handler: Handler): void;
  /** An RS256 access token; `claims` and `header` override the defaults. */
  mint(claims?: Record<string, unknown>, header?: Record<string, unknown>, key?: SigningKey): Promise<string>;
  /** Serves a signed status list at /statuslists/<id>; returns its uri. */
  setStatusList(id: string, statuses: readonly number[], options?: StatusListOptions): Promise<string>;
  close(): Promise<void>;
}

interface StatusListOptions {
  readonly bits?: 1 | 2 | 4 | 8;
  readonly ttl?: number;
  /** Seconds from now; null for no exp. */
  readonly expiresIn?: number | null;
  readonly claims?: Record<string, unknown>;
  readonly header?: Record<string, unknown>;
  readonly key?: SigningKey;
}

export const AUDIENCE = 'https://models.example';

export async function startStubIssuer(): Promise<StubIssuer> {
  const routes = new Map<string, Handler>();
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      hits.set(path, (hits.get(path) ?? 0) + 1);
      if (stub.down) return void res.writeHead(503).end();
      const handler = routes.get(path);
      if (!handler) return void res.writeHead(404).end();
      handler(req, res, Buffer.concat(chunks).toString());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const first = await newSigningKey('stub-key-1');
  const json = (res: ServerResponse, body: unknown, status = 200): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  const stub: StubIssuer = {
    url,
    issuer: url,
    keys: [first],
    published: [first],
    hits,
    usageReports: [],
    down: false,
    route: (path, handler) => void routes.set(path, handler),
    mint(claims = {}, header = {}, key = first) {
      const now = Math.floor(Date.now() / 1000);
      const payload = { iss: url, sub: 'cl_bot', aud: AUDIENCE, client_id: 'cl_bot', jti: randomUUID(), iat: now, exp: now + 300, scope: 'ai.prediction.run ai.training.read', roles: ['data-scientist'], ...claims };
      for (const [k, v] of Object.entries(payload)) if (v === undefined) delete (payload as Record<string, unknown>)[k];
      return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: key.kid, ...header }).sign(key.privateKey);
    },
    async setStatusList(id, statuses, options = {}) {
      const uri = `${url}/statuslists/${id}`;
      const now = Math.floor(Date.now() / 1000);
      const payload: Record<string, unknown> = {
        iss: url,
        sub: uri,
        iat: now,
        ttl: options.ttl ?? 10,
        status_list: { bits: options.bits ?? 1, lst: encodeStatusList(statuses, options.bits ?? 1) },
        ...(options.expiresIn === null ? {} : { exp: now + (options.expiresIn ?? 60) }),
        ...options.claims,
      };
      const key = options.key ?? first;
      const jwt = await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'statuslist+jwt', kid: key.kid, ...options.header }).sign(key.privateKey);
      routes.set(`/statuslists/${id}`, (_req, res) => void res.writeHead(200, { 'content-type': 'application/statuslist+jwt' }).end(jwt));
      return uri;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  routes.set('/.well-known/oauth-authorization-server', (_req, res) => json(res, { issuer: url, jwks_uri: `${url}/jwks`, introspection_endpoint: `${url}/token/introspection` }));
  routes.set('/jwks', (_req, res) => json(res, { keys: stub.published.map((k) => k.jwk) }));
  routes.set('/resource-usage', (req, res, body) => {
    stub.usageReports.push({ authorization: req.headers.authorization, events: (JSON.parse(body) as { events: unknown[] }).events, at: Date.now() });
    res.writeHead(204).end();
  });
  server.unref();
  return stub;
}

// An https server on 127.0.0.1 (ephemeral port, a test-pki certificate) serving the JSON
// documents a test sets: what govauth fetches server-side (a client's jwks_uri; Client ID
// Metadata Documents). Also the hostile answers those fetches must survive: redirects, slow
// and oversize responses. govauth reaches it only with GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE=true
// and GOVAUTH_OUTBOUND_FETCH_CA_FILE=<caFile> (see `fetchEnv`).
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createTestPki } from './test-pki.ts';

export interface FixtureDocument {
  /** Sent as JSON (a string as is). Default `{}`. */
  readonly body?: unknown;
  /** Default 200; 301, 302, 307, 308 with `location` make a redirect. */
  readonly status?: number;
  /** Extra response headers, e.g. `{ 'cache-control': 'max-age=300' }` or `{ location: … }`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Milliseconds to wait before answering (a slow server). */
  readonly delayMs?: number;
  /** Sent in chunks without Content-Length, so only counting the bytes can stop an oversize body. */
  readonly chunked?: boolean;
}

export interface HttpsFixtureServer {
  /** https://127.0.0.1:<port> (no trailing slash). */
  readonly url: string;
  /** PEM file of the authority that signed the server's certificate. */
  readonly caFile: string;
  /** The variables with which govauth fetches from this server. */
  readonly fetchEnv: Readonly<Record<string, string>>;
  /** Serves `doc` at `path` (e.g. '/jwks.json') from now on; replaces what was there. */
  serve(path: string, doc: FixtureDocument): void;
  /** How many requests reached `path`. */
  hits(path: string): number;
  /** The requests that reached `path` (a CIBA ping's Authorization header and body), oldest first. */
  received(path: string): readonly { method: string; authorization: string | undefined; contentType: string | undefined; body: string }[];
  close(): Promise<void>;
}

export async function startHttpsFixtureServer(): Promise<HttpsFixtureServer> {
  const pki = createTestPki();
  const documents = new Map<string, FixtureDocument>();
  const counts = new Map<string, number>();
  const bodies = new Map<string, { method: string; authorization: string | undefined; contentType: string | undefined; body: string }[]>();
  const server: Server = createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://fixture').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const list = bodies.get(path) ?? [];
      list.push({ method: req.method ?? '', authorization: req.headers.authorization, contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
      bodies.set(path, list);
    });
    const doc = documents.get(path);
    if (!doc) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    const text = typeof doc.body === 'string' ? doc.body : JSON.stringify(doc.body ?? {});
    const answer = (): void => {
      if (res.destroyed) return;
      const headers = { 'content-type': 'application/json', ...doc.headers };
      if (!doc.chunked) {
        res.writeHead(doc.status ?? 200, { ...headers, 'content-length': String(Buffer.byteLength(text)) }).end(text);
        return;
      }
      res.writeHead(doc.status ?? 200, headers);
      for (let i = 0; i < text.length; i += 1024) res.write(text.slice(i, i + 1024));
      res.end();
    };
    if (doc.delayMs) setTimeout(answer, doc.delayMs).unref();
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    caFile: pki.server.certFile,
    fetchEnv: { GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE: 'true', GOVAUTH_OUTBOUND_FETCH_CA_FILE: pki.server.certFile },
    serve: (path, doc) => void documents.set(path, doc),
    hits: (path) => counts.get(path) ?? 0,
    received: (path) => bodies.get(path) ?? [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// An https request to govauth's own TLS listener that presents a client certificate (or none)
// in the handshake: what fetch cannot do. Used by the mutual TLS tests (RFC 8705).
import { request } from 'node:https';
import type { Pem } from './test-pki.ts';

export interface TlsReply {
  status: number;
  body: Record<string, unknown>;
}

/** `ca`: the authority of the listener's certificate; `form`: a POST body; otherwise a GET. */
export function tlsRequest(url: string, path: string, options: { ca: string; cert?: Pem; form?: Record<string, string>; headers?: Record<string, string> }): Promise<TlsReply> {
  const body = options.form && new URLSearchParams(options.form).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      {
        method: body ? 'POST' : 'GET',
        ca: options.ca,
        ...(options.cert && { cert: options.cert.cert, key: options.cert.key }),
        headers: { ...(body && { 'content-type': 'application/x-www-form-urlencoded' }), ...options.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text } });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

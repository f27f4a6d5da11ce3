// The metrics listener (GOVAUTH_METRICS_LISTEN, 127.0.0.1:9464 by default): a plain HTTP server
// apart from the main port, answering GET /metrics and nothing else, so the scrape address can
// be firewalled separately from the public one. In a cluster it runs in the primary and its
// answer covers every worker (cluster-metrics.ts).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsSource } from './http-metrics.ts';

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(listen: { readonly host: string; readonly port: number }, source: MetricsSource, onError: (err: Error) => void): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: scrape /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('only GET\n');
      return;
    }
    source.text().then(
      (text) => res.writeHead(200, { 'Content-Type': source.contentType, 'Cache-Control': 'no-store' }).end(req.method === 'HEAD' ? undefined : text),
      (err: unknown) => {
        onError(err as Error);
        res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': '5' }).end('metrics are not available right now\n');
      },
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

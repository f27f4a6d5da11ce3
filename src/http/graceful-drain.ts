// Graceful shutdown for the HTTP server. Node's server.close() destroys every connection that
// has no response in progress, including connections whose request bytes are still arriving,
// so clients that were already talking to us would see ECONNRESET. Instead, on shutdown:
//  1. /readyz answers 503 so load balancers stop routing here, and every response carries
//     `Connection: close` so keep-alive clients reconnect elsewhere (RFC 9112 §9.6);
//  2. we keep accepting until no request has been in flight for a quiet period (250 ms);
//  3. only then stop listening and close the now idle connections.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

const DEFAULT_QUIET_MS = 250;
const POLL_MS = 25;

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

export interface Drain {
  readonly draining: boolean;
  /** The request listener to install: counts requests and applies the draining behaviour. */
  wrap(app: Listener): Listener;
  /** Resolves when every accepted request has been answered and the server is closed. */
  close(): Promise<void>;
}

export function gracefulDrain(http: Server, quietMs = DEFAULT_QUIET_MS): Drain {
  let inFlight = 0;
  let lastActivity = performance.now();
  let draining = false;

  return {
    get draining() {
      return draining;
    },
    wrap(app) {
      return (req, res) => {
        inFlight++;
        lastActivity = performance.now();
        res.once('close', () => {
          inFlight--;
          lastActivity = performance.now();
        });
        if (draining) {
          res.setHeader('Connection', 'close');
          if (req.url === '/readyz' || req.url?.startsWith('/readyz?')) {
            res.writeHead(503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end('{"status":"draining"}');
            return;
          }
        }
        app(req, res);
      };
    },
    async close() {
      draining = true;
      lastActivity = performance.now();
      while (inFlight > 0 || performance.now() - lastActivity < quietMs) {
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeIdleConnections();
      });
    },
  };
}

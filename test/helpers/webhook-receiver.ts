// A webhook receiver on 127.0.0.1 (plain http: govauth reaches it with the development
// allowance GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE=true). It records every request and answers
// with the statuses a test queues (then 202, RFC 8935 §2.2's success); a 3xx points at the
// cloud metadata address, which govauth must never follow.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
  readonly status: number;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly received: ReceivedRequest[];
  /** The next requests are answered with these statuses, in order. */
  answer(...statuses: number[]): void;
  /** Every request is answered with this status until changed (undefined: back to 202). */
  always(status: number | undefined): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const queue: number[] = [];
  let fixed: number | undefined;
  const received: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = queue.shift() ?? fixed ?? 202;
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      const redirect = status >= 300 && status < 400 ? { location: 'http://169.254.169.254/latest/meta-data/' } : {};
      res.writeHead(status, { 'content-type': 'application/json', ...redirect }).end(status < 300 ? '' : JSON.stringify({ err: 'unavailable', description: 'try later' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/govauth`,
    received,
    answer: (...statuses) => void queue.push(...statuses),
    always: (status) => void (fixed = status),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// One POST of a signed notification to the webhook. node:http(s) directly rather than fetch:
// it never follows a redirect (a 3xx is a failed attempt, named as such: the event must not
// travel to a host the operator did not configure), the whole exchange is time-limited, the
// response body is read only up to a few bytes (the receiver's answer is shown in the failure,
// nothing else of it matters), and the extra development authority applies
// (GOVAUTH_OUTBOUND_FETCH_CA_FILE). Private addresses are allowed: the URL is the operator's.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { SignedRequest } from './webhook-signing.ts';

/** Milliseconds for connect, send and response headers together. */
const WEBHOOK_TIMEOUT_MS = 5000;
/** Bytes of the receiver's response body kept for the failure message. */
const ANSWER_BYTES = 512;

export type PostOutcome = { readonly ok: true; readonly status: number } | { readonly ok: false; readonly error: string };

export function postWebhook(url: string, signed: SignedRequest, options: { ca?: string; timeoutMs?: number } = {}): Promise<PostOutcome> {
  const target = new URL(url);
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const done = (outcome: PostOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const req = send(
      target,
      {
        method: 'POST',
        headers: { ...signed.headers, 'content-length': String(Buffer.byteLength(signed.body)), 'user-agent': 'govauth-webhook' },
        ...(options.ca !== undefined && { ca: [...rootCertificates, options.ca] }),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          res.resume();
          done({ ok: true, status });
          return;
        }
        const chunks: Buffer[] = [];
        let seen = 0;
        const finish = (): void => {
          const answer = Buffer.concat(chunks).toString('utf8').replace(/[^\x20-\x7e]+/g, ' ').trim();
          const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
          done({ ok: false, error: `HTTP ${status}${redirect}${answer ? `: ${answer}` : ''}` });
          res.destroy();
        };
        res.on('data', (chunk: Buffer) => {
          if (seen < ANSWER_BYTES) chunks.push(chunk.subarray(0, ANSWER_BYTES - seen));
          seen += chunk.length;
          if (seen >= ANSWER_BYTES) finish();
        });
        res.on('end', finish);
        res.on('error', finish);
      },
    );
    const timer = setTimeout(() => {
      done({ ok: false, error: `no response within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (err: Error & { code?: string }) => done({ ok: false, error: `the connection failed${err.code ? ` (${err.code})` : `: ${err.message}`}` }));
    req.end(signed.body);
  });
}

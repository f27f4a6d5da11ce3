// Outbound HTTP to govauth (discovery, JWKS, status lists, introspection, usage reports): every
// call has a deadline, a size limit and no redirects, so a slow or hostile endpoint cannot hold a
// request or memory, and an allowed origin cannot hand the kit on to another one.

export type Fetch = typeof fetch;

export interface HttpResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export class HttpError extends Error {
  override readonly name = 'HttpError';
}

async function readLimited(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new HttpError(`response larger than ${maxBytes} bytes`);
  }
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new HttpError(`response larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

/** One HTTP exchange; network errors, timeouts and oversized bodies reject with an Error. */
export async function request(fetchImpl: Fetch, url: string, options: RequestOptions): Promise<HttpResponse> {
  const res = await fetchImpl(url, {
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
    redirect: 'manual',
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  const body = await readLimited(res, options.maxBytes);
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body };
}

/** A JSON object from a 200 response, or an Error saying what was wrong. */
export async function getJson(fetchImpl: Fetch, url: string, timeoutMs: number, maxBytes = 1_000_000): Promise<Record<string, unknown>> {
  const res = await request(fetchImpl, url, { headers: { accept: 'application/json' }, timeoutMs, maxBytes });
  if (res.status !== 200) throw new HttpError(`${url} answered ${res.status}`);
  return parseObject(res.body, url);
}

export function parseObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(`${what}: not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(`${what}: not a JSON object`);
  return value as Record<string, unknown>;
}

/** RFC 6749 §2.3.1: client_id and secret are form-urlencoded before Basic encoding. */
export const basicAuth = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

// Reads an application/json request body for the admin API: size-limited while streaming (the
// app-wide bodyLimit only sees a declared Content-Length; chunked bodies are capped here),
// strict UTF-8 (RFC 8259 §8.1), and malformed JSON answered as such rather than as a 500.
import type { Context } from 'koa';
import { AppError } from '../errors/app-error.ts';
import { MAX_BODY_BYTES } from '../http/body-limit.ts';

/** Whether the request carries a body at all (RFC 9112 §6.3). */
export function hasBody(ctx: Context): boolean {
  if (ctx.get('transfer-encoding')) return true;
  const length = ctx.get('content-length');
  return length !== '' && Number(length) > 0;
}

export async function readJson(ctx: Context, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  if (!ctx.is('application/json')) throw new AppError('unsupported_media_type', 'expected a JSON body (Content-Type: application/json)');
  const charset = ctx.request.charset;
  if (charset && !/^utf-?8$/i.test(charset)) throw new AppError('unsupported_media_type', `JSON must be UTF-8 (got charset=${charset.slice(0, 32)})`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new AppError('payload_too_large', `request body exceeds ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new AppError('invalid_request', 'body: not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new AppError('invalid_request', `body: malformed JSON (${(err as Error).message})`);
  }
}

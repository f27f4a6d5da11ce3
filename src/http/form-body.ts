// Reads an application/x-www-form-urlencoded body for govauth's own form posts: size-limited,
// duplicate fields refused (a classic parameter-pollution vector), values as strings. With
// `strictUtf8`, a body whose bytes or percent-escapes are not UTF-8 is refused rather than read
// with U+FFFD in their place (the WHATWG parser's way): for text that is stored as written.
import type { Context } from 'koa';
import { AppError } from '../errors/app-error.ts';
import { bodyTooLarge, MAX_BODY_BYTES } from './body-limit.ts';

/** Whether every name and value of a urlencoded body decodes as UTF-8 (decodeURIComponent throws on malformed UTF-8). */
function isUtf8Form(body: string): boolean {
  try {
    for (const part of body.split('&')) decodeURIComponent(part.replaceAll('+', ' '));
    return true;
  } catch {
    return false;
  }
}

export async function readForm(ctx: Context, maxBytes = MAX_BODY_BYTES, options: { strictUtf8?: boolean } = {}): Promise<Record<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new AppError('unsupported_media_type', 'expected a form (application/x-www-form-urlencoded)');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw bodyTooLarge(maxBytes);
    chunks.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  if (options.strictUtf8) {
    let body: string;
    try {
      body = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      body = '%';
    }
    if (!isUtf8Form(body)) throw new AppError('invalid_request', 'the form is not valid UTF-8 text');
  }
  const params = new URLSearchParams(bytes.toString('utf8'));
  const out: Record<string, string> = {};
  for (const [key, value] of params) {
    if (Object.hasOwn(out, key)) throw new AppError('invalid_request', `field ${key} was sent more than once`);
    out[key] = value;
  }
  return out;
}

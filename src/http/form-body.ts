// Reads an application/x-www-form-urlencoded body for govauth's own form posts: size-limited,
// duplicate fields refused (a classic parameter-pollution vector), values as strings.
import type { Context } from 'koa';
import { AppError } from '../errors/app-error.ts';
import { MAX_BODY_BYTES } from './body-limit.ts';

export async function readForm(ctx: Context, maxBytes = MAX_BODY_BYTES): Promise<Record<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new AppError('unsupported_media_type', 'expected a form (application/x-www-form-urlencoded)');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new AppError('payload_too_large', `request body exceeds ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  const out: Record<string, string> = {};
  for (const [key, value] of params) {
    if (Object.hasOwn(out, key)) throw new AppError('invalid_request', `field ${key} was sent more than once`);
    out[key] = value;
  }
  return out;
}

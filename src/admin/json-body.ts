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
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    throw new AppError('invalid_request', `body: malformed JSON (${(err as Error).message})`);
  }
  refuseLoneSurrogates(value);
  return value;
}

/**
 * JSON escapes can spell a lone surrogate ("\ud83e") that valid UTF-8 cannot: Prisma's engine
 * refuses such a string in any query (a 500, found by test/security/hostile-input.test.ts), and
 * it has no faithful UTF-8 form to store. Refused here, naming the field, before any handler
 * sees it. Iterative: the body limit allows nesting deeper than a recursive walk should go.
 */
function refuseLoneSurrogates(root: unknown): void {
  const pending: [unknown, string][] = [[root, '']];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const [value, path] = item;
    const here = path || 'body';
    if (typeof value === 'string') {
      if (!value.isWellFormed()) throw new AppError('invalid_request', `${here}: must be well-formed Unicode (it contains a lone surrogate)`);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        const at = path ? `${path}.${key}` : key;
        if (!key.isWellFormed()) throw new AppError('invalid_request', `${here}: field names must be well-formed Unicode`);
        pending.push([child, at]);
      }
    }
  }
}

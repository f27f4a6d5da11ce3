// Reads an application/json request body (the admin API, usage reports): size-limited by its
// declared Content-Length before reading and while streaming (chunked bodies declare none; the
// same limit and refusal as the app-wide check, body-limit.ts), strict UTF-8 (RFC 8259 §8.1), and malformed JSON answered as such, not a 500.
import type { Context } from 'koa';
import { AppError } from '../errors/app-error.ts';
import { bodyTooLarge, MAX_BODY_BYTES, refuseDeclaredOver } from './body-limit.ts';

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
  refuseDeclaredOver(ctx, maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      // The rest is not read: the connection closes after the answer (draining an unbounded
      // body to keep it alive would read what the limit is there to refuse).
      ctx.set('Connection', 'close');
      throw bodyTooLarge(maxBytes);
    }
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
  const duplicate = duplicateField(text);
  if (duplicate !== undefined) throw new AppError('invalid_request', `body: field ${JSON.stringify(duplicate).slice(0, 80)} appears twice in one object`);
  refuseLoneSurrogates(value);
  return value;
}

/**
 * The first name that occurs twice in one object of a JSON text JSON.parse accepted, or
 * undefined. RFC 8259 §4 leaves duplicate names to the implementation (JSON.parse keeps the
 * last); for an administrative change the request would mean two things at once, and another
 * reader of the same body (a proxy, an audit tool) may pick the first. Names are compared
 * decoded, so "a" and "\u0061" are the same name. Iterative, like refuseLoneSurrogates.
 */
export function duplicateField(text: string): string | undefined {
  const objects: (Set<string> | null)[] = []; // a Set per open object, null per open array
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const names = objects.at(-1);
      if (names && expectName) {
        const name = JSON.parse(text.slice(i, end + 1)) as string;
        if (names.has(name)) return name;
        names.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === '{') {
      objects.push(new Set());
      expectName = true;
    } else if (c === '[') {
      objects.push(null);
      expectName = false;
    } else if (c === '}' || c === ']') {
      objects.pop();
      expectName = false;
    } else if (c === ',') {
      expectName = objects.at(-1) instanceof Set;
    }
  }
  return undefined;
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

// GET /statuslists/<n>: the Status List Token of list n (draft-ietf-oauth-status-list-20 §8.1,
// §8.2), `application/statuslist+jwt`. Public and unauthenticated, like the JWKS: the list says
// nothing but one bit per index, and every resource server must be able to fetch it; CORS is
// open for browser-based clients (§8.1). Cache-Control max-age is what is left of the copy's
// ttl, so no HTTP cache serves a copy longer than the token's own ttl allows; the ETag lets a
// client revalidate cheaply.
// GET /statuslists: the Status List Aggregation (§9), the URIs of the lists in use now.
import { createHash } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { AppError } from '../errors/app-error.ts';
import { RETRY_SHORTLY, sendError, sendUnavailable } from '../http/error-responses.ts';
import { STATUS_LIST_PATH, type StatusLists } from './status-lists.ts';
import { STATUS_LIST_MEDIA_TYPE } from './status-list-token.ts';

const LIST_NUMBER = /^\/statuslists\/(0|[1-9]\d{0,14})$/;

function onlyGet(ctx: Context): void {
  if (ctx.method === 'GET' || ctx.method === 'HEAD') return;
  ctx.set('Allow', 'GET, HEAD');
  throw new AppError('invalid_request', `${ctx.path} only accepts GET`);
}

async function serveList(ctx: Context, lists: Pick<StatusLists, 'serve'>, list: number): Promise<void> {
  ctx.set('Access-Control-Allow-Origin', '*');
  if (ctx.get('accept') && !ctx.accepts(STATUS_LIST_MEDIA_TYPE)) {
    sendError(ctx, 406, 'invalid_request', `this status list is served as ${STATUS_LIST_MEDIA_TYPE} only`);
    return;
  }
  const served = await lists.serve(list);
  if (served.kind === 'unavailable') {
    // Just started: still reading the records of the tokens that can be live.
    ctx.set('Cache-Control', 'no-store');
    sendUnavailable(ctx, { retryAfterSeconds: 1, description: RETRY_SHORTLY });
    return;
  }
  if (served.kind === 'not_found') {
    ctx.set('Cache-Control', 'no-store');
    sendError(ctx, 404, 'not_found', 'no such status list (or every token in it has expired)');
    return;
  }
  ctx.set('Cache-Control', `public, max-age=${served.maxAge}`);
  ctx.set('ETag', `"${createHash('sha256').update(served.jwt).digest('base64url').slice(0, 22)}"`);
  ctx.status = 200;
  if (ctx.fresh) {
    ctx.status = 304;
    return;
  }
  ctx.type = STATUS_LIST_MEDIA_TYPE;
  ctx.body = served.jwt;
}

export function statusListRoutes(lists: Pick<StatusLists, 'serve' | 'served'>): Middleware {
  return async (ctx, next) => {
    if (ctx.path === STATUS_LIST_PATH) {
      ctx.state.route = STATUS_LIST_PATH;
      onlyGet(ctx);
      const uris = await lists.served();
      ctx.set('Access-Control-Allow-Origin', '*');
      ctx.set('Cache-Control', 'no-store');
      if (!uris) {
        sendUnavailable(ctx, { retryAfterSeconds: 1, description: RETRY_SHORTLY });
        return;
      }
      ctx.body = { status_lists: uris };
      return;
    }
    const match = LIST_NUMBER.exec(ctx.path);
    if (match?.[1] !== undefined) {
      ctx.state.route = `${STATUS_LIST_PATH}/:list`; // one metric series, not one per list
      onlyGet(ctx);
      await serveList(ctx, lists, Number(match[1]));
      return;
    }
    if (ctx.path.startsWith(`${STATUS_LIST_PATH}/`)) {
      sendError(ctx, 404, 'not_found', 'no such status list');
      return;
    }
    await next();
  };
}

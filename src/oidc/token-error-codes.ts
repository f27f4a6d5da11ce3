// Two answers of oidc-provider 9.13 (pinned) at the token endpoint differ from RFC 6749 §5.2,
// and clients act on these codes (retry with credentials, stop asking for a grant):
// - a request with no client authentication, or a Basic header that cannot be read, is
//   `invalid_request` 400 there (lib/shared/client_auth.js); §5.2 names exactly this case
//   ("no client authentication included") for `invalid_client`, with 401 and a
//   WWW-Authenticate challenge when the Authorization header was used;
// - a grant type the client may not use is `invalid_request` (lib/actions/token.js); §5.2 has
//   `unauthorized_client` for it.
// - at /backchannel, a client without the CIBA grant is `invalid_request`; CIBA Core §13 says
//   `unauthorized_client`.
// Everything else oidc-provider answers is left as it is.
import type { Middleware } from 'koa';
import { CLIENT_AUTH_CHALLENGE } from '../errors/app-error.ts';
import { sendError } from '../http/error-responses.ts';
import { protocolOf } from './seams.ts';
import { CIBA_NOT_ALLOWED, GRANT_TYPE_NOT_ALLOWED, NO_CLIENT_AUTHENTICATION } from './upstream-strings.ts';

interface ErrorBody {
  error?: unknown;
  error_description?: unknown;
}

export function tokenErrorCodes(): Middleware {
  return async function standardTokenErrors(ctx, next): Promise<void> {
    await next();
    // OpenID CIBA Core §13: a client not allowed CIBA is unauthorized_client at /backchannel too.
    const route = protocolOf(ctx)?.route;
    if (route === 'backchannel_authentication' && ctx.status === 400 && (ctx.body as ErrorBody | undefined)?.error_description === CIBA_NOT_ALLOWED) {
      sendError(ctx, 400, 'unauthorized_client', 'this client is not allowed CIBA (an administrator must allow it)');
      return;
    }
    if (route !== 'token' || ctx.status !== 400 || typeof ctx.body !== 'object' || ctx.body === null) return;
    const body = ctx.body as ErrorBody;
    if (body.error !== 'invalid_request' || typeof body.error_description !== 'string') return;
    if (NO_CLIENT_AUTHENTICATION.has(body.error_description)) {
      ctx.set('WWW-Authenticate', CLIENT_AUTH_CHALLENGE); // as govauth's own endpoints say it
      sendError(ctx, 401, 'invalid_client', 'client authentication is required (client_secret_basic, client_secret_post, or client_id for a public client)');
    } else if (body.error_description === GRANT_TYPE_NOT_ALLOWED) {
      sendError(ctx, 400, 'unauthorized_client', 'this client may not use this grant type');
    }
  };
}

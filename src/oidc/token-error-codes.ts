// Two answers of oidc-provider 9.13 (pinned) at the token endpoint differ from RFC 6749 §5.2,
// and clients act on these codes (retry with credentials, stop asking for a grant):
// - a request with no client authentication, or a Basic header that cannot be read, is
//   `invalid_request` 400 there (lib/shared/client_auth.js); §5.2 names exactly this case
//   ("no client authentication included") for `invalid_client`, with 401 and a
//   WWW-Authenticate challenge when the Authorization header was used;
// - a grant type the client may not use is `invalid_request` (lib/actions/token.js); §5.2 has
//   `unauthorized_client` for it.
// Everything else oidc-provider answers is left as it is.
import type { Next } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { CLIENT_AUTH_CHALLENGE } from '../errors/app-error.ts';

const UNAUTHENTICATED = new Set([
  'no client authentication mechanism provided',
  'invalid authorization header value format',
  'client_secret must be provided in the Authorization header',
  'client_id and client_secret in the authorization header are not properly encoded',
]);
const GRANT_NOT_ALLOWED = 'requested grant type is not allowed for this client';

interface ErrorBody {
  error?: unknown;
  error_description?: unknown;
}

export function tokenErrorCodes() {
  return async function standardTokenErrors(ctx: KoaContextWithOIDC, next: Next): Promise<void> {
    await next();
    if ((ctx as Partial<KoaContextWithOIDC>).oidc?.route !== 'token' || ctx.status !== 400 || typeof ctx.body !== 'object' || ctx.body === null) return;
    const body = ctx.body as ErrorBody;
    if (body.error !== 'invalid_request' || typeof body.error_description !== 'string') return;
    if (UNAUTHENTICATED.has(body.error_description)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', CLIENT_AUTH_CHALLENGE); // as govauth's own endpoints say it
      ctx.body = { error: 'invalid_client', error_description: 'client authentication is required (client_secret_basic, client_secret_post, or client_id for a public client)' };
    } else if (body.error_description === GRANT_NOT_ALLOWED) {
      ctx.body = { error: 'unauthorized_client', error_description: 'this client may not use this grant type' };
    }
  };
}

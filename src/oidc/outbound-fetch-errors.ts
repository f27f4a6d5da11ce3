// What a client is told when its authentication needed a server-side fetch that failed (its
// jwks_uri): oidc-provider answers 401 invalid_client "client authentication failed" and keeps
// the reason in the error's cause chain (lib/models/client.js, lib/shared/jwt_client_auth.js).
// The reason is the operator's and the client's to act on (fix the URL, shrink the document),
// so the description says it; it never carries the fetched body or internal detail.
import type { Middleware } from 'koa';
import { FETCH_RESPONSE_BODY_LIMITS, OutboundFetchRefused } from './outbound-fetch.ts';
import { protocolOf } from './seams.ts';
import { JWKS_REFRESH_FAILED, RESPONSE_TOO_LARGE } from './upstream-strings.ts';

const causes = function* (err: unknown): Generator<Error> {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) yield e;
};

/** Why the JWK Set at the client's jwks_uri could not be used, or undefined when that was not the failure. */
export function jwksFetchFailure(err: unknown): string | undefined {
  const chain = [...causes(err)];
  const at = chain.findIndex((e) => (e as { error_description?: unknown }).error_description === JWKS_REFRESH_FAILED);
  if (at === -1) return undefined;
  const cause = chain[at + 1];
  if (cause instanceof OutboundFetchRefused) return cause.message;
  if (cause?.message === RESPONSE_TOO_LARGE) return `the response is larger than the limit (${FETCH_RESPONSE_BODY_LIMITS.jwks_uri} bytes)`;
  if (cause?.name === 'TimeoutError') return 'no complete response in time';
  const status = /expected 200 OK, got (.+)$/.exec(cause?.message ?? '')?.[1];
  if (status) return `the server answered ${status}, not 200 OK`;
  if (cause instanceof SyntaxError) return 'the response is not JSON';
  return 'the response is not a usable JWK Set';
}

/** Token endpoint: a 401 invalid_client caused by a failed jwks_uri fetch says why. */
export function outboundFetchFailures(): Middleware {
  return async function describeFetchFailure(ctx, next): Promise<void> {
    await next();
    if (ctx.status !== 401 || protocolOf(ctx)?.route !== 'token') return;
    const body = ctx.body as { error?: unknown; error_description?: unknown } | undefined;
    const reason = body?.error === 'invalid_client' ? jwksFetchFailure(ctx.state.grantError) : undefined;
    if (reason && body) body.error_description = `client authentication failed: the JWK Set at the client's jwks_uri could not be used: ${reason}`;
  };
}

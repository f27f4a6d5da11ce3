// What a request matched and which client it acted for, read the same way by the access log,
// the request metrics and the request span. Each names a route by its template, never the raw
// path, which carries interaction uids, client ids and people's emails (and would make log
// lines, metric series and span names unbounded).
import type { Context } from 'koa';
import { INTROSPECTION_PATH, REVOCATION_PATH } from '../introspection/token-endpoints.ts';

/** Paths served by govauth's own middleware, which are templates already. */
const FIXED_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics', '/assets/govauth.css', '/assets/webauthn.js', '/assets/passkeys.js', INTROSPECTION_PATH, REVOCATION_PATH]);

/**
 * The route template that served the request: oidc-provider's router and @koa/router (the
 * interactions) leave it in `ctx._matchedRoute`; the admin API (from its route table), the
 * status lists and usage reports set `ctx.state.route`; govauth's fixed paths are their own template. Undefined for anything else (404s).
 */
export function routeTemplate(ctx: Context): string | undefined {
  const matched: unknown = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  if (ctx.state.route !== undefined) return ctx.state.route;
  return FIXED_ROUTES.has(ctx.path) ? ctx.path : undefined;
}

/**
 * The client the request authenticated or named, once govauth knows it exists: oidc-provider's
 * (token, authorization, userinfo…), or `ctx.state.clientId` from govauth's own client
 * authentication (introspection, revocation, admin API). Never a client_id nobody registered.
 */
export function requestClientId(ctx: Context): string | undefined {
  const oidcClient: unknown = (ctx as { oidc?: { client?: { clientId?: unknown } } }).oidc?.client?.clientId;
  if (typeof oidcClient === 'string') return oidcClient;
  return ctx.state.clientId;
}

// The admin API (/admin/v1): everything the CLI does, over HTTP, for govauth's own access
// tokens. Per request: route → token (401) → scope (403) → input (400/413/415) → governance
// function (which records before/after in the audit trail in the same transaction) → local
// policy sync, so this instance serves the change before the caller hears it was made → a
// bounded wait until every live instance applied it, reported as `propagation` in the response
// (src/governance/propagation.ts).
import type { Context, Middleware } from 'koa';
import type { Actor } from '../audit/audit-chain.ts';
import { AppError } from '../errors/app-error.ts';
import { createAccessTokenChecker } from '../introspection/access-token-check.ts';
import { actorOf, authenticate, insufficientScope, missingScope, type Refusal } from './admin-auth.ts';
import { singleValuedQuery } from './input.ts';
import { parseRouteInput, performRoute } from './perform.ts';
import { hasBody, readJson } from '../http/json-body.ts';
import { sendError } from '../http/error-responses.ts';
import { ADMIN_PREFIX, bodyLimitOf, type AdminDeps, type Route } from './route.ts';
import { createRouter } from './router.ts';
import { ADMIN_ROUTES } from './routes.ts';

function refuse(ctx: Context, outcome: Refusal): void {
  ctx.set('WWW-Authenticate', outcome.challenge);
  sendError(ctx, outcome.status, outcome.body.error, outcome.body.error_description);
}

async function input(ctx: Context, route: Route): Promise<{ body: unknown; query: Record<string, unknown> }> {
  const query = singleValuedQuery(ctx.query);
  const raw = hasBody(ctx) ? await readJson(ctx, bodyLimitOf(route)) : undefined;
  return parseRouteInput(route, query, raw);
}

/**
 * The body limit of the admin route a request names, for the app-wide check that runs before
 * routing (app.ts): a route's own limit applies only to a request the router matches to it
 * (method and path), so no other path gains a larger one; undefined when nothing matches.
 */
export function adminBodyLimits(): (method: string, path: string) => number | undefined {
  const match = createRouter(ADMIN_ROUTES);
  return (method, path) => {
    try {
      const found = match(method, path);
      return found.kind === 'route' ? bodyLimitOf(found.route) : undefined;
    } catch {
      return undefined; // malformed percent-encoding: the default applies, and adminApi answers 400
    }
  };
}

export function adminApi(deps: AdminDeps): Middleware {
  // Built exactly as the introspection endpoint's checker (src/app.ts).
  const checker = createAccessTokenChecker({ keyring: deps.keyring, issuer: deps.issuer, policy: deps.policy, now: deps.now });
  const match = createRouter(ADMIN_ROUTES);

  return async (ctx, next) => {
    if (ctx.path !== ADMIN_PREFIX && !ctx.path.startsWith(`${ADMIN_PREFIX}/`)) {
      await next();
      return;
    }
    ctx.set('Cache-Control', 'no-store');
    // The access log names the template, never the path: its segments are people's emails.
    ctx.state.route = `${ADMIN_PREFIX}/*`;
    const found = match(ctx.method, ctx.path);
    if (found.kind === 'none') throw new AppError('not_found', `no route for ${ctx.method} ${ctx.path}`);
    if (found.kind === 'method_not_allowed') {
      const allow = [...new Set(found.allow.includes('GET') ? [...found.allow, 'HEAD'] : found.allow)].join(', ');
      ctx.set('Allow', allow);
      if (ctx.method === 'OPTIONS') {
        ctx.status = 204;
        return;
      }
      sendError(ctx, 405, 'invalid_request', `${ctx.method} is not allowed here; use ${allow}`);
      return;
    }
    const { route, params } = found;
    ctx.state.route = `${ADMIN_PREFIX}${route.path}`; // the template, for the access log and metrics (never the path)

    let actor: Actor = { actorType: 'admin', requestId: String(ctx.state.requestId), ip: ctx.ip };
    if (route.access !== 'public') {
      const auth = await authenticate(ctx, checker);
      if (!auth.ok) {
        deps.log.info('admin API request refused', { requestId: ctx.state.requestId, path: ctx.path, status: auth.status, reason: auth.body.error_description });
        refuse(ctx, auth);
        return;
      }
      ctx.state.clientId = auth.principal.clientId; // for the access log
      const missing = missingScope(auth.principal, route.access);
      if (missing) {
        // An authenticated principal reaching beyond its scopes is worth a durable record.
        deps.audit
          .record({ ...actorOf(auth.principal, ctx), action: 'admin_api.denied', outcome: 'denied', clientId: auth.principal.clientId, detail: { method: ctx.method, path: ctx.path, required_scope: missing } })
          .catch((err: unknown) => deps.log.error('audit record for a refused admin request was lost', { err: (err as Error).message, requestId: ctx.state.requestId }));
        refuse(ctx, insufficientScope(missing));
        return;
      }
      actor = actorOf(auth.principal, ctx);
    }

    const { body, query } = await input(ctx, route);
    const { result, propagation } = await performRoute(deps, route, { params, body, query, actor, ctx });
    if (route.cacheControl) ctx.set('Cache-Control', route.cacheControl);
    ctx.status = route.status ?? 200;
    ctx.body = propagation && result && typeof result === 'object' ? { ...result, propagation } : result;
  };
}

// The route a request matched, as a template ("/interaction/:uid/login", never the raw path):
// metric labels must stay bounded whatever paths clients send. Sources, first match wins:
// @koa/router's matched layer (oidc-provider's routes and the interaction routes), the admin
// API's route table (admin-api.ts sets ctx.state.route), govauth's fixed paths;
// anything else (404s, probes for random paths) is "other".
import type { Context } from 'koa';
import { INTROSPECTION_PATH, REVOCATION_PATH } from '../introspection/token-endpoints.ts';

const FIXED = new Set(['/healthz', '/readyz', '/metrics', '/assets/govauth.css', INTROSPECTION_PATH, REVOCATION_PATH]);

export function routeLabel(ctx: Context): string {
  const matched = (ctx as Context & { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  const template: unknown = ctx.state.route;
  if (typeof template === 'string') return template;
  return FIXED.has(ctx.path) ? ctx.path : 'other';
}

// Koa (2 and 3), with or without @koa/router:
//
//   app.use(protectedResourceMetadata(kit));
//   router.post('/predict', requireToken({ resourceServer: kit, scopes: ['ai.prediction.run'] }), (ctx) => {
//     const token = ctx.state.token;   // VerifiedToken
//   });
import type { Middleware } from 'koa';
import { METADATA_HEADERS } from '../metadata.ts';
import type { ResourceServer } from '../resource-server.ts';
import { isMetadataRequest, nodeFacts, prepare, trackUsage, type RequireTokenOptions } from './node-request.ts';

export type { RequireTokenOptions } from './node-request.ts';

export function requireToken(options: RequireTokenOptions): Middleware {
  const { kit, route } = prepare(options);
  return async (ctx, next) => {
    const facts = nodeFacts(ctx.req, { url: ctx.originalUrl, body: (ctx.request as { body?: unknown }).body });
    const decision = await kit.authorize(facts, route);
    trackUsage(kit, route, decision, facts, ctx.res);
    if (!decision.ok) {
      ctx.status = decision.refusal.status;
      ctx.set(decision.refusal.headers);
      ctx.body = JSON.stringify(decision.refusal.body);
      return;
    }
    ctx.state.token = decision.token;
    await next();
  };
}

/** Serves the protected resource metadata (RFC 9728 §3) at the resource server's metadata path. */
export function protectedResourceMetadata(kit: ResourceServer): Middleware {
  return async (ctx, next) => {
    if (!isMetadataRequest(kit, ctx.method, ctx.originalUrl)) {
      await next();
      return;
    }
    ctx.set(METADATA_HEADERS);
    ctx.body = JSON.stringify(kit.metadata());
  };
}

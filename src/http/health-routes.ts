// /healthz: the process is up. /readyz: it can serve tokens (database reachable, signing key
// loaded). Load balancers route on /readyz; orchestrators restart on /healthz.
import type { Middleware } from 'koa';

export interface ReadinessProbe {
  (): Promise<{ ok: boolean; checks: Record<string, string> }>;
}

export function healthRoutes(ready: ReadinessProbe): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      await next();
      return;
    }
    if (ctx.path === '/healthz') {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { status: 'ok' };
      return;
    }
    if (ctx.path === '/readyz') {
      const result = await ready();
      ctx.set('Cache-Control', 'no-store');
      ctx.status = result.ok ? 200 : 503;
      ctx.body = { status: result.ok ? 'ready' : 'not_ready', checks: result.checks };
      return;
    }
    await next();
  };
}

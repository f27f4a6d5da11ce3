// The `propagation` field of a write's response (filled in by admin-api.ts): declared on every
// write route's response schema, so the OpenAPI document shows it and strict clients accept it.
import { z } from 'zod';
import type { Route } from './route.ts';

const propagationField = z
  .strictObject({
    change_id: z.number().int().describe('The change-feed id this write produced'),
    applied: z.number().int().describe('Live server instances that had applied it when the response was sent'),
    live: z.number().int().describe('Live server instances (a heartbeat within the last 10 s)'),
    laggards: z.array(z.string()).describe('Live instances that had not applied it within GOVAUTH_PROPAGATION_WAIT_MS, as host:pid/id'),
    complete: z.boolean().describe('In force on every live instance (also true when no instance is live)'),
    waited_ms: z.number().int(),
  })
  .optional()
  .describe(
    'Present when the write changed what servers serve. The response waits (at most GOVAUTH_PROPAGATION_WAIT_MS, default 2 s) until every live instance has applied it; ' +
      'a lagging instance is named here rather than failing the request, since the write is committed.',
  );

export const withPropagationField = (r: Route): Route =>
  r.method !== 'GET' && r.response instanceof z.ZodObject ? { ...r, response: r.response.extend({ propagation: propagationField }) } : r;

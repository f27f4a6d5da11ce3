// Running one admin operation, whoever asks: the admin API (admin-api.ts, for a bearer token) and
// the console (src/console, for a signed-in person) both call the route's own handler through
// here, so a change made from either is validated by the same schema, made by the same
// governance function, audited with the same record and waited for on every instance the same way.
import type { Context } from 'koa';
import { z } from 'zod';
import type { Actor } from '../audit/audit-chain.ts';
import { trackChanges } from '../db/change-feed.ts';
import { AppError } from '../errors/app-error.ts';
import { awaitPropagation, type Propagation } from '../governance/propagation.ts';
import { parseInput } from './input.ts';
import type { AdminDeps, Route } from './route.ts';
import { ADMIN_ROUTES } from './routes.ts';

// Operations without a body accept none, or an empty JSON object (what many clients send);
// operations without query parameters accept none.
const NO_BODY = z.strictObject({}).optional();
const NO_QUERY: z.ZodObject = z.strictObject({});

export interface Performed {
  readonly result: unknown;
  /** Writes that changed what servers serve: how far the change has reached (propagation.ts). */
  readonly propagation: Propagation | undefined;
}

/** Checks `query` and `body` against the route's schemas (400 naming every problem). */
export function parseRouteInput(route: Route, query: Record<string, unknown>, body: unknown): { body: unknown; query: Record<string, unknown> } {
  return { query: parseInput(route.query ?? NO_QUERY, query, 'query'), body: parseInput(route.body ?? NO_BODY, body, 'body') };
}

/**
 * Runs the route's handler with input already parsed; after a write, syncs this instance's
 * policy and waits (bounded by GOVAUTH_PROPAGATION_WAIT_MS) until every live instance applied it.
 */
export async function performRoute(deps: AdminDeps, route: Route, call: { params: Record<string, string>; body: unknown; query: Record<string, unknown>; actor: Actor; ctx: Context }): Promise<Performed> {
  const { result, changeId } = await trackChanges(() => route.handle({ ...call, deps }));
  let propagation: Propagation | undefined;
  if (route.method !== 'GET') {
    // The change is committed; if the local sync fails the poller applies it within its bound,
    // and answering an error would invite a retry of a write that succeeded. For the same
    // reason a lagging instance is reported, not raised as an error.
    await deps.policy.sync().catch((err: unknown) => deps.log.warn('policy sync after an admin change failed; the poller will apply it', { err }));
    if (changeId) {
      propagation = await awaitPropagation(deps.db, changeId, deps.config.propagationWaitMs).catch((err: unknown) => {
        deps.log.warn('could not confirm that every instance applied an admin change', { err });
        return undefined;
      });
      if (propagation && !propagation.complete) deps.log.warn('admin change not applied by every live instance in time', { changeId, laggards: propagation.laggards });
    }
  }
  return { result, propagation };
}

const BY_OPERATION = new Map(ADMIN_ROUTES.map((r) => [r.operationId, r]));

/** The admin route named `operationId` (a programming error when there is none). */
export function adminOperation(operationId: string): Route {
  const route = BY_OPERATION.get(operationId);
  if (!route) throw new TypeError(`no admin operation ${operationId}`);
  return route;
}

/** Runs the admin operation `operationId` as `actor`, with the same checks the admin API applies to its input. */
export async function performOperation(
  deps: AdminDeps,
  operationId: string,
  input: { params?: Record<string, string>; body?: unknown; query?: Record<string, unknown> },
  actor: Actor,
  ctx: Context,
): Promise<Performed> {
  const route = adminOperation(operationId);
  for (const name of route.path.match(/\{(\w+)\}/g) ?? []) {
    if (!input.params?.[name.slice(1, -1)]) throw new AppError('invalid_request', `${name.slice(1, -1)}: is required`);
  }
  const { body, query } = parseRouteInput(route, input.query ?? {}, input.body);
  return performRoute(deps, route, { params: input.params ?? {}, body, query, actor, ctx });
}

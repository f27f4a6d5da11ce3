// What an admin API route is: method, path template, who may call it, zod schemas for its query,
// body and response, and a handler. The same declaration drives dispatch, input validation and
// the OpenAPI document, so the three cannot disagree.
import type { Context } from 'koa';
import type { z } from 'zod';
import type { Actor } from '../audit/audit-chain.ts';
import type { AuditWriter } from '../audit/audit-writer.ts';
import type { Config } from '../config/load-config.ts';
import type { Database } from '../db/database.ts';
import { MAX_BODY_BYTES } from '../http/body-limit.ts';
import type { AccessRequestEvents } from '../governance/access-request-events.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { MasterKey } from '../keys/master-key.ts';
import type { Logger } from '../log/logger.ts';

export const ADMIN_PREFIX = '/admin/v1';

/** What the API needs from the composition root (a subset of AppDeps). */
export interface AdminDeps {
  readonly config: Config;
  readonly issuer: string;
  readonly log: Logger;
  readonly db: Database;
  readonly policy: PolicyStore;
  readonly keyring: Keyring;
  readonly master: MasterKey;
  readonly audit: AuditWriter;
  readonly accessRequests: AccessRequestEvents;
  readonly now: () => number;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/**
 * public: documentation only; read: govauth.audit.read or govauth.admin; write: govauth.admin;
 * requests: govauth.requests or govauth.admin, for routes that only ever act for the caller itself.
 */
export type Access = 'public' | 'read' | 'write' | 'requests';
/** Error statuses a route documents beyond the ones every route of its kind can answer. */
type ExtraError = 404 | 409;

// "/users/{email}/roles/{role}" → "email" | "role": handlers get exactly their path parameters.
type ParamNames<S extends string> = S extends `${string}{${infer P}}${infer Rest}` ? P | ParamNames<Rest> : never;
type Params<S extends string> = { readonly [K in ParamNames<S>]: string };

export interface Call<P, B, Q> {
  readonly params: P;
  readonly body: B;
  readonly query: Q;
  /** Who the audit trail records for changes made by this request. */
  readonly actor: Actor;
  readonly deps: AdminDeps;
  readonly ctx: Context;
}

export interface RouteSpec<S extends string, B extends z.ZodType, Q extends z.ZodObject, R extends z.ZodType> {
  readonly method: Method;
  /** Relative to ADMIN_PREFIX; `{name}` is one URL-encoded path segment. */
  readonly path: S;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  readonly access: Access;
  readonly body?: B;
  /**
   * The largest JSON body it takes, in bytes as sent; absent: MAX_BODY_BYTES. Enforced by the
   * app-wide check before routing (Content-Length) and by readJson while reading (chunked).
   */
  readonly maxBodyBytes?: number;
  readonly query?: Q;
  readonly response: R;
  readonly status?: 200 | 201;
  readonly errors?: readonly ExtraError[];
  /** Overrides `no-store` (only for documentation). */
  readonly cacheControl?: string;
  handle(call: Call<Params<S>, z.output<B>, z.output<Q>>): Promise<z.input<R>>;
}

export type Route = RouteSpec<string, z.ZodType, z.ZodObject, z.ZodType>;

/** The largest body `route` takes (its own limit or the server's default). */
export const bodyLimitOf = (route: Route): number => route.maxBodyBytes ?? MAX_BODY_BYTES;

/** Declares a route with its types inferred from its schemas; stored type-erased in the table. */
export const route = <S extends string, R extends z.ZodType, B extends z.ZodType = z.ZodUndefined, Q extends z.ZodObject = z.ZodObject<Record<never, never>>>(
  spec: RouteSpec<S, B, Q, R>,
): Route => spec;

// The console's extension points: a page (GET, renders a PageModel) and an action (a form post
// that runs one admin operation). A new feature adds a page to CONSOLE_PAGES and its actions to
// CONSOLE_ACTIONS (console-table.ts); sign-in, roles, CSRF, confirmation, auditing of refusals
// and rendering come with them.
import type { Context } from 'koa';
import type { Registry } from 'prom-client';
import type { Actor } from '../audit/audit-chain.ts';
import type { AppError } from '../errors/app-error.ts';
import { adminOperation, type Performed } from '../admin/perform.ts';
import type { AdminDeps } from '../admin/route.ts';
import type { UserDef } from '../governance/policy-model.ts';
import type { ConsoleRole } from './console-session.ts';
import type { PageModel } from './page-model.ts';
import type { OverviewStatsSource } from './overview-stats.ts';

export interface Signed {
  readonly user: UserDef;
  readonly role: ConsoleRole;
}

/** What a page or action gets: the request, who is signed in, and the admin operations to call as them. */
export interface ConsoleCall {
  readonly ctx: Context;
  readonly who: Signed;
  readonly deps: AdminDeps;
  /** This process's metrics registry (introspection outcomes are counted there). */
  readonly metrics?: Registry;
  readonly actor: Actor;
  /** The overview figures that cost a scan (overview-stats.ts), kept per instance. */
  readonly overviewStats: OverviewStatsSource;
  /** The query string, one value per name (repeated names refused). */
  readonly query: Readonly<Record<string, string>>;
  /** Runs an admin operation as the signed-in person (perform.ts): the same handler, checks and audit record as the admin API. */
  readonly operation: <T = unknown>(operationId: string, input?: { params?: Record<string, string>; body?: unknown; query?: Record<string, unknown> }) => Promise<T>;
}

export interface ConsolePage {
  /** Below /console ('' is the overview). */
  readonly path: string;
  /** In the navigation, with this label; absent: reached by links only. */
  readonly nav?: string;
  render(call: ConsoleCall): Promise<PageModel>;
}

interface ActionInput {
  readonly params?: Record<string, string>;
  readonly body?: unknown;
  /** For operations that take their target in the query (a DELETE of one scope on one resource). */
  readonly query?: Record<string, unknown>;
}

export interface ConsoleAction {
  readonly name: string;
  /**
   * The admin operation it performs (src/admin/*-routes.ts). Its access decides who may post:
   * auditors only actions whose operation is 'read' (it stores nothing), as in the admin API.
   */
  readonly operationId: string;
  /** The form's fields as the operation's input; the operation's schema checks them (input may throw an AppError too). */
  input(form: Readonly<Record<string, string>>, deps: AdminDeps): ActionInput;
  /** Asked before a destructive change: the sentence the confirmation page shows (undefined: nothing to ask this time). */
  confirm?(form: Readonly<Record<string, string>>): string | undefined;
  /**
   * Run before the confirmation question, through operations that only read: a page to answer
   * at once (with its status) when the change would be refused anyway, so the person is not asked
   * to confirm what cannot happen; undefined to go on and ask.
   */
  precheck?(form: Readonly<Record<string, string>>, read: ConsoleCall['operation'], who: Signed): Promise<{ page: PageModel; status: number } | undefined>;
  /**
   * What to say once done; `page` is shown instead of returning (a secret shown once); `next` is
   * the console page to return to instead of the one the form was on (that page is gone: a deleted role).
   */
  done(performed: Performed, form: Readonly<Record<string, string>>, who: Signed): { message: string; page?: PageModel; next?: string };
  /** The page shown when the input or the operation is refused (4xx) instead of a bare message, so what the person wrote is shown again. */
  refused?(error: AppError, form: Readonly<Record<string, string>>, who: Signed): PageModel;
  /** The largest form body it takes (bytes as sent); absent: the server's usual limit (body-limit.ts). */
  readonly maxBytes?: number;
}

/** A GET that answers with a file rather than a page (the audit export). */
export interface ConsoleDownload {
  readonly path: string;
  handle(call: ConsoleCall): Promise<void>;
}

/** An operation runner limited to operations that only read, for a precheck: it changes nothing. */
export const readOnly = (operation: ConsoleCall['operation']): ConsoleCall['operation'] => async <T>(operationId: string, input?: Parameters<ConsoleCall['operation']>[1]): Promise<T> => {
  if (adminOperation(operationId).access !== 'read') throw new TypeError(`${operationId} changes something: not for a precheck`);
  return operation<T>(operationId, input);
};

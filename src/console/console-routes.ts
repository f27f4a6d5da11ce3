// The admin console at /console: server-rendered pages for people holding govauth-admin
// (read-write) or govauth-auditor (read-only). Per request: console session (console-session.ts;
// none or its access token expired → govauth's sign-in with a second factor, code + PKCE,
// console-sign-in.ts) → the browser session it came from still signed in → its access token
// still good under the revocation state and live policy (token-liveness.ts, as introspection
// judges it) → the console role: the token's scopes, never more than live policy → the page or action. Every action is a form
// post carrying the session's form token (interactions/csrf.ts), refused to auditors on the
// server unless its operation only reads (403, audited as console.denied), confirmed first when destructive, and performed by
// the admin API's own operation (admin/perform.ts) with the signed-in person as the actor.
import type { Context, Middleware } from 'koa';
import type { Actor } from '../audit/audit-chain.ts';
import { adminOperation, performOperation } from '../admin/perform.ts';
import type { AdminDeps } from '../admin/route.ts';
import { singleValuedQuery } from '../admin/input.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { AppError, isAppError } from '../errors/app-error.ts';
import { mfaFresh } from '../governance/policy-model.ts';
import { MAX_BODY_BYTES } from '../http/body-limit.ts';
import { readForm } from '../http/form-body.ts';
import type { FormTokens } from '../interactions/csrf.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { AccountSessions } from '../oidc/account-session.ts';
import type { Views } from '../pages/views.ts';
import { consoleAssets } from './console-assets.ts';
import { readOnly, type ConsoleAction, type ConsoleCall, type ConsolePage, type Signed } from './console-kit.ts';
import { CONSOLE_PATH, consoleRoleOf, consoleRoleOfScopes, currentConsoleSession, endConsoleSession, startConsoleSession, type ConsoleSession } from './console-session.ts';
import { consoleClientConfig, consolePath, exchangeConsoleCode, readConsoleAnswer, startConsoleSignIn } from './console-sign-in.ts';
import type { AccessTokenChecker } from '../introspection/access-token-check.ts';
import { tokenLiveness } from '../introspection/token-liveness.ts';
import { ADMIN_AUDIENCE } from '../governance/admin-model.ts';
import { CONSOLE_CLIENT_ID } from '../governance/console-client.ts';
import { revokeAccessToken } from '../governance/revocations.ts';
import { CONSOLE_ACTIONS, CONSOLE_DOWNLOADS, CONSOLE_PAGES } from './console-table.ts';
import type { Field, PageModel } from './page-model.ts';
import { createOverviewStats } from './overview-stats.ts';

export interface ConsoleDeps extends AdminDeps {
  readonly sessions: AccountSessions;
  readonly views: Views;
  /** Keyed apart from the sign-in and account pages' tokens (app.ts). */
  readonly forms: FormTokens;
  readonly metrics: Pick<Metrics, 'databaseError' | 'registry'>;
  /** Verifies the console's access token with our own keys (the admin API's checker). */
  readonly checker: AccessTokenChecker;
  /** This server's token endpoint, where the console exchanges its code (over HTTP). */
  readonly tokenEndpoint: () => string;
}

const FLASH = 'govauth.console_flash';

interface Visitor {
  readonly session: ConsoleSession;
  readonly who: Signed;
}


export function consoleRoutes(deps: ConsoleDeps): Middleware {
  const asset = consoleAssets();
  const overviewStats = createOverviewStats(deps.db, deps.policy, deps.now);
  const pages = new Map<string, ConsolePage>(CONSOLE_PAGES.map((p) => [p.path ? `${CONSOLE_PATH}/${p.path}` : CONSOLE_PATH, p]));
  const actions = new Map<string, ConsoleAction>(CONSOLE_ACTIONS.map((a) => [a.name, a]));
  const downloads = new Map(CONSOLE_DOWNLOADS.map((d) => [`${CONSOLE_PATH}/${d.path}`, d]));

  /** The signed-in console visitor, or undefined (no, expired or orphaned session; no console role). */
  async function visitor(ctx: Context): Promise<Visitor | 'no_role' | undefined> {
    const now = deps.now();
    const session = currentConsoleSession(ctx, now);
    if (!session) return undefined;
    const browser = await deps.sessions.signedIn(ctx);
    // Signing out of govauth, or signing in as someone else, ends the console session too.
    if (browser?.sessionUid !== session.sessionUid || browser.accountId !== session.userId) {
      endConsoleSession(ctx);
      return undefined;
    }
    // The access token as introspection would judge it now: a revoked person, grant, token or
    // role, or scopes no longer granted, end the console session (GET pages sign in again).
    const t = session.token;
    const dead = tokenLiveness(deps, { jti: t.jti, iat: t.iat, grantId: t.grantId, userId: session.userId, clientId: CONSOLE_CLIENT_ID, audiences: [ADMIN_AUDIENCE], scopes: t.scopes, scopeRule: 'all' });
    const user = deps.policy.user(session.userId);
    const live = consoleRoleOf(user, now);
    if (!user || !live) return 'no_role';
    if (dead) {
      endConsoleSession(ctx);
      return undefined;
    }
    // The token's scopes decide; live policy can only narrow them.
    const role = consoleRoleOfScopes(t.scopes) === 'admin' && live === 'admin' ? 'admin' : 'auditor';
    return { session, who: { user, role } };
  }

  const actorOf = (ctx: Context, who: Signed): Actor => ({ actorType: 'admin', actor: who.user.id, requestId: String(ctx.state.requestId), ip: ctx.ip });

  function callFor(ctx: Context, who: Signed): ConsoleCall {
    const actor = actorOf(ctx, who);
    return {
      ctx,
      who,
      deps,
      actor,
      metrics: deps.metrics.registry,
      overviewStats,
      query: singleValuedQuery(ctx.query),
      operation: async <T>(operationId: string, input: { params?: Record<string, string>; body?: unknown; query?: Record<string, unknown> } = {}) =>
        (await performOperation(deps, operationId, input, actor, ctx)).result as T,
    };
  }

  function render(ctx: Context, v: Visitor | undefined, model: PageModel, options: { status?: number; current?: string; flash?: { text: string; tone: 'ok' | 'error' }; back?: string } = {}): void {
    const nav = v ? CONSOLE_PAGES.filter((p) => p.nav).map((p) => ({ href: p.path ? `${CONSOLE_PATH}/${p.path}` : CONSOLE_PATH, label: p.nav, current: options.current === p.path })) : [];
    deps.views.render(
      ctx,
      'console/page',
      { ...model, who: v && { email: v.who.user.email, role: v.who.role }, csrf: v ? deps.forms.issue(`console:${v.session.key}`) : '', nav, back: options.back ?? (ctx.method === 'GET' ? consolePath(ctx.url) : undefined) ?? CONSOLE_PATH, flash: options.flash },
      // Scripts only for a page that loads the console's own (script-src 'self', never inline).
      { status: options.status, scripts: Boolean(model.script) },
    );
  }

  const message = (title: string, text: string, tone: 'ok' | 'warn' | 'error' = 'error', back?: string): PageModel => ({
    title,
    sections: [
      { kind: 'notice', title, text, tone },
      ...(back ? [{ kind: 'form' as const, title: 'Where next', method: 'get' as const, action: back, form: { action: '', label: 'Go back', inputs: [] } }] : []),
    ],
  });

  function takeFlash(ctx: Context): { text: string; tone: 'ok' } | undefined {
    const text = ctx.cookies.get(FLASH, { signed: true });
    if (!text) return undefined;
    ctx.cookies.set(FLASH, null, { path: CONSOLE_PATH });
    return { text: Buffer.from(text, 'base64url').toString('utf8'), tone: 'ok' };
  }

  async function signedIn(ctx: Context): Promise<void> {
    const answer = readConsoleAnswer(ctx, deps.issuer);
    const browser = await deps.sessions.signedIn(ctx);
    if (!browser) throw new AppError('unauthorized', 'The sign-in did not complete. Open the console again to sign in.');
    const now = deps.now();
    const user = deps.policy.user(browser.accountId);
    const base = { actorType: 'user' as const, actor: browser.accountId, requestId: String(ctx.state.requestId), ip: ctx.ip };
    const noRole = async (reason: string): Promise<never> => {
      await deps.audit.record({ ...base, action: 'console.sign_in', outcome: 'denied', detail: { reason } });
      throw new AppError('forbidden', 'The console is for people holding the govauth-admin or govauth-auditor role. Ask an administrator if you need it.');
    };
    // Nobody without a console role gets a console token (its code is left to expire unused).
    if (!user || !consoleRoleOf(user, now)) return noRole('no console role');
    const tokens = await exchangeConsoleCode(consoleClientConfig(deps.issuer, deps.tokenEndpoint()), answer);
    if ('refused' in tokens) {
      await deps.audit.record({ ...base, action: 'console.sign_in', outcome: 'denied', detail: { reason: `token endpoint: ${tokens.refused}` } });
      throw new AppError('invalid_request', 'The sign-in could not be completed. Open the console again to sign in.');
    }
    const { accessToken, idClaims } = tokens;
    // Our own token, for the admin API, issued to the console, for the person of this browser.
    const checked = await deps.checker.check(accessToken, ADMIN_AUDIENCE);
    const claims = checked.active ? checked.claims : undefined;
    if (!claims || claims.client_id !== CONSOLE_CLIENT_ID || claims.sub !== idClaims.sub || idClaims.sub !== browser.accountId || typeof claims.jti !== 'string' || typeof claims.exp !== 'number' || typeof claims.iat !== 'number') {
      await deps.audit.record({ ...base, action: 'console.sign_in', outcome: 'denied', detail: { reason: 'access token not acceptable' } });
      throw new AppError('invalid_request', 'The sign-in could not be completed. Open the console again to sign in.');
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    // The token's scopes decide: one carrying neither console scope opens nothing.
    const role = consoleRoleOfScopes(scopes);
    if (!role) return noRole('no console scope granted');
    // The sign-in asked for the MFA acr; a person without a second factor could not give it.
    const amr = Array.isArray(idClaims.amr) ? idClaims.amr.filter((m): m is string => typeof m === 'string') : undefined;
    const authTime = typeof idClaims.auth_time === 'number' ? idClaims.auth_time : undefined;
    if (!mfaFresh(amr, authTime, deps.config.signIn.mfaMaxAge, now)) {
      await deps.audit.record({ ...base, action: 'console.sign_in', outcome: 'denied', detail: { reason: 'no recent second factor', mfa_enrolled: user.mfaEnrolled } });
      throw new AppError('forbidden', user.mfaEnrolled ? 'The console needs a recent second factor. Open the console again to sign in with your authentication code.' : 'The console needs a second factor, and you have none enrolled. Ask an administrator to enroll one (govauth user mfa enroll).');
    }
    await deps.audit.record({ ...base, action: 'console.sign_in', outcome: 'success', detail: { role, jti: claims.jti } });
    const grantId = typeof claims.grant_id === 'string' ? claims.grant_id : undefined;
    startConsoleSession(ctx, user.id, browser.sessionUid, { jti: claims.jti, iat: claims.iat, exp: claims.exp, scopes, grantId }, now);
    ctx.status = 303;
    ctx.redirect(answer.returnTo);
  }

  async function action(ctx: Context, name: string): Promise<void> {
    const v = await visitor(ctx);
    if (v === 'no_role') throw new AppError('forbidden', 'You no longer hold a console role, so nothing was changed.');
    if (!v) throw new AppError('unauthorized', 'Your console session has ended, so nothing was changed. Sign in again and repeat what you were doing.');
    const act = actions.get(name);
    // Refused before reading, with a page (app.ts leaves console bodies to this check).
    const limit = act?.maxBytes ?? MAX_BODY_BYTES;
    if (Number(ctx.get('content-length')) > limit) {
      ctx.set('Connection', 'close');
      throw new AppError('payload_too_large', `This form is larger than the console takes (${limit} bytes as the browser sends it), so nothing was changed.${act?.maxBytes ? ' Apply larger policy sets with govauth policy apply or the admin API.' : ''}`);
    }
    // The console's own pages are UTF-8 and browsers send their forms so: other bytes did not come from them.
    const form = await readForm(ctx, limit, { strictUtf8: true });
    deps.forms.check(`console:${v.session.key}`, form.csrf);
    const back = consolePath(form.back ?? '') ?? CONSOLE_PATH;
    if (name === 'sign-out') {
      // Signing out ends the console's access token too (RFC 7009 §2.1's effect, recorded as
      // every revocation is): a copy of it is no good anywhere from now on.
      await revokeAccessToken(deps.db, { jti: v.session.token.jti, expSec: v.session.token.exp, actor: v.who.user.id, reason: 'signed out of the console' }, deps.now());
      await deps.policy.sync();
      endConsoleSession(ctx);
      render(ctx, undefined, message('Signed out of the console', 'You are signed out of the console. You may still be signed in to govauth in this browser.', 'ok', CONSOLE_PATH));
      return;
    }
    if (!act) throw new AppError('not_found', 'There is no such console action.');
    // Read-only is the server's decision, whatever a page showed: refused, and recorded. An
    // operation the admin API lets auditors call (access 'read': it changes nothing) is theirs here too.
    if (v.who.role !== 'admin' && adminOperation(act.operationId).access !== 'read') {
      await deps.audit.record({ ...actorOf(ctx, v.who), action: 'console.denied', outcome: 'denied', detail: { action: name, operation: act.operationId, role: v.who.role } });
      render(ctx, v, message('Not allowed', 'Auditors can look but not change anything: this was refused and recorded.', 'error', back), { status: 403 });
      return;
    }
    // Refused input shown again with the refusal, when the action keeps what was written.
    const showRefusal = (err: unknown): 'shown' => {
      if (!act.refused || !isAppError(err) || err.status >= 500) throw err;
      render(ctx, v, act.refused(err, form, v.who), { status: err.status, back });
      return 'shown';
    };
    const question = act.confirm?.(form);
    if (question !== undefined && form.confirmed !== 'yes') {
      const early = await act.precheck?.(form, readOnly(callFor(ctx, v.who).operation), v.who).catch(showRefusal);
      if (early === 'shown') return;
      if (early) {
        render(ctx, v, early.page, { status: early.status, back });
        return;
      }
      const fields = Object.fromEntries(Object.entries(form).filter(([k]) => k !== 'csrf' && k !== 'back' && k !== 'confirmed'));
      const inputs: Field[] = [{ name: 'confirmed', label: 'Yes, I am sure', type: 'checkbox', value: '', required: true }];
      render(ctx, v, {
        title: 'Confirm',
        sections: [
          { kind: 'notice', title: 'What will happen', text: question, tone: 'warn' },
          { kind: 'form', title: 'Are you sure?', form: { action: name, label: 'Confirm', danger: true, fields, inputs } },
          { kind: 'form', title: 'Or', method: 'get', action: back, form: { action: '', label: 'Cancel', inputs: [] } },
        ],
      }, { back });
      return;
    }
    // Inside the promise, so input that throws (a name given twice) is shown as a refusal too.
    const performed = await Promise.resolve().then(() => performOperation(deps, act.operationId, act.input(form, deps), actorOf(ctx, v.who), ctx)).catch(showRefusal);
    if (performed === 'shown') return;
    const done = act.done(performed, form, v.who);
    const reach = performed.propagation ? ` In force on ${performed.propagation.applied} of ${performed.propagation.live} live instance${performed.propagation.live === 1 ? '' : 's'}${performed.propagation.complete ? '' : ` (waiting for ${performed.propagation.laggards.join(', ')})`}.` : '';
    if (done.page) {
      render(ctx, v, done.page, { flash: { text: `${done.message}${reach}`, tone: 'ok' }, back });
      return;
    }
    ctx.cookies.set(FLASH, Buffer.from(`${done.message}${reach}`).toString('base64url'), { signed: true, httpOnly: true, sameSite: 'strict', secure: ctx.secure, path: CONSOLE_PATH, maxAge: 60_000 });
    ctx.status = 303;
    ctx.redirect((done.next !== undefined ? consolePath(done.next) : undefined) ?? back);
  }

  async function page(ctx: Context): Promise<void> {
    const found = pages.get(ctx.path);
    const download = downloads.get(ctx.path);
    if (!found && !download) throw new AppError('not_found', 'There is no such console page.');
    const v = await visitor(ctx);
    if (v === 'no_role') throw new AppError('forbidden', 'The console is for people holding the govauth-admin or govauth-auditor role.');
    if (!v) return startConsoleSignIn(ctx, deps.sessions, ctx.url);
    const call = callFor(ctx, v.who);
    if (download) return download.handle(call);
    if (!found) return;
    render(ctx, v, await found.render(call), { current: found.path, flash: takeFlash(ctx) });
  }

  async function dispatch(ctx: Context): Promise<void> {
    if (asset(ctx)) return;
    if (ctx.path === `${CONSOLE_PATH}/signed-in` && ctx.method === 'GET') return signedIn(ctx);
    if (ctx.path === `${CONSOLE_PATH}/sign-out` && ctx.method === 'POST') return action(ctx, 'sign-out');
    const posted = /^\/console\/actions\/([a-z0-9-]{1,64})$/.exec(ctx.path);
    if (posted && ctx.method === 'POST') return action(ctx, posted[1] ?? '');
    if (ctx.method === 'GET' || ctx.method === 'HEAD') return page(ctx);
    ctx.set('Allow', posted ? 'POST' : 'GET, HEAD');
    render(ctx, undefined, message('Not allowed', 'This address does not take that method.'), { status: 405 });
  }

  return async (ctx, next) => {
    if (ctx.path !== CONSOLE_PATH && !ctx.path.startsWith(`${CONSOLE_PATH}/`)) {
      await next();
      return;
    }
    ctx.state.route = `${CONSOLE_PATH}/*`;
    try {
      await dispatch(ctx);
    } catch (err) {
      if (isAppError(err) && err.status < 500) {
        const back = err.code === 'unauthorized' || err.code === 'forbidden' ? undefined : CONSOLE_PATH;
        render(ctx, undefined, message(err.code === 'not_found' ? 'Not found' : err.code === 'forbidden' ? 'Not allowed' : 'Not done', err.message, 'error', back ?? (err.code === 'unauthorized' ? CONSOLE_PATH : undefined)), { status: err.status });
        return;
      }
      if (isDatabaseUnavailable(err)) {
        deps.metrics.databaseError('interaction');
        ctx.set('Retry-After', '2');
        render(ctx, undefined, message('Temporarily unavailable', 'The console is temporarily unavailable. Try again in a moment.'), { status: 503 });
        return;
      }
      deps.log.error('console page failed', { requestId: ctx.state.requestId, err });
      render(ctx, undefined, message('Something went wrong', 'The page could not be shown. Try again in a moment.'), { status: 500 });
    }
  };
}

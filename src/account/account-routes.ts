// The account pages of a signed-in person: the standing delegations they give agents (the
// delegation consent page) and withdraw (their delegations page), and their access requests and
// approvals (access-request-pages.ts). Who is signed in is
// oidc-provider's own browser session (oidc/account-session.ts); someone who is not is sent
// through the ordinary sign-in and back (sign-in-return.ts). Every decision is made on the
// server from current policy; a form carries nothing the server trusts beyond the person's choice
// and what the page showed, which is checked again.
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Actor } from '../audit/audit-chain.ts';
import type { Config } from '../config/load-config.ts';
import { trackChanges } from '../db/change-feed.ts';
import type { Database } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { mfaFresh, type UserDef } from '../governance/policy-model.ts';
import type { AccessRequestEvents } from '../governance/access-request-events.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import { awaitPropagation } from '../governance/propagation.ts';
import { decideStandingDelegation } from '../governance/standing-delegation-rules.ts';
import { grantStandingDelegation, standingDelegationsOf, withdrawStandingDelegation } from '../governance/standing-delegations.ts';
import type { FormTokens } from '../interactions/csrf.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { AccountSessions } from '../oidc/account-session.ts';
import type { Views } from '../pages/views.ts';
import type { Clock } from '../time/clock.ts';
import type { LoginThrottle } from '../governance/login-throttle.ts';
import type { PasswordVerifier } from '../governance/passwords.ts';
import type { MasterKey } from '../keys/master-key.ts';
import { accessRequestPages } from './access-request-pages.ts';
import { signedInPeople, type Person } from './account-kit.ts';
import { factorPages } from './factor-pages.ts';
import { sessionPages } from './session-pages.ts';
import { cibaPages } from './ciba-pages.ts';
import type { CibaApprovals } from '../oidc/ciba.ts';
import { accountPagesUnder } from './account-error-page.ts';
import { readDelegationForm, readDelegationQuery } from './delegation-request.ts';
import { consentPage, listPage, type ListBanner } from './delegation-pages.ts';
import { ACCOUNT_HOME, accountPath, finishSignIn, startSignIn } from './sign-in-return.ts';

export interface AccountDeps {
  readonly sessions: AccountSessions;
  readonly issuer: string;
  readonly config: Pick<Config, 'signIn' | 'propagationWaitMs'>;
  readonly db: Database;
  readonly policy: PolicyStore;
  readonly views: Views;
  /** Keyed apart from the sign-in pages' tokens (app.ts), so neither form is valid for the other. */
  readonly forms: FormTokens;
  readonly accessRequests: AccessRequestEvents;
  readonly log: Logger;
  readonly now: Clock;
  readonly metrics: Pick<Metrics, 'databaseError'>;
  /** For the security pages (factor-pages.ts, session-pages.ts). */
  readonly master: MasterKey;
  readonly passwords: PasswordVerifier;
  readonly throttle: LoginThrottle;
  /** OpenID CIBA decisions (oidc/ciba.ts); absent when GOVAUTH_CIBA is off. */
  readonly ciba?: CibaApprovals | undefined;
}

export function accountRoutes(deps: AccountDeps): Middleware {
  const { views, forms, policy } = deps;
  const router = new Router({ prefix: '/account' });

  const { person, poster } = signedInPeople(deps);

  const actor = (ctx: Context, who: Person): Actor => ({ actorType: 'user', actor: who.user.id, requestId: ctx.state.requestId, ip: ctx.ip });
  const isFresh = (who: Person): boolean => mfaFresh(who.session.amr, who.session.authTime, deps.config.signIn.mfaMaxAge, deps.now());
  /**
   * Runs a write and returns once it is in force: on this instance at once, and (bounded by
   * GOVAUTH_PROPAGATION_WAIT_MS, as for the admin API) on every live instance, so a withdrawn
   * delegation has ended everywhere when the person reads "Withdrawn". The write is committed
   * either way; a slow instance is logged, not shown as a failure.
   */
  async function inForce<T>(work: () => Promise<T>): Promise<T> {
    const { result, changeId } = await trackChanges(work);
    await policy.sync().catch((err: unknown) => deps.log.warn('policy sync after an account change failed; the poller will apply it', { err }));
    if (!changeId) return result;
    const propagation = await awaitPropagation(deps.db, changeId, deps.config.propagationWaitMs).catch((err: unknown) => {
      deps.log.warn('could not confirm that every instance applied an account change', { err });
      return undefined;
    });
    if (propagation && !propagation.complete) deps.log.warn('account change not applied by every live instance in time', { changeId, laggards: propagation.laggards });
    return result;
  }

  const seeOther = (ctx: Context, path: string): void => {
    ctx.status = 303;
    ctx.redirect(path);
  };

  router.get('/signed-in', (ctx) => seeOther(ctx, finishSignIn(ctx, deps.issuer)));

  // An explicit sign-in, or a fresh second factor (mfa=1) before a high-sensitivity permission.
  router.get('/sign-in', (ctx) => {
    const back = typeof ctx.query.return === 'string' ? accountPath(ctx.query.return) : undefined;
    startSignIn(ctx, deps.sessions, back ?? ACCOUNT_HOME, { stepUp: ctx.query.mfa === '1' });
  });

  router.get('/delegations/new', async (ctx) => {
    // The request is checked before anyone is asked to sign in for it.
    const request = readDelegationQuery(ctx.query);
    const who = await person(ctx);
    if (!who) return startSignIn(ctx, deps.sessions, ctx.url, { stepUp: false });
    const now = deps.now();
    const snapshot = policy.snapshot();
    const decision = decideStandingDelegation(snapshot, who.user, { ...request, mfaFresh: isFresh(who), now });
    if (!decision.ok) throw new AppError('invalid_request', decision.message);
    const mine = await standingDelegationsOf(deps.db, who.user.id);
    const model = consentPage({
      snapshot,
      email: who.user.email,
      decision,
      expiresAt: request.expiresIn === null ? null : now + request.expiresIn * 1000,
      replaces: mine.find((d) => d.client_id === decision.agent.id && d.audience === decision.resource.audience),
      stepUpHref: `/account/sign-in?${new URLSearchParams({ mfa: '1', return: ctx.url }).toString()}`,
    });
    views.render(ctx, 'delegation-consent', { ...model, csrf: forms.issue(who.csrfKey) });
  });

  router.post('/delegations', async (ctx) => {
    const { who, form } = await poster(ctx);
    const answer = readDelegationForm(form);
    if (!answer.allow) return seeOther(ctx, `${ACCOUNT_HOME}?result=denied`);
    const now = deps.now();
    // Checked again from current policy: the grant stores exactly what the page showed, or nothing.
    const saved = await inForce(() =>
      grantStandingDelegation(
        deps.db,
        { snapshot: policy.snapshot(), user: who.user, clientId: answer.clientId, audience: answer.audience, scopes: answer.scopes, expiresAt: answer.expiresAt, mfaFresh: isFresh(who) },
        actor(ctx, who),
        now,
      ),
    );
    seeOther(ctx, `${ACCOUNT_HOME}?granted=${encodeURIComponent(saved.id)}`);
  });

  router.get('/delegations', async (ctx) => {
    const who = await person(ctx);
    if (!who) return startSignIn(ctx, deps.sessions, ctx.url, { stepUp: false });
    const granted = ctx.query.granted;
    const banner: ListBanner =
      typeof granted === 'string' ? { kind: 'granted', id: granted } : ctx.query.result === 'denied' ? { kind: 'denied' } : ctx.query.result === 'withdrawn' ? { kind: 'withdrawn' } : undefined;
    const mine = await standingDelegationsOf(deps.db, who.user.id);
    views.render(ctx, 'delegations', { ...listPage(policy.snapshot(), who.user.email, mine, banner, deps.now()), csrf: forms.issue(who.csrfKey) });
  });

  router.post('/delegations/:id/withdraw', async (ctx) => {
    const { who } = await poster(ctx);
    await inForce(() => withdrawStandingDelegation(deps.db, ctx.params.id ?? '', { as: 'owner', userId: who.user.id }, actor(ctx, who)));
    seeOther(ctx, `${ACCOUNT_HOME}?result=withdrawn`);
  });

  const securityKit = {
    db: deps.db,
    views,
    forms,
    now: deps.now,
    master: deps.master,
    passwords: deps.passwords,
    throttle: deps.throttle,
    policy,
    config: deps.config,
    log: deps.log,
    person,
    poster,
    signIn: (ctx: Context, returnTo: string, stepUp: boolean) => startSignIn(ctx, deps.sessions, returnTo, { stepUp }),
    actor,
    isFresh,
    inForce,
    seeOther,
  };
  factorPages(router, securityKit);
  sessionPages(router, securityKit);
  const userActor = (ctx: Context, user: UserDef): Actor => ({ actorType: 'user', actor: user.id, requestId: ctx.state.requestId, ip: ctx.ip });
  const agentRequests = deps.ciba
    ? cibaPages(router, { db: deps.db, policy, forms, now: deps.now, mfaMaxAge: deps.config.signIn.mfaMaxAge, approvals: deps.ciba, person, poster, actor: userActor, seeOther })
    : undefined;

  accessRequestPages(router, {
    db: deps.db,
    views,
    forms,
    now: deps.now,
    events: deps.accessRequests,
    person,
    poster,
    signIn: (ctx) => startSignIn(ctx, deps.sessions, ctx.url, { stepUp: false }),
    actor: (ctx, user) => ({ actorType: 'user', actor: user.id, requestId: ctx.state.requestId, ip: ctx.ip }),
    inForce,
    seeOther,
    ...(agentRequests && { agentRequests }),
  });

  return accountPagesUnder('/account', router, deps, views);
}

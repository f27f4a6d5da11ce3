// The login, two-step and consent pages behind oidc-provider's interactions, using only its
// public API (interactionDetails, interactionFinished, Grant) as in example/routes/koa.js.
// Every decision is made on the server from current policy; the forms carry nothing the
// server trusts beyond the person's input.
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Config } from '../config/load-config.ts';
import type { Database } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { canonicalEmail } from '../governance/email-address.ts';
import type { LoginThrottle } from '../governance/login-throttle.ts';
import type { RateLimiter, RateRule } from '../ratelimit/rate-limiter.ts';
import type { PasswordVerifier } from '../governance/passwords.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import type { SecurityEventSink } from '../governance/security-events.ts';
import { consumeTotp, findUserCredentials, replacePasswordHash } from '../governance/user-registry.ts';
import type { MasterKey } from '../keys/master-key.ts';
import type { Logger } from '../log/logger.ts';
import { readForm } from '../http/form-body.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { hashPassword } from '../governance/passwords.ts';
import { consumeRecoveryCode } from '../governance/recovery-codes.ts';
import { buildConsent, mfaFreshForInteraction } from './consent-model.ts';
import { renderInteractionError } from './interaction-error-page.ts';
import type { FormTokens } from './csrf.ts';
import { ACR_MFA, ACR_PASSWORD, STEP_UP_REASON } from '../governance/step-up.ts';
import { SIGN_IN_EXPIRED } from '../pages/error-messages.ts';
import { originsOf, type Views } from '../pages/views.ts';
import { InteractionGone, type InteractionClient, type InteractionDetails, type InteractionHost } from '../oidc/interaction-host.ts';
import type { Clock } from '../time/clock.ts';
import type { RelyingParty } from '../governance/webauthn-ceremony.ts';
import { passkeyRoutes } from './passkey-routes.ts';
import { stepUpChoices } from './step-up-choices.ts';

export interface InteractionDeps {
  /** oidc-provider's interaction API (oidc/interaction-host.ts). */
  readonly interactions: InteractionHost;
  readonly config: Config;
  readonly db: Database;
  readonly policy: PolicyStore;
  readonly master: MasterKey;
  readonly views: Views;
  readonly forms: FormTokens;
  readonly passwords: PasswordVerifier;
  readonly throttle: LoginThrottle;
  readonly limiter: RateLimiter;
  readonly events: SecurityEventSink;
  readonly log: Logger;
  readonly now: Clock;
  readonly metrics: Pick<Metrics, 'databaseError'>;
  /** Passkeys: the RP id and origin every ceremony is checked against (webauthn-config.ts). */
  readonly rp: RelyingParty;
}

type Details = InteractionDetails;
type OidcClient = InteractionClient;

const minutes = (ms: number): string => {
  const m = Math.max(1, Math.ceil(ms / 60_000));
  return `${m} minute${m === 1 ? '' : 's'}`;
};

export function interactionRoutes(deps: InteractionDeps): Middleware {
  const { views, forms, events, policy } = deps;
  const router = new Router({ prefix: '/interaction' });
  // Attempts, successful or not, per source address (credential stuffing across accounts) and
  // per account (guessing one account from many addresses). The failure lockout per account +
  // address (login-throttle.ts) applies on top.
  const perAddress: RateRule = { name: 'signin-address', limit: deps.config.rateLimits.signInPerAddress, windowSeconds: 60 };
  const perAccount: RateRule = { name: 'signin-account', limit: deps.config.rateLimits.signInPerAccount, windowSeconds: 60 };

  /** Spends one sign-in attempt from both budgets, or says how long to wait. */
  async function attemptAllowed(email: string, ip: string): Promise<{ retryAfter: number; first: boolean; limit: string } | undefined> {
    const byAddress = await deps.limiter.take(perAddress, ip);
    if (!byAddress.allowed) return { retryAfter: byAddress.retryAfterSeconds, first: byAddress.first, limit: 'address' };
    const byAccount = await deps.limiter.take(perAccount, canonicalEmail(email)); // the lookup's spelling
    if (byAccount.allowed) return undefined;
    byAddress.refund(); // a refused attempt is not an attempt
    return { retryAfter: byAccount.retryAfterSeconds, first: byAccount.first, limit: 'account' };
  }

  /** Loads the interaction for this browser; refuses a uid that is not the cookie's. */
  async function load(ctx: Context): Promise<{ details: Details; client: OidcClient }> {
    let details: Details;
    try {
      details = await deps.interactions.details(ctx);
    } catch (err) {
      if (err instanceof InteractionGone) throw new AppError('invalid_request', SIGN_IN_EXPIRED.message, { detail: err.message });
      throw err;
    }
    if (details.uid !== (ctx.params as Record<string, string>).uid) throw new AppError('invalid_request', 'This sign-in request does not belong to this browser.');
    const client = await deps.interactions.findClient(String(details.params.client_id));
    if (!client) throw new AppError('invalid_request', 'The application is no longer registered.');
    return { details, client };
  }

  const formTargets = (client: { redirectUris?: readonly string[] | undefined }): string[] => originsOf(client.redirectUris ?? []);
  const audit = (ctx: Context, event: Omit<Parameters<SecurityEventSink['record']>[0], 'ip' | 'requestId'>): Promise<void> =>
    events.record({ ...event, ip: ctx.ip, requestId: ctx.state.requestId });


  function renderLogin(ctx: Context, details: Details, client: OidcClient, extra: { email?: string; error?: string; status?: number } = {}): void {
    views.render(
      ctx,
      'login',
      {
        uid: details.uid,
        csrf: forms.issue(details.uid),
        appName: client.clientName,
        email: extra.email ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : ''),
        error: extra.error,
      },
      { status: extra.status, formTargets: formTargets(client), scripts: true },
    );
  }

  function renderMfa(ctx: Context, details: Details, client: OidcClient, error?: string, status?: number, recovery = false): void {
    const user = policy.user(details.session?.accountId ?? '');
    const choices = stepUpChoices(policy.snapshot(), user, deps.now());
    views.render(
      ctx,
      'mfa',
      {
        uid: details.uid,
        csrf: forms.issue(details.uid),
        email: user?.email ?? '',
        ...choices,
        error,
        recovery,
      },
      { status, formTargets: formTargets(client), scripts: choices.passkey },
    );
  }

  const isStepUp = (details: Details): boolean =>
    details.prompt.name === 'login' && Boolean(details.session?.accountId) && details.prompt.reasons.includes(STEP_UP_REASON);

  router.get('/:uid', async (ctx) => {
    const { details, client } = await load(ctx);
    if (details.prompt.name === 'login') {
      if (isStepUp(details)) renderMfa(ctx, details, client);
      else renderLogin(ctx, details, client);
      return;
    }
    if (details.prompt.name === 'consent') {
      const model = buildConsent(deps, details, client, await mfaFreshForInteraction(deps, details), ctx.ip);
      views.render(ctx, 'consent', { ...model.view, uid: details.uid, csrf: forms.issue(details.uid) }, { formTargets: formTargets(client) });
      return;
    }
    throw new AppError('invalid_request', `unsupported interaction ${details.prompt.name}`);
  });

  router.post('/:uid/login', async (ctx) => {
    const { details, client } = await load(ctx);
    const form = await readForm(ctx);
    forms.check(details.uid, form.csrf);
    if (details.prompt.name !== 'login') throw new AppError('invalid_request', 'This step of the sign-in is already complete.');
    const email = (form.email ?? '').trim();
    const password = form.password ?? '';
    const ip = ctx.ip;

    const limited = await attemptAllowed(email, ip);
    if (limited) {
      // Recorded once per key and window: a flood must not become a flood of audit writes.
      if (limited.first) await audit(ctx, { type: 'login.throttled', actor: email, clientId: client.clientId, detail: { reason: 'rate_limit', limit: limited.limit } });
      ctx.set('Retry-After', String(limited.retryAfter));
      renderLogin(ctx, details, client, {
        email,
        status: 429,
        error: `Too many sign-in attempts. Try again in ${limited.retryAfter} second${limited.retryAfter === 1 ? '' : 's'}.`,
      });
      return;
    }

    const locked = await deps.throttle.lockedUntil({ email }, ip, deps.now());
    if (locked) {
      await audit(ctx, { type: 'login.throttled', actor: email, clientId: client.clientId, detail: { reason: 'lockout' } });
      ctx.set('Retry-After', String(Math.ceil((locked - deps.now()) / 1000)));
      renderLogin(ctx, details, client, {
        email,
        status: 429,
        error: `Too many failed sign-in attempts. For your security, sign-in is paused for ${minutes(locked - deps.now())}.`,
      });
      return;
    }

    const account = email && password ? await findUserCredentials(deps.db, email) : undefined;
    // Always pay the same argon2 work, for known and unknown emails alike.
    const { ok, rehash } = await deps.passwords.verify(account?.passwordHash, password);
    if (!ok || !account || account.disabled) {
      const { lockedUntil } = await deps.throttle.recordFailure({ email }, ip, deps.now());
      await audit(ctx, { type: 'login.failed', actor: account?.id ?? email, clientId: client.clientId, detail: { reason: account?.disabled ? 'disabled' : 'bad_credentials' } });
      if (lockedUntil) ctx.set('Retry-After', String(Math.ceil((lockedUntil - deps.now()) / 1000)));
      renderLogin(ctx, details, client, {
        email,
        status: lockedUntil ? 429 : 401,
        error: lockedUntil
          ? `Too many failed sign-in attempts. For your security, sign-in is paused for ${minutes(lockedUntil - deps.now())}.`
          : 'Incorrect email or password.',
      });
      return;
    }
    await deps.throttle.recordSuccess({ email }, ip);
    if (rehash) await replacePasswordHash(deps.db, account.id, await hashPassword(password));
    await audit(ctx, { type: 'login.succeeded', actor: account.id, clientId: client.clientId, detail: { amr: ['pwd'] } });
    // Password only; if the request needs a second factor, the login prompt's step-up check
    // asks for it in the next interaction.
    await deps.interactions.finish(ctx, { login: { accountId: account.id, amr: ['pwd'], acr: ACR_PASSWORD, remember: true } });
  });

  router.post('/:uid/mfa', async (ctx) => {
    const { details, client } = await load(ctx);
    const form = await readForm(ctx);
    forms.check(details.uid, form.csrf);
    const accountId = details.session?.accountId;
    if (!isStepUp(details) || !accountId) throw new AppError('invalid_request', 'No authentication code is expected for this sign-in.');
    const throttleId = { mfaAccount: accountId };
    const locked = await deps.throttle.lockedUntil(throttleId, ctx.ip, deps.now());
    if (locked) {
      ctx.set('Retry-After', String(Math.ceil((locked - deps.now()) / 1000)));
      renderMfa(ctx, details, client, `Too many wrong codes. Try again in ${minutes(locked - deps.now())}.`, 429);
      return;
    }
    // A role that requires a passkey is satisfied neither by a code nor by a recovery code (which
    // stands in for the app's code only): role require-factor.
    if (!stepUpChoices(policy.snapshot(), policy.user(accountId), deps.now()).totp) throw new AppError('invalid_request', 'Confirm it is you with a passkey: a code is not accepted for this account.');
    // A recovery code (recovery-codes.ts) stands in for the app's code; both spend the same
    // failure budget, so offering two kinds of code does not double a guesser's attempts.
    const recovery = form.recovery_code !== undefined;
    const verified = recovery
      ? (await consumeRecoveryCode(deps.db, deps.master, accountId, form.recovery_code ?? '', { actorType: 'user', actor: accountId, clientId: client.clientId, requestId: ctx.state.requestId, ip: ctx.ip })).ok
      : await consumeTotp(deps.db, deps.master, accountId, (form.code ?? '').replace(/\s+/g, ''), deps.now());
    if (!verified) {
      await deps.throttle.recordFailure(throttleId, ctx.ip, deps.now());
      await audit(ctx, { type: 'mfa.failed', actor: accountId, clientId: client.clientId, ...(recovery && { detail: { method: 'recovery_code' } }) });
      const error = recovery ? 'That recovery code is not valid, or it was already used.' : 'That code is not valid. Enter the current 6-digit code from your authenticator app.';
      renderMfa(ctx, details, client, error, 401, recovery);
      return;
    }
    await deps.throttle.recordSuccess(throttleId, ctx.ip);
    await audit(ctx, { type: 'mfa.succeeded', actor: accountId, clientId: client.clientId, detail: { amr: ['pwd', 'otp'], ...(recovery && { method: 'recovery_code' }) } });
    await deps.interactions.finish(ctx, { login: { accountId, amr: ['pwd', 'otp'], acr: ACR_MFA, remember: true } });
  });

  passkeyRoutes(router, deps, {
    load,
    isStepUp,
    audit,
    async addressAllows(ip) {
      const taken = await deps.limiter.take(perAddress, ip);
      return taken.allowed ? undefined : { retryAfter: taken.retryAfterSeconds };
    },
    again: (ctx, details, client, error, status) => (isStepUp(details) ? renderMfa(ctx, details, client, error, status) : renderLogin(ctx, details, client, { error, status })),
  });

  router.post('/:uid/consent', async (ctx) => {
    const { details, client } = await load(ctx);
    const form = await readForm(ctx);
    forms.check(details.uid, form.csrf);
    if (details.prompt.name !== 'consent') throw new AppError('invalid_request', 'This consent was already given or is no longer needed.');
    const accountId = details.session?.accountId;
    if (!accountId) throw new AppError('invalid_request', 'Sign in first.');
    // Recomputed from current policy: nothing in the form widens what is granted.
    const model = buildConsent(deps, details, client, await mfaFreshForInteraction(deps, details), ctx.ip);
    if (form.decision !== 'allow' || model.view.canAllow !== true) {
      await audit(ctx, { type: 'consent.denied', actor: accountId, clientId: client.clientId, detail: { requested: model.requested } });
      await deps.interactions.finish(ctx, { error: 'access_denied', error_description: 'the user denied the request' });
      return;
    }
    // A fresh Grant per consent, so an earlier refusal (say, before MFA enrolment) never sticks.
    const grantId = await deps.interactions.saveConsent({ accountId, clientId: client.clientId, oidcScopes: model.oidcScopes, grantable: model.grantable, withheld: model.withheld });
    await audit(ctx, {
      type: 'consent.granted',
      actor: accountId,
      clientId: client.clientId,
      detail: { grantId, scopes: [...model.grantable].map(([r, s]) => ({ resource: r, scopes: s })), withheld: [...model.withheld].map(([r, s]) => ({ resource: r, scopes: s })) },
    });
    await deps.interactions.finish(ctx, { consent: { grantId } }, true);
  });

  router.post('/:uid/abort', async (ctx) => {
    const { details, client } = await load(ctx);
    const form = await readForm(ctx);
    forms.check(details.uid, form.csrf);
    await audit(ctx, { type: 'consent.denied', actor: details.session?.accountId, clientId: client.clientId, detail: { step: details.prompt.name, cancelled: true } });
    await deps.interactions.finish(ctx, { error: 'access_denied', error_description: 'the user cancelled the request' });
  });

  const routes = router.routes();
  return async (ctx, next) => {
    if (!ctx.path.startsWith('/interaction/')) {
      await next();
      return;
    }
    try {
      await routes(ctx as never, next);
    } catch (err) {
      if (isDatabaseUnavailable(err)) deps.metrics.databaseError('interaction');
      renderInteractionError(ctx, views, deps.log, err);
    }
  };
}

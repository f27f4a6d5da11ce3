// A signed-in person's passkeys (/account/passkeys): the list (name, when added and last used,
// signature counter, whether it is synced and backed up), adding one, renaming and removing.
// Adding or removing a factor needs a recent proof: a fresh second factor when the person has
// one, else a fresh password sign-in (OWASP ASVS 4.0 V2.8/V3.7: re-authenticate before a
// sensitive change). The ceremony itself is passkey-routes.ts's twin: options fetched as JSON
// with the page's form token, the answer posted as an ordinary form.
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Actor } from '../audit/audit-chain.ts';
import type { Config } from '../config/load-config.ts';
import type { Database } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { finishRegistration, issueChallenge, listPasskeys, removePasskey, renamePasskey, checkPasskeyName } from '../governance/passkeys.ts';
import { mfaFresh } from '../governance/policy-model.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import type { SecurityEventSink } from '../governance/security-events.ts';
import { parseCredentialJson, registrationOptions, type RelyingParty } from '../governance/webauthn-ceremony.ts';
import { sendError } from '../http/error-responses.ts';
import type { FormTokens } from '../interactions/csrf.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { AccountSessions } from '../oidc/account-session.ts';
import type { Views } from '../pages/views.ts';
import type { Clock } from '../time/clock.ts';
import { passkeysOf } from '../db/passkey-repository.ts';
import { accountPagesUnder } from './account-error-page.ts';
import { signedInPeople, type Person } from './account-kit.ts';
import { startSignIn } from './sign-in-return.ts';

const PASSKEYS_PAGE = '/account/passkeys';

export interface PasskeyPageDeps {
  readonly sessions: AccountSessions;
  readonly config: Pick<Config, 'signIn'>;
  readonly db: Database;
  readonly policy: PolicyStore;
  readonly views: Views;
  /** The account pages' form tokens (the same key as account-routes.ts). */
  readonly forms: FormTokens;
  readonly rp: RelyingParty;
  readonly events: SecurityEventSink;
  readonly log: Logger;
  readonly now: Clock;
  readonly metrics: Pick<Metrics, 'databaseError'>;
}

const BANNERS: Readonly<Record<string, string>> = {
  added: 'Passkey added. You can now use it to sign in and to confirm it is you.',
  renamed: 'Passkey renamed.',
  removed: 'Passkey removed. It can no longer be used with your account.',
};

const when = (iso: string | null): string => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : 'never');

export function passkeyPages(deps: PasskeyPageDeps): Middleware {
  const { views, forms, policy } = deps;
  const router = new Router({ prefix: PASSKEYS_PAGE });

  const { person, poster } = signedInPeople(deps);

  /** A recent enough proof of the person for adding or removing a factor. */
  function recent(who: Person): boolean {
    const { amr, authTime } = who.session;
    const maxAge = deps.config.signIn.mfaMaxAge;
    if (who.user.mfaEnrolled) return mfaFresh(amr, authTime, maxAge, deps.now());
    return authTime !== undefined && deps.now() / 1000 - authTime <= maxAge;
  }

  const actor = (ctx: Context, who: Person): Actor => ({ actorType: 'user', actor: who.user.id, requestId: ctx.state.requestId, ip: ctx.ip });
  const binding = (who: Person): string => `register:${who.session.sessionUid}`;
  const seeOther = (ctx: Context, path: string): void => {
    ctx.status = 303;
    ctx.redirect(path);
  };

  async function render(ctx: Context, who: Person, extra: { error?: string; status?: number } = {}): Promise<void> {
    const list = await listPasskeys(deps.db, who.user.id);
    const result = typeof ctx.query.result === 'string' ? BANNERS[ctx.query.result] : undefined;
    views.render(
      ctx,
      'passkeys',
      {
        email: who.user.email,
        csrf: forms.issue(who.csrfKey),
        confirmation: extra.error ? undefined : result,
        error: extra.error,
        recent: recent(who),
        confirmHref: `${PASSKEYS_PAGE}/confirm`,
        confirmWith: who.user.mfaEnrolled ? 'a second factor' : 'your password',
        passkeys: list.map((p) => ({ ...p, created: when(p.created_at), lastUsed: when(p.last_used_at) })),
      },
      { status: extra.status, scripts: true },
    );
  }

  router.get('/', async (ctx) => {
    const who = await person(ctx);
    if (!who) return startSignIn(ctx, deps.sessions, PASSKEYS_PAGE, { stepUp: false });
    await render(ctx, who);
  });

  // Back through the sign-in for a fresh proof: the second factor when there is one, else the password.
  router.get('/confirm', async (ctx) => {
    const who = await person(ctx);
    startSignIn(ctx, deps.sessions, PASSKEYS_PAGE, who?.user.mfaEnrolled ? { stepUp: true } : { stepUp: false, reauth: Boolean(who) });
  });

  router.post('/options', async (ctx) => {
    try {
      const { who } = await poster(ctx);
      if (!recent(who)) throw new AppError('forbidden', 'Confirm it is you first: reload the page and follow the link to sign in again.');
      const options = await registrationOptions(deps.rp, who.user, await passkeysOf(deps.db, who.user.id));
      await issueChallenge(deps.db, binding(who), options.challenge, who.user.id, deps.now());
      ctx.set('Cache-Control', 'no-store');
      ctx.body = options;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      sendError(ctx, err.status, err.code, err.message, ctx.state.requestId);
    }
  });

  router.post('/', async (ctx) => {
    const { who, form } = await poster(ctx);
    if (!recent(who)) return render(ctx, who, { error: 'Confirm it is you first, then add the passkey again.', status: 403 });
    const name = checkPasskeyName(form.name);
    const response = parseCredentialJson(form.response);
    const result = response
      ? await finishRegistration(deps.db, deps.rp, { user: who.user, binding: binding(who), response, name }, actor(ctx, who), deps.now())
      : ({ ok: false, reason: 'malformed' } as const);
    if (!result.ok) {
      await deps.events.record({ type: 'passkey.refused', actor: who.user.id, ip: ctx.ip, requestId: ctx.state.requestId, detail: { reason: result.reason, step: 'register' } });
      const message =
        result.reason === 'duplicate_credential'
          ? 'This passkey is already registered.'
          : result.reason === 'no_challenge'
            ? 'The passkey request expired or was already used. Try again.'
            : 'The passkey could not be verified, so it was not added. Try again.';
      return render(ctx, who, { error: message, status: 400 });
    }
    await policy.sync().catch((err: unknown) => deps.log.warn('policy sync after a passkey change failed; the poller will apply it', { err }));
    seeOther(ctx, `${PASSKEYS_PAGE}?result=added`);
  });

  router.post('/:id/rename', async (ctx) => {
    const { who, form } = await poster(ctx);
    await renamePasskey(deps.db, { userId: who.user.id, id: ctx.params.id ?? '', name: form.name ?? '' }, actor(ctx, who));
    seeOther(ctx, `${PASSKEYS_PAGE}?result=renamed`);
  });

  router.post('/:id/remove', async (ctx) => {
    const { who } = await poster(ctx);
    if (!recent(who)) return render(ctx, who, { error: 'Confirm it is you first, then remove the passkey again.', status: 403 });
    try {
      await removePasskey(deps.db, { userId: who.user.id, id: ctx.params.id ?? '', snapshot: policy.snapshot(), user: who.user, now: deps.now() }, actor(ctx, who));
    } catch (err) {
      if (err instanceof AppError && err.code === 'conflict') return render(ctx, who, { error: err.message, status: 409 });
      throw err;
    }
    await policy.sync().catch((err: unknown) => deps.log.warn('policy sync after a passkey change failed; the poller will apply it', { err }));
    seeOther(ctx, `${PASSKEYS_PAGE}?result=removed`);
  });

  return accountPagesUnder(PASSKEYS_PAGE, router, deps, views);
}

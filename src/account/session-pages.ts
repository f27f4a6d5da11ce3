// /account/sessions: where a person is signed in (browser, address, when), which apps hold
// access they consented to, and their time-boxed roles, each with a way to end it; and
// /account/password, a new password that ends every other sign-in. Forms carry the account
// pages' CSRF token; what a form names is looked up again among the person's own, so nobody can
// end someone else's session or grant by editing a form.
import type Router from '@koa/router';
import { AppError } from '../errors/app-error.ts';
import { endGrant, endSession, grantsOf, sessionHandle, sessionsOf } from '../governance/account-activity.ts';
import { removeRoleGrant } from '../governance/role-grants.ts';
import { standingDelegationsOf } from '../governance/standing-delegations.ts';
import { changeOwnPassword, findUserCredentials } from '../governance/user-registry.ts';
import { ACCOUNT_NAV, when, type Person, type SecurityKit } from './account-kit.ts';
import { deviceLabel } from '../governance/device-label.ts';

const minutes = (ms: number): string => {
  const m = Math.max(1, Math.ceil(ms / 60_000));
  return `${m} minute${m === 1 ? '' : 's'}`;
};

const ENDED: Readonly<Record<string, string>> = {
  session: 'That sign-in has ended. The apps signed in with it have lost their access.',
  grant: 'That app no longer has access. Tokens it holds stop working now.',
  role: 'You gave up that role. Your next tokens no longer include it.',
};

export function sessionPages(router: Router, kit: SecurityKit): void {
  const { views, forms } = kit;

  async function sessionsModel(who: Person) {
    const now = kit.now();
    const snapshot = kit.policy.snapshot();
    const clientName = (id: string): string => (id === 'govauth-account' ? 'your govauth account' : (snapshot.clients.get(id)?.name ?? id));
    const [sessions, grants, delegations] = await Promise.all([sessionsOf(kit.db, who.user.id, now), grantsOf(kit.db, who.user.id, now), standingDelegationsOf(kit.db, who.user.id)]);
    return {
      sessions: sessions.map((s) => ({
        handle: sessionHandle(s.uid),
        current: s.uid === who.session.sessionUid,
        device: deviceLabel(s.device?.userAgent),
        userAgent: s.device?.userAgent,
        ip: s.device?.ip,
        signedIn: when(s.signedInAt),
        lastSeen: s.device ? when(s.device.lastSeenAt) : undefined,
        expires: when(s.expiresAt),
        methods: s.amr.includes('otp') ? 'password and second factor' : s.amr.length ? 'password' : 'unknown',
        apps: s.clients.map(clientName),
      })),
      grants: grants.map((g) => ({
        id: g.id,
        app: clientName(g.clientId),
        granted: when(g.grantedAt),
        expires: g.expiresAt === null ? 'until you end it' : `until ${when(g.expiresAt)}`,
        resources: [...g.resources].map(([audience, scopes]) => ({ name: snapshot.resources.get(audience)?.name ?? audience, audience, scopes })),
        profile: g.openidScopes.filter((s) => s !== 'openid'),
      })),
      roles: who.user.roles.filter((r) => r.expiresAt !== null && r.expiresAt > now).map((r) => ({ role: r.role, until: when(r.expiresAt) })),
      delegations: delegations.filter((d) => d.expires_at === null || Date.parse(d.expires_at) > now).length,
    };
  }

  router.get('/sessions', async (ctx) => {
    const who = await kit.person(ctx);
    if (!who) return kit.signIn(ctx, '/account/sessions', false);
    const ended = typeof ctx.query.ended === 'string' ? ENDED[ctx.query.ended] : undefined;
    views.render(ctx, 'account-sessions', { nav: ACCOUNT_NAV, current: '/account/sessions', email: who.user.email, ended, ...(await sessionsModel(who)), csrf: forms.issue(who.csrfKey) });
  });

  router.post('/sessions/:handle/end', async (ctx) => {
    const { who } = await kit.poster(ctx);
    const session = (await sessionsOf(kit.db, who.user.id, kit.now())).find((s) => sessionHandle(s.uid) === ctx.params.handle);
    if (!session) throw new AppError('not_found', 'That sign-in has already ended.');
    await kit.inForce(() => endSession(kit.db, who.user.id, session.uid, kit.actor(ctx, who), kit.now()));
    if (session.uid !== who.session.sessionUid) return kit.seeOther(ctx, '/account/sessions?ended=session');
    // This browser is signed out now: the account pages would only ask it to sign in again.
    views.render(ctx, 'account-signed-out', {});
  });

  router.post('/grants/:id/end', async (ctx) => {
    const { who } = await kit.poster(ctx);
    await kit.inForce(() => endGrant(kit.db, who.user.id, ctx.params.id ?? '', kit.actor(ctx, who), kit.now()));
    kit.seeOther(ctx, '/account/sessions?ended=grant');
  });

  router.post('/roles/:role/end', async (ctx) => {
    const { who } = await kit.poster(ctx);
    const role = ctx.params.role ?? '';
    // Only a time-boxed role can be given up here: a standing role is an administrator's decision.
    if (!who.user.roles.some((r) => r.role === role && r.expiresAt !== null && r.expiresAt > kit.now())) throw new AppError('not_found', 'You do not hold that role for a limited time.');
    await kit.inForce(() => removeRoleGrant(kit.db, { principal: { type: 'user', email: who.user.email }, role }, kit.actor(ctx, who)));
    kit.seeOther(ctx, '/account/sessions?ended=role');
  });

  router.get('/password', async (ctx) => {
    const who = await kit.person(ctx);
    if (!who) return kit.signIn(ctx, '/account/password', false);
    views.render(ctx, 'account-password', { nav: ACCOUNT_NAV, email: who.user.email, csrf: forms.issue(who.csrfKey) });
  });

  router.post('/password', async (ctx) => {
    const { who, form } = await kit.poster(ctx);
    const fail = (error: string, status: number, field: 'current' | 'new') =>
      views.render(ctx, 'account-password', { nav: ACCOUNT_NAV, email: who.user.email, error, field, csrf: forms.issue(who.csrfKey) }, { status });
    // The current password is guessed against like a sign-in: the same lockout, per account and address.
    const subject = { email: who.user.email };
    const now = kit.now();
    const locked = await kit.throttle.lockedUntil(subject, ctx.ip, now);
    if (locked) {
      ctx.set('Retry-After', String(Math.ceil((locked - now) / 1000)));
      return fail(`Too many wrong passwords. For your security, try again in ${minutes(locked - now)}.`, 429, 'current');
    }
    const stored = await kit.passwords.verify(await currentHash(kit, who), form.current_password ?? '');
    if (!stored.ok) {
      const { lockedUntil } = await kit.throttle.recordFailure(subject, ctx.ip, now);
      if (lockedUntil) ctx.set('Retry-After', String(Math.ceil((lockedUntil - now) / 1000)));
      return fail(lockedUntil ? `Too many wrong passwords. For your security, try again in ${minutes(lockedUntil - now)}.` : 'Your current password is not correct.', lockedUntil ? 429 : 400, 'current');
    }
    await kit.throttle.recordSuccess(subject, ctx.ip);
    const next = form.new_password ?? '';
    if (next !== (form.confirm_password ?? '')) return fail('The new password and its confirmation are not the same.', 400, 'new');
    if (next === form.current_password) return fail('The new password must be different from the current one.', 400, 'new');
    try {
      await kit.inForce(() =>
        changeOwnPassword(kit.db, who.user.email, next, kit.actor(ctx, who), { horizonSeconds: kit.config.signIn.sessionMaxAge, now: kit.now(), keepSessionUid: who.session.sessionUid }),
      );
    } catch (err) {
      if (err instanceof AppError && err.code === 'invalid_request') return fail(`${err.message[0]?.toUpperCase() ?? ''}${err.message.slice(1)}.`, 400, 'new');
      throw err;
    }
    kit.seeOther(ctx, '/account/?done=password');
  });
}

const currentHash = async (kit: SecurityKit, who: Person): Promise<string | undefined> => (await findUserCredentials(kit.db, who.user.email))?.passwordHash;

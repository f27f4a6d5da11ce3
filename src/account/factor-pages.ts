// The account overview and the second-factor pages: /account (profile, factors, links),
// /account/totp (enrol an authenticator app by scanning a QR code, confirmed with a first code;
// replace or remove it) and /account/recovery-codes (see how many are left, make a new set).
// Server-rendered, no script: the QR code is an SVG drawn on the server (qrcode). Changing a
// factor the person already has needs a recent second factor (the step-up sign-in), so a stolen
// password alone cannot replace or remove it; a first enrolment needs only the sign-in.
import type Router from '@koa/router';
import type { Context } from 'koa';
import QRCode from 'qrcode';
import { AppError } from '../errors/app-error.ts';
import { factorCount, rolesRequiringMfa } from '../governance/factor-rules.ts';
import { factorStatus } from '../governance/factor-status.ts';
import { RECOVERY_CODE_COUNT, generateRecoveryCodes } from '../governance/recovery-codes.ts';
import { confirmTotpEnrolment, removeTotp, startTotpEnrolment } from '../governance/totp-enrolment.ts';
import { ACCOUNT_NAV, when, type Person, type SecurityKit } from './account-kit.ts';

/** Where the step-up sign-in returns to, for a page that changes a factor. */
const stepUpHref = (back: string): string => `/account/sign-in?${new URLSearchParams({ mfa: '1', return: back }).toString()}`;

const DONE: Readonly<Record<string, string>> = {
  totp: 'Your authenticator app is set up. Codes from it now confirm it is you.',
  'totp-removed': 'Your authenticator app was removed.',
  password: 'Your password was changed. You were signed out everywhere else.',
};

/** The secret in groups of four, for typing into an app by hand. */
const grouped = (secret: string): string => secret.replace(/(.{4})(?=.)/g, '$1 ');

export function factorPages(router: Router, kit: SecurityKit): void {
  const { views, forms } = kit;

  async function page(ctx: Context, path: string): Promise<Person | undefined> {
    const who = await kit.person(ctx);
    if (!who) kit.signIn(ctx, path, false);
    return who;
  }

  /** A factor the person has may only change after a recent second factor. */
  const mayChange = (who: Person, hasFactor: boolean): boolean => !hasFactor || kit.isFresh(who);

  router.get('/', async (ctx) => {
    const who = await page(ctx, '/account/');
    if (!who) return;
    const status = await factorStatus(kit.db, who.user.id);
    const now = kit.now();
    const done = typeof ctx.query.done === 'string' ? DONE[ctx.query.done] : undefined;
    views.render(ctx, 'account', {
      nav: ACCOUNT_NAV,
      current: '/account/',
      email: who.user.email,
      roles: who.user.roles.filter((r) => r.expiresAt === null || r.expiresAt > now).map((r) => ({ role: r.role, until: r.expiresAt === null ? null : when(r.expiresAt) })),
      status,
      recoveryTotal: RECOVERY_CODE_COUNT,
      requiredBy: rolesRequiringMfa(kit.policy.snapshot(), who.user.roles, now),
      fresh: mayChange(who, factorCount(status) > 0),
      stepUp: stepUpHref('/account/'),
      signedInAt: when(who.session.authTime === undefined ? null : who.session.authTime * 1000),
      done,
      csrf: forms.issue(who.csrfKey),
    });
  });

  router.get('/totp', async (ctx) => {
    const who = await page(ctx, '/account/totp');
    if (!who) return;
    const status = await factorStatus(kit.db, who.user.id);
    if (!mayChange(who, status.totp)) return kit.signIn(ctx, '/account/totp', true);
    const started = await startTotpEnrolment(kit.db, kit.master, who.user, { now: kit.now(), issuer: 'govauth' });
    // errorCorrectionLevel M: the code stays readable on a phone screen photographed at an angle.
    const qr = await QRCode.toString(started.otpauthUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    views.render(ctx, 'account-totp', {
      nav: ACCOUNT_NAV,
      replacing: status.totp,
      qr,
      secret: grouped(started.secret),
      expiresAt: when(started.expiresAt),
      csrf: forms.issue(who.csrfKey),
    });
  });

  router.post('/totp', async (ctx) => {
    const { who, form } = await kit.poster(ctx);
    const status = await factorStatus(kit.db, who.user.id);
    if (!mayChange(who, status.totp)) throw new AppError('forbidden', 'Confirm it is you with your current second factor first, then set up the new authenticator app.');
    const outcome = await kit.inForce(() => confirmTotpEnrolment(kit.db, kit.master, who.user.id, form.code ?? '', kit.actor(ctx, who), kit.now()));
    if (outcome.ok) return kit.seeOther(ctx, '/account/?done=totp');
    // The secret is not shown again: a wrong code can be retried, a lapsed enrolment starts over.
    views.render(
      ctx,
      'account-totp',
      {
        nav: ACCOUNT_NAV,
        replacing: status.totp,
        error:
          outcome.reason === 'wrong_code'
            ? 'That code is not valid. Enter the 6-digit code your authenticator app shows now.'
            : 'This setup has expired or was replaced by a newer one. Start again to get a new QR code.',
        expired: outcome.reason === 'expired',
        csrf: forms.issue(who.csrfKey),
      },
      { status: outcome.reason === 'wrong_code' ? 400 : 409 },
    );
  });

  router.post('/totp/remove', async (ctx) => {
    const { who } = await kit.poster(ctx);
    if (!kit.isFresh(who)) throw new AppError('forbidden', 'Confirm it is you with your second factor first, then remove it.');
    await kit.inForce(() => removeTotp(kit.db, who.user.id, { snapshot: kit.policy.snapshot(), grants: who.user.roles, now: kit.now() }, kit.actor(ctx, who)));
    kit.seeOther(ctx, '/account/?done=totp-removed');
  });

  router.get('/recovery-codes', async (ctx) => {
    const who = await page(ctx, '/account/recovery-codes');
    if (!who) return;
    const status = await factorStatus(kit.db, who.user.id);
    views.render(ctx, 'account-recovery-codes', {
      nav: ACCOUNT_NAV,
      status,
      total: RECOVERY_CODE_COUNT,
      hasFactor: factorCount(status) > 0,
      fresh: kit.isFresh(who),
      stepUp: stepUpHref('/account/recovery-codes'),
      csrf: forms.issue(who.csrfKey),
    });
  });

  router.post('/recovery-codes', async (ctx) => {
    const { who } = await kit.poster(ctx);
    const status = await factorStatus(kit.db, who.user.id);
    if (factorCount(status) > 0 && !kit.isFresh(who)) throw new AppError('forbidden', 'Confirm it is you with your second factor first, then make new recovery codes.');
    const codes = await generateRecoveryCodes(kit.db, kit.master, who.user.id, kit.actor(ctx, who), factorCount(status) > 0);
    views.render(ctx, 'account-recovery-codes', {
      nav: ACCOUNT_NAV,
      status: { ...status, recoveryCodesLeft: codes.length },
      total: RECOVERY_CODE_COUNT,
      hasFactor: true,
      fresh: true,
      codes,
      replaced: status.recoveryCodesLeft > 0,
      csrf: forms.issue(who.csrfKey),
    });
  });
}

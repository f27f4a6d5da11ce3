// What the account routes (account-routes.ts) share with the self-service security pages
// (overview, factors, password, sessions): the signed-in person and the helpers every page uses.
import type { Context } from 'koa';
import type { Actor } from '../audit/audit-chain.ts';
import type { Config } from '../config/load-config.ts';
import type { Database } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { LoginThrottle } from '../governance/login-throttle.ts';
import type { PasswordVerifier } from '../governance/passwords.ts';
import type { UserDef } from '../governance/policy-model.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import type { FormTokens } from '../interactions/csrf.ts';
import type { MasterKey } from '../keys/master-key.ts';
import type { Logger } from '../log/logger.ts';
import { readForm } from '../http/form-body.ts';
import type { AccountSessions, SignedIn } from '../oidc/account-session.ts';
import type { Views } from '../pages/views.ts';
import type { Clock } from '../time/clock.ts';
import { AccountDisabled } from './account-error-page.ts';

/** A signed-in person, with the things every account page needs. */
export interface Person {
  readonly session: SignedIn;
  readonly user: UserDef;
  /** The form token of this sign-in (the person and their browser session). */
  readonly csrfKey: string;
}

/**
 * How every account page finds its person: `person` reads the browser's sign-in (undefined when
 * there is none), `poster` also reads a form post and checks its CSRF token, which is bound to the
 * person and this browser session, so a token from one account page is good on all of them.
 */
export function signedInPeople(deps: { readonly sessions: AccountSessions; readonly policy: PolicyStore; readonly forms: FormTokens }): Pick<SecurityKit, 'person' | 'poster'> {
  async function person(ctx: Context): Promise<Person | undefined> {
    const session = await deps.sessions.signedIn(ctx);
    if (!session) return undefined;
    const user = deps.policy.user(session.accountId);
    if (!user) return undefined; // a session of an account that no longer exists: sign in again
    if (user.disabled) throw new AccountDisabled();
    return { session, user, csrfKey: `account:${session.sessionUid}:${session.accountId}` };
  }
  // A post cannot be carried through a sign-in.
  async function poster(ctx: Context): Promise<{ who: Person; form: Record<string, string> }> {
    const who = await person(ctx);
    if (!who) throw new AppError('unauthorized', 'Your sign-in has ended, so nothing was changed. Sign in again and repeat what you were doing.');
    const form = await readForm(ctx);
    deps.forms.check(who.csrfKey, form.csrf);
    return { who, form };
  }
  return { person, poster };
}

export interface SecurityKit {
  readonly db: Database;
  readonly views: Views;
  readonly forms: FormTokens;
  readonly now: Clock;
  readonly master: MasterKey;
  readonly passwords: PasswordVerifier;
  readonly throttle: LoginThrottle;
  readonly policy: PolicyStore;
  readonly config: Pick<Config, 'signIn'>;
  readonly log: Logger;
  person(ctx: Context): Promise<Person | undefined>;
  poster(ctx: Context): Promise<{ who: Person; form: Record<string, string> }>;
  /** Sends the browser through the sign-in (with a fresh second factor when `stepUp`) and back to `returnTo`. */
  signIn(ctx: Context, returnTo: string, stepUp: boolean): void;
  actor(ctx: Context, who: Person): Actor;
  /** Whether this sign-in proved a second factor recently (GOVAUTH_MFA_MAX_AGE). */
  isFresh(who: Person): boolean;
  inForce<T>(work: () => Promise<T>): Promise<T>;
  seeOther(ctx: Context, path: string): void;
}

const DATE = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
export const when = (ms: number | null | undefined): string => (ms === null || ms === undefined ? 'unknown' : `${DATE.format(ms)} UTC`);

/** The links every security page shows (a nav landmark). */
export const ACCOUNT_NAV = [
  { href: '/account/', label: 'Overview' },
  { href: '/account/sessions', label: 'Sessions and access' },
  { href: '/account/delegations', label: 'Delegations' },
  { href: '/account/requests', label: 'Access requests' },
] as const;

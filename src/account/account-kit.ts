// What the account routes (account-routes.ts) share with the self-service security pages
// (overview, factors, password, sessions): the signed-in person and the helpers every page uses.
import type { Context } from 'koa';
import type { Actor } from '../audit/audit-chain.ts';
import type { Config } from '../config/load-config.ts';
import type { Database } from '../db/database.ts';
import type { LoginThrottle } from '../governance/login-throttle.ts';
import type { PasswordVerifier } from '../governance/passwords.ts';
import type { UserDef } from '../governance/policy-model.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import type { FormTokens } from '../interactions/csrf.ts';
import type { MasterKey } from '../keys/master-key.ts';
import type { Logger } from '../log/logger.ts';
import type { SignedIn } from '../oidc/account-session.ts';
import type { Views } from '../pages/views.ts';
import type { Clock } from '../time/clock.ts';

/** A signed-in person, with the things every account page needs. */
export interface Person {
  readonly session: SignedIn;
  readonly user: UserDef;
  /** The form token of this sign-in (the person and their browser session). */
  readonly csrfKey: string;
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

// Which second factors the two-step page offers a person: their passkeys and their
// authenticator app, minus what a role they hold rules out (role require-factor: a role that
// requires a passkey is not satisfied by a code, and the other way round).
import { describeFactor, requiredFactorsOf } from '../governance/factors.ts';
import type { PolicySnapshot, UserDef } from '../governance/policy-model.ts';

export interface StepUpChoices {
  readonly totp: boolean;
  readonly passkey: boolean;
  /** What the page says first. */
  readonly reason: string;
}

export function stepUpChoices(snapshot: PolicySnapshot, user: UserDef | undefined, now: number): StepUpChoices {
  if (!user) return { totp: false, passkey: false, reason: '' };
  const required = requiredFactorsOf(snapshot.roles, user.roles, now);
  const totp = (user.totpEnrolled ?? user.mfaEnrolled) && !required.some((r) => r.factor === 'passkey');
  const passkey = (user.passkeys ?? 0) > 0 && !required.some((r) => r.factor === 'totp');
  const roleNote = required.length ? ` Your role ${required.map((r) => `${r.roles.join(', ')} requires ${describeFactor(r.factor)}`).join('; ')}.` : '';
  const how = totp && passkey ? 'with a passkey or your authenticator app' : passkey ? 'with your passkey' : totp ? 'with your authenticator app' : '';
  const reason = how
    ? `Confirm it is you ${how}.${roleNote}`
    : `Your account has no second factor that can be used here.${roleNote} Add one on your account page (/account/passkeys), or ask an administrator.`;
  return { totp, passkey, reason };
}

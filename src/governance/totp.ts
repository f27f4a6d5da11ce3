// TOTP (RFC 6238): SHA-1, 30-second steps, 6 digits, the parameters every authenticator app
// supports. One step of clock drift is accepted either way (RFC 6238 §5.2), and a code is
// accepted once: the last used step is stored, so a code seen over a shoulder cannot be replayed.
import { Secret, TOTP } from 'otpauth';

const TOTP_PERIOD = 30;
const TOTP_DIGITS = 6;

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

export function otpauthUrl(secretBase32: string, account: string, issuer = 'govauth'): string {
  return new TOTP({ issuer, label: account, secret: Secret.fromBase32(secretBase32), algorithm: 'SHA1', digits: TOTP_DIGITS, period: TOTP_PERIOD }).toString();
}

/** The time step a code was valid for, or undefined. Only steps after `lastStep` count. */
export function verifyTotp(secretBase32: string, code: string, now: number, lastStep: number | null): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const totp = new TOTP({ secret: Secret.fromBase32(secretBase32), algorithm: 'SHA1', digits: TOTP_DIGITS, period: TOTP_PERIOD });
  const delta = totp.validate({ token: code, timestamp: now, window: 1 });
  if (delta === null) return undefined;
  const step = Math.floor(now / 1000 / TOTP_PERIOD) + delta;
  return lastStep !== null && step <= lastStep ? undefined : step;
}

/** For tests and the enrolment check: the code for a given time. */
export function totpCode(secretBase32: string, now: number): string {
  return new TOTP({ secret: Secret.fromBase32(secretBase32), algorithm: 'SHA1', digits: TOTP_DIGITS, period: TOTP_PERIOD }).generate({ timestamp: now });
}

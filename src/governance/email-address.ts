// The one spelling of an email address that govauth compares: the account lookup, the stored
// address and every sign-in throttle key come from here, so no two spellings of one address
// (case, surrounding space, composed or decomposed accents: "é" U+00E9 vs "e" + U+0301,
// Unicode UAX #15) can be one account to the lookup and two accounts to a throttle.
import { AppError } from '../errors/app-error.ts';

/** Trimmed, NFC, lower-case. Never throws: throttles key anything a person typed. */
export const canonicalEmail = (raw: string): string => raw.trim().normalize('NFC').toLowerCase();

/** The canonical spelling; refuses what cannot be an address. */
export function normalizeEmail(raw: string): string {
  const email = canonicalEmail(raw);
  if (email.length > 254 || !email.isWellFormed() || !/^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}.]+$/u.test(email)) {
    throw new AppError('invalid_request', `${JSON.stringify(raw.slice(0, 80))} is not an email address`);
  }
  return email;
}

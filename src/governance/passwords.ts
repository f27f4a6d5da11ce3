// Password hashing for people: argon2id with the OWASP Password Storage Cheat Sheet's first
// recommended parameter set (m = 19 MiB, t = 2, p = 1). When the parameters change, a hash made
// with the old ones is replaced at the next successful sign-in (needsRehash).
import argon2 from 'argon2';
import { AppError } from '../errors/app-error.ts';
import { ARGON2_OPTIONS, Semaphore } from './client-secrets.ts';

export const PASSWORD_MIN_LENGTH = 12;
// argon2 takes any length, but hashing megabytes per attempt is a denial-of-service lever.
export const PASSWORD_MAX_LENGTH = 1024;

export function checkPassword(password: string): string {
  if (password.length < PASSWORD_MIN_LENGTH) throw new AppError('invalid_request', `the password must have at least ${PASSWORD_MIN_LENGTH} characters`);
  if (password.length > PASSWORD_MAX_LENGTH) throw new AppError('invalid_request', `the password must have at most ${PASSWORD_MAX_LENGTH} characters`);
  if (/\p{Cc}/u.test(password)) throw new AppError('invalid_request', 'the password must not contain control characters');
  return password;
}

export const hashPassword = (password: string): Promise<string> => argon2.hash(password, ARGON2_OPTIONS);

export interface PasswordVerifier {
  /** Verifies; for an unknown account pass `undefined` and the same work is done on a dummy hash. */
  verify(storedHash: string | undefined, password: string): Promise<{ ok: boolean; rehash: boolean }>;
}

export async function createPasswordVerifier(options: { concurrency?: number } = {}): Promise<PasswordVerifier> {
  // An unknown email costs the same argon2 work as a wrong password, so response time does not
  // reveal which accounts exist.
  const dummy = await hashPassword('govauth-dummy-password-for-equal-timing');
  const gate = new Semaphore(options.concurrency ?? 2);
  return {
    async verify(storedHash, password) {
      const candidate = password.slice(0, PASSWORD_MAX_LENGTH);
      const ok = await gate.run(() => argon2.verify(storedHash ?? dummy, candidate).catch(() => false));
      return { ok: ok && storedHash !== undefined, rehash: ok && storedHash !== undefined && argon2.needsRehash(storedHash, ARGON2_OPTIONS) };
    },
  };
}

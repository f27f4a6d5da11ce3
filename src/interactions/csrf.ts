// A form token bound to the interaction: a post must come from the page we rendered for that
// interaction. (The interaction cookie is SameSite=Lax, so cross-site posts lack it anyway;
// this also refuses a form replayed into another interaction.)
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { AppError } from '../errors/app-error.ts';

export interface FormTokens {
  issue(uid: string): string;
  check(uid: string, token: string | undefined): void;
}

export function createFormTokens(key: Buffer): FormTokens {
  const secret: KeyObject = createSecretKey(key);
  const mac = (uid: string): Buffer => createHmac('sha256', secret).update(`interaction-form:${uid}`).digest();
  return {
    issue: (uid) => mac(uid).toString('base64url'),
    check(uid, token) {
      const presented = Buffer.from(token ?? '', 'base64url');
      const expected = mac(uid);
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
        throw new AppError('forbidden', 'This form is not valid for this sign-in: it was already sent, or it belongs to another sign-in.');
      }
    },
  };
}

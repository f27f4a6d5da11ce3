// RFC 7591 §3 initial access tokens: an administrator hands one to whoever may register clients
// (`govauth client registration-token --expires-in 1d --max-uses 10`). Shown once, stored as a
// SHA-256 digest (a 256-bit random value needs no slow hash), with an expiry and a number of
// uses counted at each registration (oidc/client-registration.ts registrationGate).
import { createHash, randomBytes } from 'node:crypto';
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import type { Database } from '../db/database.ts';
import { findRegistrationTokenRow, insertRegistrationToken, listRegistrationTokenRows, revokeRegistrationTokenRow, type RegistrationTokenRow } from '../db/self-registration-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { mustExist } from './catalog.ts';
import { parseDuration } from './durations.ts';

export interface RegistrationTokenView {
  id: string;
  expires_at: string;
  max_uses: number;
  uses: number;
  revoked_at: string | null;
  created_at: string;
  /** live: it can register a client now. */
  state: 'live' | 'expired' | 'used_up' | 'revoked';
}

const MAX_USES = 10_000;

/** The token's digest as stored and as the registration endpoint looks it up. */
export const registrationTokenDigest = (token: string): string => createHash('sha256').update(token).digest('base64url');

function view(r: RegistrationTokenRow, now: number): RegistrationTokenView {
  const state = r.revokedAt ? 'revoked' : r.expiresAt.getTime() <= now ? 'expired' : r.uses >= r.maxUses ? 'used_up' : 'live';
  return { id: r.id, expires_at: r.expiresAt.toISOString(), max_uses: r.maxUses, uses: r.uses, revoked_at: r.revokedAt?.toISOString() ?? null, created_at: r.createdAt.toISOString(), state };
}

export async function issueRegistrationToken(db: Database, input: { expiresIn: string; maxUses: number }, by: Actor, now: number): Promise<RegistrationTokenView & { token: string }> {
  const lifetime = parseDuration(input.expiresIn, '--expires-in', 30 * 86_400_000);
  if (!Number.isSafeInteger(input.maxUses) || input.maxUses < 1 || input.maxUses > MAX_USES) throw new AppError('invalid_request', `--max-uses must be a whole number between 1 and ${MAX_USES}`);
  const id = `rt_${randomBytes(9).toString('base64url')}`;
  const token = `govreg_${randomBytes(32).toString('base64url')}`;
  return writeWithChanges(db, async (tx) => {
    await insertRegistrationToken(tx, { id, tokenHash: registrationTokenDigest(token), expiresAt: new Date(now + lifetime), maxUses: input.maxUses });
    const created = view(await mustExist(findRegistrationTokenRow(tx, id), `no registration token ${id}`), now);
    return { result: { ...created, token }, changes: [], audit: [adminEvent(by, 'admin.registration_token.issue', id, null, created)] };
  });
}

export async function listRegistrationTokens(db: Database, now: number): Promise<RegistrationTokenView[]> {
  return (await listRegistrationTokenRows(db)).map((r) => view(r, now));
}

export async function revokeRegistrationToken(db: Database, id: string, by: Actor, now: number): Promise<RegistrationTokenView> {
  return writeWithChanges(db, async (tx) => {
    const before = view(await mustExist(findRegistrationTokenRow(tx, id), `no registration token ${id}`), now);
    if (!before.revoked_at) await revokeRegistrationTokenRow(tx, id, new Date(now));
    const after = view(await mustExist(findRegistrationTokenRow(tx, id), `no registration token ${id}`), now);
    return { result: after, changes: [], audit: [adminEvent(by, 'admin.registration_token.revoke', id, before, after)] };
  });
}

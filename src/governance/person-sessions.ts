// An administrator's view of one person's sign-in sessions (GET /users/{email}/sessions, `govauth
// user sessions`, the console's person page), and ending one of them. Ending is the person's
// own "end this sign-in" (account-activity.ts endSession): that browser is signed out, and every
// grant issued in it is revoked (its refresh tokens deleted, its access tokens inactive at
// introspection). A session is named by sessionHandle, never by oidc-provider's uid.
import type { Actor } from '../audit/audit-chain.ts';
import type { Database } from '../db/database.ts';
import { findUser } from '../db/people-repository.ts';
import { grantsOfSession } from '../db/oidc-storage.ts';
import { AppError } from '../errors/app-error.ts';
import { endSession, sessionHandle, sessionsOf } from './account-activity.ts';
import { mustExist } from './catalog.ts';
import { deviceLabel } from './device-label.ts';
import { normalizeEmail } from './email-address.ts';

export interface PersonSessionView {
  /** The session's handle (sessionHandle): what DELETE /users/{email}/sessions/{id} takes. */
  id: string;
  /** "Chrome on Linux", from the User-Agent header: a hint, the client's to write. */
  browser: string;
  user_agent: string | null;
  ip: string | null;
  signed_in_at: string | null;
  /** When this browser was first and last seen using the session (null: not since it was recorded). */
  first_seen_at: string | null;
  last_seen_at: string | null;
  expires_at: string | null;
  /** RFC 8176 methods of the sign-in (pwd, otp, hwk…). */
  methods: string[];
  /** The apps signed in with it (client ids). */
  apps: string[];
  /** The grants issued in it: what ending the session revokes (POST /revocations {grant} ends one alone). */
  grants: string[];
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

async function personId(db: Database, email: string): Promise<string> {
  const normalized = normalizeEmail(email);
  return (await mustExist(findUser(db, normalized), `no user ${normalized}`)).id;
}

/** The person's live sessions, newest sign-in first; 404 for an unknown person. */
export async function personSessions(db: Database, email: string, now: number): Promise<{ userId: string; sessions: PersonSessionView[] }> {
  const userId = await personId(db, email);
  const sessions = await sessionsOf(db, userId, now);
  const views = await Promise.all(
    sessions.map(async (s): Promise<PersonSessionView> => ({
      id: sessionHandle(s.uid),
      browser: deviceLabel(s.device?.userAgent),
      user_agent: s.device?.userAgent ?? null,
      ip: s.device?.ip ?? null,
      signed_in_at: iso(s.signedInAt),
      first_seen_at: iso(s.device?.firstSeenAt),
      last_seen_at: iso(s.device?.lastSeenAt),
      expires_at: iso(s.expiresAt),
      methods: [...s.amr],
      apps: [...s.clients],
      grants: await grantsOfSession(db, s.uid),
    })),
  );
  return { userId, sessions: views };
}

const HANDLE = /^[A-Za-z0-9_-]{22}$/;

/**
 * Ends the person's session named `handle`, as an administrator. The handle is looked up among
 * this person's live sessions only, so one person's URL cannot end another's session.
 */
export async function endPersonSession(db: Database, email: string, handle: string, by: Actor, now: number): Promise<{ userId: string; grants: number }> {
  const userId = await personId(db, email);
  if (!HANDLE.test(handle)) throw new AppError('invalid_request', 'id: a session id as GET /users/{email}/sessions lists it (22 characters)');
  const session = (await sessionsOf(db, userId, now)).find((s) => sessionHandle(s.uid) === handle);
  if (!session) throw new AppError('not_found', `no live session ${handle} of ${normalizeEmail(email)}`);
  const { grants } = await endSession(db, userId, session.uid, by, now, { action: 'admin.user.session.end', reason: 'sign-in ended by an administrator' });
  return { userId, grants };
}

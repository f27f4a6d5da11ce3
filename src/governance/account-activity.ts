// A person's own view of what is signed in as them (the account page): browser sessions with the
// device they were made on, and grants (what they consented to, per app), and ending either.
// Ending a session signs that browser out and revokes every grant issued in it, as signing out
// does (oidc/sign-out-revocation.ts); ending a grant is the revocation of `govauth revoke
// --grant`: its refresh tokens are deleted and its access tokens turn inactive at introspection.
import { createHash } from 'node:crypto';
import type { Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import { deleteDevices, deleteSessionOf, devicesOf, liveRowsOf, touchSessionDevice } from '../db/account-activity-repository.ts';
import type { Database } from '../db/database.ts';
import { grantsOfSession } from '../db/oidc-storage.ts';
import { AppError } from '../errors/app-error.ts';
import { revokeGrant } from './revocations.ts';

export interface SessionView {
  readonly uid: string;
  /** Epoch ms of the sign-in. */
  readonly signedInAt: number | null;
  readonly expiresAt: number | null;
  /** RFC 8176 methods the sign-in used (pwd, otp, …). */
  readonly amr: readonly string[];
  /** Client ids of the apps signed in with it. */
  readonly clients: readonly string[];
  readonly device: { readonly userAgent: string; readonly ip: string; readonly firstSeenAt: number; readonly lastSeenAt: number } | undefined;
}

export interface GrantView {
  readonly id: string;
  readonly clientId: string;
  /** Epoch ms the consent was given, when known. */
  readonly grantedAt: number | null;
  readonly expiresAt: number | null;
  readonly openidScopes: readonly string[];
  /** Per resource (audience), the scopes consented. */
  readonly resources: ReadonlyMap<string, readonly string[]>;
}

const parse = (payload: string): Record<string, unknown> => {
  try {
    const value: unknown = JSON.parse(payload);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};
const words = (v: unknown): string[] => (typeof v === 'string' ? v.split(' ').filter(Boolean) : []);
const seconds = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v * 1000 : null);

export async function sessionsOf(db: Database, accountId: string, now: number): Promise<SessionView[]> {
  const [rows, devices] = await Promise.all([liveRowsOf(db, 'Session', accountId, new Date(now)), devicesOf(db, accountId)]);
  const byUid = new Map(devices.map((d) => [d.sessionUid, d]));
  const live = new Set<string>();
  const sessions = rows.flatMap((row): SessionView[] => {
    const p = parse(row.payload);
    const uid = row.uid ?? (typeof p.uid === 'string' ? p.uid : undefined);
    if (!uid || p.accountId !== accountId) return [];
    live.add(uid);
    const d = byUid.get(uid);
    return [
      {
        uid,
        signedInAt: seconds(p.loginTs),
        expiresAt: row.expiresAt,
        amr: Array.isArray(p.amr) ? p.amr.filter((m): m is string => typeof m === 'string') : [],
        clients: p.authorizations && typeof p.authorizations === 'object' ? Object.keys(p.authorizations) : [],
        device: d && { userAgent: d.userAgent, ip: d.ip, firstSeenAt: d.firstSeenAt.getTime(), lastSeenAt: d.lastSeenAt.getTime() },
      },
    ];
  });
  // Device rows of sessions that have ended (signed out, expired, revoked) are of no more use.
  await deleteDevices(db, accountId, devices.filter((d) => !live.has(d.sessionUid)).map((d) => d.sessionUid));
  return sessions.sort((a, b) => (b.signedInAt ?? 0) - (a.signedInAt ?? 0));
}

export async function grantsOf(db: Database, accountId: string, now: number): Promise<GrantView[]> {
  const rows = await liveRowsOf(db, 'Grant', accountId, new Date(now));
  return rows
    .map((row) => {
      const p = parse(row.payload);
      const resources = new Map<string, string[]>();
      if (p.resources && typeof p.resources === 'object') {
        for (const [audience, scope] of Object.entries(p.resources as Record<string, unknown>)) resources.set(audience, words(scope));
      }
      const openid = p.openid && typeof p.openid === 'object' ? words((p.openid as Record<string, unknown>).scope) : [];
      return { id: row.id, clientId: row.clientId ?? (typeof p.clientId === 'string' ? p.clientId : ''), grantedAt: seconds(p.iat), expiresAt: row.expiresAt, openidScopes: openid, resources };
    })
    .sort((a, b) => (b.grantedAt ?? 0) - (a.grantedAt ?? 0));
}

/**
 * A session's name outside the server (the account page, the admin API, the console, the audit
 * trail): a one-way digest of its uid, oidc-provider's handle for the sign-in, so the uid never
 * reaches a browser or a record, and the name cannot be turned back into it or used as a cookie.
 */
export const sessionHandle = (uid: string): string => createHash('sha256').update(`account-session:${uid}`).digest('base64url').slice(0, 22);

/** Who ended a session, as the revocations and the audit record say it. */
export interface SessionEnder {
  /** The audit action: account.session.end (its owner) or admin.user.session.end. */
  readonly action: string;
  /** The revocation's reason, for each grant issued in the session. */
  readonly reason: string;
}
const BY_OWNER: SessionEnder = { action: 'account.session.end', reason: 'sign-in ended by its owner' };

/** Signs one of the person's browsers out and revokes the grants issued in it. */
export async function endSession(db: Database, accountId: string, uid: string, by: Actor, now: number, ender: SessionEnder = BY_OWNER): Promise<{ grants: number }> {
  const session = (await sessionsOf(db, accountId, now)).find((s) => s.uid === uid);
  if (!session) throw new AppError('not_found', 'That sign-in has already ended.');
  const grantIds = new Set(await grantsOfSession(db, uid));
  await deleteSessionOf(db, accountId, uid);
  await deleteDevices(db, accountId, [uid]);
  for (const grantId of grantIds) await revokeGrant(db, { grantId, actor: by.actor ?? accountId, reason: ender.reason, by }, now);
  await writeWithChanges(db, () =>
    Promise.resolve({ result: undefined, changes: [], audit: [{ ...by, action: ender.action, subject: accountId, detail: { session: sessionHandle(uid), grants_revoked: grantIds.size, clients: session.clients } }] }),
  );
  return { grants: grantIds.size };
}

/** Ends one grant of the person (a consent), with its refresh tokens and access tokens. */
export async function endGrant(db: Database, accountId: string, grantId: string, by: Actor, now: number): Promise<void> {
  const grant = (await grantsOf(db, accountId, now)).find((g) => g.id === grantId);
  if (!grant) throw new AppError('not_found', 'That app no longer has access.');
  await revokeGrant(db, { grantId, actor: accountId, reason: 'access ended by its owner', by }, now);
}

/** Notes the browser a session was used from (the account page lists it). Truncated: a header is not a document. */
export function recordSessionDevice(db: Database, d: { sessionUid: string; accountId: string; userAgent: string; ip: string }, now: number): Promise<void> {
  return touchSessionDevice(db, { ...d, userAgent: d.userAgent.slice(0, 256), ip: d.ip.slice(0, 64), at: new Date(now) });
}

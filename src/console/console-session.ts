// The console's own session: after govauth's sign-in (with a second factor) a signed, HttpOnly
// cookie scoped to /console names the person and the browser session they signed in with. It
// ends after CONSOLE_IDLE_MS without a request and CONSOLE_MAX_MS after sign-in whatever
// happens, and with the browser session it came from (signing out of govauth ends it). Who may
// do what is decided again from live policy on every request: a role removed a second ago no
// longer opens the console. SameSite=Strict: no other site can make the browser send it.
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { ADMIN_ROLE, AUDITOR_ROLE } from '../governance/admin-model.ts';
import type { UserDef } from '../governance/policy-model.ts';

const COOKIE = 'govauth.console';
export const CONSOLE_PATH = '/console';
/** Thirty minutes without a request (OWASP ASVS 3.3.2 suggests 15–30 for high-value apps). */
const CONSOLE_IDLE_MS = 30 * 60_000;
/** Eight hours from sign-in, a working day, whatever the activity (ASVS 3.3.1). */
const CONSOLE_MAX_MS = 8 * 3600_000;

/** read-write for govauth-admin, read-only for govauth-auditor. */
export type ConsoleRole = 'admin' | 'auditor';

export interface ConsoleSession {
  readonly userId: string;
  /** oidc-provider's browser session uid this console session came from. */
  readonly sessionUid: string;
  readonly startedAt: number;
  readonly seenAt: number;
  /** Random per console session: the key of its form tokens (csrf.ts). */
  readonly key: string;
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200;

function decode(raw: string | undefined): ConsoleSession | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (!isText(v.u) || !isText(v.s) || !isText(v.k) || typeof v.t !== 'number' || typeof v.l !== 'number') return undefined;
    return { userId: v.u, sessionUid: v.s, key: v.k, startedAt: v.t, seenAt: v.l };
  } catch {
    return undefined;
  }
}

function write(ctx: Context, s: ConsoleSession): void {
  const value = Buffer.from(JSON.stringify({ u: s.userId, s: s.sessionUid, k: s.key, t: s.startedAt, l: s.seenAt })).toString('base64url');
  ctx.cookies.set(COOKIE, value, { signed: true, httpOnly: true, sameSite: 'strict', secure: ctx.secure, path: CONSOLE_PATH, overwrite: true });
}

export function startConsoleSession(ctx: Context, userId: string, sessionUid: string, now: number): void {
  write(ctx, { userId, sessionUid, key: randomBytes(16).toString('base64url'), startedAt: now, seenAt: now });
}

export function endConsoleSession(ctx: Context): void {
  ctx.cookies.set(COOKIE, null, { path: CONSOLE_PATH });
}

/** The console session of this browser if it is still within both limits; renews the idle limit. */
export function currentConsoleSession(ctx: Context, now: number): ConsoleSession | undefined {
  const s = decode(ctx.cookies.get(COOKIE, { signed: true }));
  if (!s) return undefined;
  if (now - s.seenAt > CONSOLE_IDLE_MS || now - s.startedAt > CONSOLE_MAX_MS || s.seenAt > now + 60_000) {
    endConsoleSession(ctx);
    return undefined;
  }
  // Renewed at most once a minute: most requests set no cookie.
  if (now - s.seenAt > 60_000) write(ctx, { ...s, seenAt: now });
  return s;
}

/** The console role `user` holds now (admin wins), or undefined: no console for them. */
export function consoleRoleOf(user: UserDef | undefined, now: number): ConsoleRole | undefined {
  if (!user || user.disabled) return undefined;
  const active = (role: string): boolean => user.roles.some((g) => g.role === role && (g.expiresAt === null || g.expiresAt > now));
  if (active(ADMIN_ROLE)) return 'admin';
  if (active(AUDITOR_ROLE)) return 'auditor';
  return undefined;
}

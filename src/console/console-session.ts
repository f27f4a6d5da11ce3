// The console's own session: after govauth's sign-in (with a second factor) a signed, HttpOnly
// cookie scoped to /console names the person, the browser session they signed in with, and the
// console's admin API access token (its jti, iat, expiry and scopes; never the token itself). It
// ends when that token expires (the console then signs the browser in again), after
// CONSOLE_IDLE_MS without a request, CONSOLE_MAX_MS after sign-in whatever happens, with the
// browser session it came from (signing out of govauth ends it), and with the token (a
// revocation, or live policy no longer granting its scopes, console-routes.ts). Who may
// do what is decided again from live policy on every request: a role removed a second ago no
// longer opens the console. SameSite=Strict: no other site can make the browser send it.
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { ADMIN_ROLE, ADMIN_SCOPE, AUDIT_READ_SCOPE, AUDITOR_ROLE } from '../governance/admin-model.ts';
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
  /** The console's access token for the admin API: what it is, when it was issued and ends (seconds), what it carries. */
  readonly token: ConsoleToken;
}

export interface ConsoleToken {
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
  readonly scopes: readonly string[];
  readonly grantId?: string | undefined;
}

const isScopes = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 10 && v.every(isTextValue);
const isTextValue = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200;

function decodeToken(v: unknown): ConsoleToken | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const t = v as Record<string, unknown>;
  if (!isTextValue(t.j) || typeof t.i !== 'number' || typeof t.e !== 'number' || !isScopes(t.s) || (t.g !== undefined && !isTextValue(t.g))) return undefined;
  return { jti: t.j, iat: t.i, exp: t.e, scopes: t.s, grantId: t.g };
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200;

function decode(raw: string | undefined): ConsoleSession | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Record<string, unknown>;
    const token = decodeToken(v.a);
    if (!isText(v.u) || !isText(v.s) || !isText(v.k) || typeof v.t !== 'number' || typeof v.l !== 'number' || !token) return undefined;
    return { userId: v.u, sessionUid: v.s, key: v.k, startedAt: v.t, seenAt: v.l, token };
  } catch {
    return undefined;
  }
}

function write(ctx: Context, s: ConsoleSession): void {
  const a = { j: s.token.jti, i: s.token.iat, e: s.token.exp, s: s.token.scopes, g: s.token.grantId };
  const value = Buffer.from(JSON.stringify({ u: s.userId, s: s.sessionUid, k: s.key, t: s.startedAt, l: s.seenAt, a })).toString('base64url');
  ctx.cookies.set(COOKIE, value, { signed: true, httpOnly: true, sameSite: 'strict', secure: ctx.secure, path: CONSOLE_PATH, overwrite: true });
}

export function startConsoleSession(ctx: Context, userId: string, sessionUid: string, token: ConsoleToken, now: number): void {
  write(ctx, { userId, sessionUid, key: randomBytes(16).toString('base64url'), startedAt: now, seenAt: now, token });
}

export function endConsoleSession(ctx: Context): void {
  ctx.cookies.set(COOKIE, null, { path: CONSOLE_PATH });
}

/** The console session of this browser if it is still within both limits; renews the idle limit. */
export function currentConsoleSession(ctx: Context, now: number): ConsoleSession | undefined {
  const s = decode(ctx.cookies.get(COOKIE, { signed: true }));
  if (!s) return undefined;
  if (now - s.seenAt > CONSOLE_IDLE_MS || now - s.startedAt > CONSOLE_MAX_MS || s.seenAt > now + 60_000 || s.token.exp * 1000 <= now) {
    endConsoleSession(ctx);
    return undefined;
  }
  // Renewed at most once a minute: most requests set no cookie.
  if (now - s.seenAt > 60_000) write(ctx, { ...s, seenAt: now });
  return s;
}

/** The console role an admin API token's scopes give: govauth.admin read-write, govauth.audit.read read-only. */
export function consoleRoleOfScopes(scopes: readonly string[]): ConsoleRole | undefined {
  if (scopes.includes(ADMIN_SCOPE)) return 'admin';
  if (scopes.includes(AUDIT_READ_SCOPE)) return 'auditor';
  return undefined;
}

/** The console role `user` holds now (admin wins), or undefined: no console for them. */
export function consoleRoleOf(user: UserDef | undefined, now: number): ConsoleRole | undefined {
  if (!user || user.disabled) return undefined;
  const active = (role: string): boolean => user.roles.some((g) => g.role === role && (g.expiresAt === null || g.expiresAt > now));
  if (active(ADMIN_ROLE)) return 'admin';
  if (active(AUDITOR_ROLE)) return 'auditor';
  return undefined;
}

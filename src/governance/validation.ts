// Input rules for governance objects, checked once at the edge (CLI, admin API) with messages a
// person can act on. Anything stored has passed these.
import { MAX_TTL_SECONDS } from '../config/token-limits.ts';
import { AppError } from '../errors/app-error.ts';
import { SENSITIVITIES, type Sensitivity } from './policy-model.ts';

// RFC 6749 §3.3 allows any printable ASCII but space, '"' and '\' in a scope token; we keep
// to a readable subset so names are safe in logs, URLs and shells.
const SCOPE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const ROLE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** OpenID Connect scopes the protocol layer owns; they cannot be governance scopes. */
export const RESERVED_SCOPES: ReadonlySet<string> = new Set(['openid', 'offline_access', 'profile', 'email', 'address', 'phone']);


const invalid = (message: string): AppError => new AppError('invalid_request', message);

export function checkScopeName(name: string): string {
  if (!SCOPE_NAME.test(name)) {
    throw invalid(`invalid scope name ${JSON.stringify(name)}: use letters, digits and . _ : / - (at most 128 characters, starting with a letter or digit)`);
  }
  if (RESERVED_SCOPES.has(name)) throw invalid(`scope name ${name} is reserved by OpenID Connect`);
  return name;
}

export function checkRoleName(name: string): string {
  if (!ROLE_NAME.test(name)) {
    throw invalid(`invalid role name ${JSON.stringify(name)}: use lowercase letters, digits and . _ - (at most 64 characters)`);
  }
  return name;
}

export function checkText(value: string, what: string, max = 500): string {
  const v = value.trim();
  if (!v) throw invalid(`${what} must not be empty`);
  if (v.length > max) throw invalid(`${what} must be at most ${max} characters`);
  // Control characters (including NUL) corrupt logs and terminals.
  if (/\p{Cc}/u.test(v)) throw invalid(`${what} must not contain control characters`);
  // A lone surrogate has no UTF-8 form: the database driver refuses it (an internal error).
  if (!v.isWellFormed()) throw invalid(`${what} must be well-formed Unicode`);
  return v;
}

export function checkSensitivity(value: string): Sensitivity {
  if (!SENSITIVITIES.includes(value as Sensitivity)) throw invalid(`sensitivity must be one of ${SENSITIVITIES.join(', ')}`);
  return value as Sensitivity;
}

export function checkTtl(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_TTL_SECONDS) {
    throw invalid(`${what} must be a whole number of seconds between 1 and ${MAX_TTL_SECONDS}`);
  }
  return value;
}

/** A resource indicator: an absolute URI without a fragment (RFC 8707 §2). */
export function checkAudience(value: string): string {
  const url = URL.parse(value);
  if (!url || url.hash || value.includes('#')) throw invalid(`resource ${JSON.stringify(value)} must be an absolute URI without a fragment (RFC 8707 §2)`);
  if (value.length > 512 || /[\s\p{Cc}]/u.test(value)) throw invalid('resource must be at most 512 characters, without spaces or control characters');
  return value;
}

/** A redirect URI: absolute, no fragment (RFC 6749 §3.1.2); https except on loopback (RFC 8252 §7.3). */
export function checkRedirectUri(value: string): string {
  const url = URL.parse(value);
  if (!url || url.hash || value.includes('#')) throw invalid(`redirect URI ${JSON.stringify(value)} must be an absolute URI without a fragment`);
  // The URL parser percent-encodes control characters and spaces, so they passed the check above
  // and were stored raw (NUL, ESC included), found by test/security/cli-input.test.ts. A
  // redirect URI is compared byte for byte (RFC 6749 §3.1.2.3): refuse what no client can send.
  if (value.length > 2048 || /[\s\p{Cc}]/u.test(value) || !value.isWellFormed()) {
    throw invalid('redirect URI must be at most 2048 characters, without spaces or control characters');
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol === 'http:' && !loopback) throw invalid(`redirect URI ${value} must use https (http is only allowed on loopback)`);
  if (url.protocol === 'javascript:' || url.protocol === 'data:') throw invalid(`redirect URI ${value} uses a forbidden scheme`);
  return value;
}

export function uniqueList(values: readonly string[], check: (v: string) => string): string[] {
  return [...new Set(values.map((v) => v.trim()).filter(Boolean).map(check))];
}

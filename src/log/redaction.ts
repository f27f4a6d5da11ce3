// The no-secrets rule, enforced where every line is written: callers pass ids, never tokens or
// passwords, and these pino `redact` paths catch a secret that reaches a log line anyway (a
// header map, request parameters or an object logged whole). A redacted value is replaced, not
// removed, so a reader sees that the field was there.

/** Field names that hold a credential wherever they appear (top level, or one or two levels down). */
const SECRET_FIELDS = [
  'authorization',
  'Authorization',
  'proxy-authorization',
  'cookie',
  'Cookie',
  'set-cookie',
  'Set-Cookie',
  'password',
  'newPassword',
  'currentPassword',
  'client_secret',
  'clientSecret',
  'secret',
  'secretHash',
  'token',
  'access_token',
  'accessToken',
  'refresh_token',
  'refreshToken',
  'id_token',
  'idToken',
  'code_verifier',
  'assertion',
  'client_assertion',
  'subject_token',
  'actor_token',
  'device_code',
  'user_code',
  'registration_access_token',
  'otp',
  'totp',
  'totpSecret',
  'masterKey',
  'master_key',
  'privateKey',
  'private_key',
  'dpop',
  'DPoP',
];

/**
 * `code` is an authorization code (RFC 6749 §4.1.2) only inside request parameters; elsewhere it
 * is an exit or error code worth keeping (`{ code, signal }`, `err.code`).
 */
const PARAMETER_CONTAINERS = ['params', 'body', 'query', 'form'];

const quote = (field: string): string => (/^[A-Za-z_$][\w$]*$/.test(field) ? `.${field}` : `["${field}"]`);

export const REDACT_PATHS: readonly string[] = [
  ...SECRET_FIELDS.flatMap((f) => [quote(f).replace(/^\./, ''), `*${quote(f)}`, `*.*${quote(f)}`]),
  ...PARAMETER_CONTAINERS.flatMap((c) => [`${c}.code`, `*.${c}.code`]),
];

export const REDACTED = '[redacted]';

// The no-secrets rule, enforced where every line is written: callers pass ids, never tokens or
// passwords, and these pino `redact` paths catch a secret that reaches a log line anyway (a
// header map, request parameters or an object logged whole). A redacted value is replaced, not
// removed, so a reader sees that the field was there.

/** Field names that hold a credential: at the top level of a line and inside CONTAINERS. */
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
 * Where a secret-named field is redacted besides the top level: the objects a caller might log
 * whole (request headers, parameters, bodies, an audit-style detail). Paths are spelled out, not
 * wildcards (`*.password`): pino compiles static paths into a few property checks (~2 µs a
 * line here for all of them), while the same fields under one- and two-level wildcards cost
 * ~300 µs a line, more than the request being logged.
 */
const CONTAINERS = ['headers', 'params', 'body', 'query', 'form', 'req.headers', 'req.body', 'request.headers', 'request.body', 'detail', 'fields', 'input'];

/**
 * `code` is an authorization code (RFC 6749 §4.1.2) only inside request parameters; elsewhere it
 * is an exit or error code worth keeping (`{ code, signal }`, `err.code`).
 */
const PARAMETER_CONTAINERS = ['params', 'body', 'query', 'form', 'req.body', 'request.body'];

const quote = (field: string): string => (/^[A-Za-z_$][\w$]*$/.test(field) ? `.${field}` : `["${field}"]`);

export const REDACT_PATHS: readonly string[] = [
  ...SECRET_FIELDS.map((f) => quote(f).replace(/^\./, '')),
  ...CONTAINERS.flatMap((c) => SECRET_FIELDS.map((f) => `${c}${quote(f)}`)),
  ...PARAMETER_CONTAINERS.map((c) => `${c}.code`),
];

export const REDACTED = '[redacted]';

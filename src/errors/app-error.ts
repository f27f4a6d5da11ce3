// Typed application errors with stable codes. `message` is public (safe to show a caller);
// `detail` is for logs only. Unknown errors never reach a caller: the error boundary turns
// them into an opaque 500 (see src/http/error-boundary.ts).

const ERROR_STATUS = {
  invalid_request: 400,
  invalid_scope: 400,
  invalid_target: 400,
  invalid_client: 401,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  slow_down: 429, // the registered OAuth error for "slow down" (RFC 8628 §3.5), as at the token endpoint
  server_error: 500,
  temporarily_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** RFC 6749 §5.2: a 401 for failed client authentication carries this challenge. */
export const CLIENT_AUTH_CHALLENGE = 'Basic realm="govauth", error="invalid_client"';

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { detail?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.detail = options?.detail;
  }
}

export const isAppError = (err: unknown): err is AppError => err instanceof AppError;

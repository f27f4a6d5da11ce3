// Why a request was refused, and how it is said: RFC 6750 §3 (the Bearer challenge and its error
// codes), RFC 9449 §7.1 (the DPoP challenge, `algs`, invalid_dpop_proof) and RFC 9728 §5.1
// (`resource_metadata`). Descriptions are fixed strings chosen here, never text from the request.

export type ErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'temporarily_unavailable' | 'server_error';
export type Scheme = 'Bearer' | 'DPoP';

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_token: 401,
  invalid_dpop_proof: 401,
  insufficient_scope: 403,
  // Not an RFC 6750 code: the keys or the revocation state could not be learned, so the kit fails
  // closed without blaming the token (RFC 6749 §4.1.2.1 names the condition).
  temporarily_unavailable: 503,
  server_error: 500,
};

/** A refusal raised by a verification step; the resource server turns it into a response. */
export class Refused extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** The scheme whose challenge carries the error (RFC 9449 §7.1: a DPoP-bound token's is DPoP's). */
  readonly scheme: Scheme | undefined;
  constructor(code: ErrorCode, description: string, scheme?: Scheme) {
    super(description);
    this.name = 'Refused';
    this.code = code;
    this.status = STATUS[code];
    this.scheme = scheme;
  }
}

export const invalidRequest = (description: string): Refused => new Refused('invalid_request', description);
export const invalidToken = (description: string, scheme?: Scheme): Refused => new Refused('invalid_token', description, scheme);
export const invalidProof = (description: string): Refused => new Refused('invalid_dpop_proof', description, 'DPoP');
export const unavailable = (description: string): Refused => new Refused('temporarily_unavailable', description);

/** What the adapters write: status, headers and a JSON body `{ error, error_description }`. */
export interface Refusal {
  readonly status: number;
  readonly error: ErrorCode | undefined;
  readonly description: string;
  readonly headers: Readonly<Record<string, string>>;
  /** `error` is absent when the request carried no credentials (RFC 6750 §3.1). */
  readonly body: { readonly error?: string; readonly error_description: string };
}

export interface ChallengeContext {
  readonly resourceMetadata: string;
  /** The DPoP signing algorithms accepted; undefined when DPoP is off. */
  readonly dpopAlgorithms: readonly string[] | undefined;
  /** The scope the route needs (RFC 6750 §3: `scope` with insufficient_scope). */
  readonly scope: readonly string[];
}

// RFC 6750 §3: error_description uses %x20-21 / %x23-5B / %x5D-7E only (no `"` or `\`).
const safe = (text: string): string => text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, ' ');

function challenge(scheme: Scheme, params: Array<[string, string | undefined]>): string {
  const rendered = params.filter((p): p is [string, string] => p[1] !== undefined).map(([k, v]) => `${k}="${safe(v)}"`);
  return rendered.length ? `${scheme} ${rendered.join(', ')}` : scheme;
}

/**
 * The response for a refusal. A request without usable credentials gets the challenges without an
 * error code (RFC 6750 §3.1); otherwise the error goes in the challenge of the scheme the client
 * must use. Bearer comes first: MCP clients read `resource_metadata` from a leading Bearer challenge.
 */
export function refusal(error: Refused | undefined, ctx: ChallengeContext, schemeUsed?: Scheme): Refusal {
  const status = error?.status ?? 401;
  const description = error?.message ?? 'An access token is required';
  const headers: Record<string, string> = { 'cache-control': 'no-store', 'content-type': 'application/json' };
  if (status === 401 || status === 403) {
    const errorScheme: Scheme = ctx.dpopAlgorithms ? (error?.scheme ?? schemeUsed ?? 'Bearer') : 'Bearer';
    const params = (scheme: Scheme): Array<[string, string | undefined]> => {
      const own = error !== undefined && scheme === errorScheme;
      return [
        ['error', own ? error.code : undefined],
        ['error_description', own ? description : undefined],
        ['scope', own && error.code === 'insufficient_scope' && ctx.scope.length ? ctx.scope.join(' ') : undefined],
        ['resource_metadata', ctx.resourceMetadata],
        ...(scheme === 'DPoP' ? [['algs', ctx.dpopAlgorithms?.join(' ')] as [string, string | undefined]] : []),
      ];
    };
    const challenges = [challenge('Bearer', params('Bearer'))];
    if (ctx.dpopAlgorithms) challenges.push(challenge('DPoP', params('DPoP')));
    headers['www-authenticate'] = challenges.join(', ');
  }
  if (status === 503) headers['retry-after'] = '5';
  return {
    status,
    error: error?.code,
    description,
    headers,
    body: error ? { error: error.code, error_description: description } : { error_description: description },
  };
}

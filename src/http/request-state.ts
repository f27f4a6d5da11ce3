// What one request carries from the middleware that learns it to the middleware that reports
// it (access log, metrics, audit record). Koa's `ctx.state` is typed here, once, by augmenting
// koa's DefaultState (oidc-provider's context uses the same type), so every field has one
// meaning and one type and nothing reads an untyped side channel.
import type { X509Certificate } from 'node:crypto';
import type { TokenDecision } from '../governance/token-decision.ts';

export interface RequestState {
  /** Set first by request-context.ts; echoed as X-Request-Id, carried into logs and audit. */
  requestId: string;
  /** The route template of a govauth route with parameters (admin API, status lists), for logs and metrics: never the raw path. */
  route?: string;
  /** The client govauth's own client authentication accepted (introspection, revocation, admin). */
  clientId?: string;
  /** The client proved its secret at the token endpoint (rate limiting, audit of refusals). */
  clientAuthenticated?: boolean;
  /** The request was refused by a rate limit; `first` marks the first refusal of its window. */
  rateLimited?: { first: boolean };
  /** An exception oidc-provider rendered as a 500 (rewritten to 503 when the database is down). */
  serverError?: Error;
  /** Why oidc-provider refused a grant (the audit record's detail). */
  grantError?: Error & { error_detail?: string };
  /** The person a token request concerned when it is refused (a token exchange's verified subject), for its audit record. */
  concerns?: string;
  /** The CIBA approval a refresh acts on, once found (oidc/ciba-approval.ts: one lookup per request). */
  cibaRequest?: string;
  /** The governance decision behind the access token this request issues (claims, lifetime, audit record). */
  decision?: TokenDecision;
  /** The client certificate presented by TLS or a trusted proxy's Client-Cert header (client-certificate.ts). */
  clientCertificate?: X509Certificate | undefined;
}

declare module 'koa' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging
  interface DefaultState extends RequestState {}
}

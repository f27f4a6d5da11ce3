// Security decisions as structured events: sign-in success and failure, MFA, consent, token
// refresh outcomes. The sink is injected, so the audit trail can record them durably; events
// carry identifiers only, never passwords, codes or tokens.

type SecurityEventType =
  | 'login.succeeded'
  | 'login.failed'
  | 'login.throttled'
  | 'mfa.succeeded'
  | 'mfa.failed'
  // A passkey ceremony refused (detail.reason: wrong_origin, wrong_challenge, replayed, counter_regression…; passkeys.ts).
  | 'passkey.refused'
  | 'consent.granted'
  | 'consent.denied'
  | 'logout'
  | 'token.introspected'
  | 'token.revoked'
  // A client authenticated with the secret a rotation replaced, during its grace (client-secrets.ts).
  | 'client.old_secret_used';

export interface SecurityEvent {
  readonly type: SecurityEventType;
  readonly actor?: string; // user id, or the email as typed for failures ("who tried")
  readonly clientId?: string;
  /** The resource (audience URI) it concerns, if one: a token's, or the introspecting server's. */
  readonly resource?: string | undefined;
  readonly ip?: string;
  readonly requestId?: string;
  readonly detail?: Record<string, unknown>;
}

export interface SecurityEventSink {
  record(event: SecurityEvent): Promise<void>;
}

// Changing how a confidential client authenticates after registration (PATCH /clients/{id}
// auth_method, `govauth client update --auth`): to a secret (a new one, shown once), to
// private_key_jwt (its keys or their URL), to tls_client_auth (a certificate subject) or to
// self_signed_tls_client_auth (its certificates). The credentials are checked by the rules a
// registration follows (client-auth-rules.ts), and the ones the new method does not use are
// cleared in the same write: a client with keys or a certificate keeps no secret, not even a
// replaced one in its grace (RFC 9700 §2.5: an asymmetric credential is the point of switching).
// Tokens already issued are left alone; the next request at /token must use the new method.
import type { AuthColumns, ClientRow } from '../db/client-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { clientAuthMethod, parseClientAuthMethod } from './client-auth-method.ts';
import { checkAuthRegistration, type TlsInput } from './client-auth-rules.ts';
import { grantNames } from './client-grants.ts';
import type { OutboundUrlRules } from './outbound-url.ts';
import { parseStringArray } from './policy-loader.ts';
import { parseSecretExpiry } from './secret-lifetimes.ts';

export interface AuthChange {
  /** The method to move to (parseClientAuthMethod); absent with `tls`: a tls_client_auth client's new certificate subject. */
  readonly authMethod?: string;
  readonly jwks?: unknown;
  readonly jwksUri?: string;
  readonly tls?: Omit<TlsInput, 'boundTokens'>;
  /** client_secret only: when the new secret stops working (secret-lifetimes.ts parseSecretExpiry). */
  readonly secretExpires?: string;
}

/** Whether the change issues a secret: the caller hashes it before the write (argon2id is slow). */
export const changeIssuesSecret = (change: AuthChange): boolean => change.authMethod !== undefined && parseClientAuthMethod(change.authMethod) === 'client_secret';

/**
 * The credential columns of `row` after `change`, or why not: a public client stays public
 * (409: it was registered for PKCE, and its grants and redirects assume it), a confidential one
 * cannot become public, and a secret client asking for a secret is told to rotate it.
 * `secretHash`: the hash of the new secret when changeIssuesSecret, else null.
 */
export function authChangeColumns(row: ClientRow, change: AuthChange, secretHash: string | null, now: number, urlRules: OutboundUrlRules): AuthColumns {
  const current = clientAuthMethod(row);
  if (current === 'none') throw new AppError('conflict', `client ${row.id} is public (no secret, PKCE) and stays public: register a confidential client for another authentication method`);
  const asked = change.authMethod === undefined ? undefined : parseClientAuthMethod(change.authMethod);
  if (asked === undefined && current !== 'tls_client_auth') {
    throw new AppError('invalid_request', `client ${row.id} authenticates with ${current}: to authenticate with a TLS certificate instead, name the method too (auth_method tls_client_auth, --auth tls_client_auth)`);
  }
  const method = asked ?? current;
  if (method === 'none') throw new AppError('invalid_request', `client ${row.id} is confidential and cannot be made public: register a public client (--public) instead`);
  if (method === 'client_secret' && current === 'client_secret') throw new AppError('invalid_request', `client ${row.id} already authenticates with a secret: issue a new one with rotate-secret`);
  if (change.secretExpires !== undefined && method !== 'client_secret') throw new AppError('invalid_request', 'secret_expires (--secret-expires) goes with a change to client_secret: the other methods have no secret');
  if ((secretHash !== null) !== (method === 'client_secret')) throw new TypeError('a new secret is hashed exactly when the change is to client_secret');
  const registered = checkAuthRegistration(
    // A certificate binding the old method implied (self_signed_tls_client_auth) goes with it; one
    // asked for (--bind-certificate) stays.
    { authMethod: method, jwks: change.jwks, jwksUri: change.jwksUri, tls: { ...change.tls, boundTokens: row.tlsBoundTokens && !row.tlsSelfSigned } },
    { isPublic: false, introspect: row.introspectAudience !== null, grants: grantNames(parseStringArray(row.grantTypes, 'Client.grantTypes')) },
    urlRules,
  );
  const expiresAt = change.secretExpires === undefined ? null : parseSecretExpiry(change.secretExpires, now);
  return {
    secretHash,
    secretRotatedAt: secretHash === null ? null : new Date(now),
    secretExpiresAt: expiresAt === null ? null : new Date(expiresAt),
    previousSecretHash: null,
    previousSecretValidUntil: null,
    jwks: registered.jwks && JSON.stringify(registered.jwks),
    jwksUri: registered.jwksUri,
    tlsSubjectDn: registered.tlsSubjectDn,
    tlsSan: registered.tlsSan,
    tlsBoundTokens: registered.tlsBoundTokens,
    tlsSelfSigned: registered.tlsSelfSigned,
  };
}

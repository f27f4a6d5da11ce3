// The admin API's fields for how a client authenticates (client-routes.ts), in the names the
// client view shows them with. The rules are governance's (client-certificates.ts,
// client-auth-method.ts), applied as refinements so a bad value is a 400 naming the field.
import { z } from 'zod';
import { CLIENT_AUTH_METHODS, parseClientAuthMethod } from '../governance/client-auth-method.ts';
import { checkSubjectDn, splitSan } from '../governance/client-certificates.ts';
import { governed } from './input.ts';

export const authMethodInput = z
  .string()
  .max(40)
  .superRefine(governed(parseClientAuthMethod))
  .describe(
    `How the client authenticates: ${CLIENT_AUTH_METHODS.join(', ')} (client_secret_basic and client_secret_post mean client_secret). The other fields imply it (jwks: private_key_jwt; tls_subject_dn or tls_san: tls_client_auth; public: none; else client_secret); name it for self_signed_tls_client_auth (jwks holding its certificate in x5c, RFC 8705 §2.2), otherwise it must agree`,
  );

export const tlsSubjectDn = z
  .string()
  .max(1000)
  .superRefine(governed(checkSubjectDn))
  .describe('tls_client_auth (RFC 8705 §2.1.2): the subject DN its certificate must carry, RFC 4514 (CN=bot,O=Example); the certificate must come from the configured client CA');

export const tlsSan = z
  .string()
  .max(520)
  .superRefine(governed(splitSan))
  .describe('tls_client_auth (RFC 8705 §2.1.2): instead of a subject DN, one subject alternative name its certificate must carry, as dns:…, uri:…, ip:… or email:…');

export const certificateBoundTokens = z
  .boolean()
  .describe('Bind its access tokens to the client certificate of the token request (RFC 8705 §3, cnf x5t#S256); always so for self_signed_tls_client_auth');

interface AuthFields {
  readonly auth_method?: string | undefined;
  readonly jwks?: unknown;
  readonly jwks_uri?: string | undefined;
  readonly tls_subject_dn?: string | undefined;
  readonly tls_san?: string | undefined;
  readonly public?: boolean | undefined;
}

/**
 * The combinations of these fields no client can have, said in this API's field names, for the
 * body of a registration (POST /clients) and of a change of method (PATCH /clients/{id});
 * governance (client-auth-rules.ts) still checks them.
 */
export function authFieldProblems(b: AuthFields, problem: (path: string, message: string) => void): void {
  if (b.jwks !== undefined && b.jwks_uri !== undefined) problem('jwks_uri', 'give the keys one way: jwks or jwks_uri, not both');
  if (b.tls_subject_dn !== undefined && b.tls_san !== undefined) problem('tls_san', 'register the certificate by one subject: tls_subject_dn or tls_san, not both (RFC 8705 §2.1.2)');
  if ((b.tls_subject_dn !== undefined || b.tls_san !== undefined) && (b.jwks !== undefined || b.jwks_uri !== undefined || b.public)) problem('tls_subject_dn', 'a client authenticates one way: a certificate subject (tls_client_auth) excludes jwks, jwks_uri and public');
  if (b.auth_method === 'self_signed_tls_client_auth' && b.jwks === undefined) problem('jwks', 'self_signed_tls_client_auth needs the client certificate: a key whose x5c holds it');
}

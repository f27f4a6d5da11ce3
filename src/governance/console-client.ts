// The admin console's own OAuth client (src/console), known only in code like the account pages'
// (oidc/account-session.ts) but, unlike them, a real client of the admin API: it signs people in
// with the authorization code flow and PKCE (RFC 9700 §2.1.1) and receives an access token for
// the admin resource (RFC 8707) whose scopes say what the person may do in the console
// (govauth.admin: read-write; govauth.audit.read: read-only). It is part of the policy snapshot
// so that issuance, introspection and revocation judge its tokens as any client's (effective-
// grant.ts), and it can be neither listed nor changed through the catalogue: its id is not a
// catalogue id (`cl_…`), so no registered client can take it.
import { ADMIN_AUDIENCE, type ClientDef } from './policy-model.ts';

export const CONSOLE_CLIENT_ID = 'govauth-console';
/** What the console asks for: read-write, and read-only (a person gets the ones they hold). */
export const CONSOLE_SCOPES = ['govauth.admin', 'govauth.audit.read'] as const;

const CONSOLE_CLIENT: ClientDef = {
  id: CONSOLE_CLIENT_ID,
  name: 'the govauth console',
  secretHash: null,
  secretExpiresAt: null,
  previousSecretHash: null,
  previousSecretValidUntil: null,
  grantTypes: ['authorization_code'],
  // Its redirect URI depends on the issuer: oidc-provider reads it from account-session.ts.
  redirectUris: [],
  postLogoutRedirectUris: [],
  scopeCeiling: new Set(CONSOLE_SCOPES),
  introspectAudience: null,
  // The console is the admin API's own front end; the ceilings keep it to that audience only.
  adminAccess: true,
  resourceCeiling: new Set([ADMIN_AUDIENCE]),
  disabled: false,
  roles: [],
};

/** Whether `id` is the console's built-in client (hidden from client lists and reviews). */
export const isConsoleClient = (id: string): boolean => id === CONSOLE_CLIENT_ID;

/** The catalogue's clients with the console's own beside them (it wins over any row with its id). */
export function withConsoleClient(clients: Map<string, ClientDef>): Map<string, ClientDef> {
  clients.set(CONSOLE_CLIENT_ID, CONSOLE_CLIENT);
  return clients;
}

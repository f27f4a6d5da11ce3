// The grants a client is registered with, under the names people type, and the rules that
// follow from them. One place: client registration (CLI and admin API), role grants and the
// access review ask here which clients keep a secret and which act by their roles.
import { AppError } from '../errors/app-error.ts';
import { TOKEN_EXCHANGE_GRANT } from './delegation.ts';
import { uniqueList } from './validation.ts';

/** What `--grant` and the admin API's `grants` accept. */
export const CLIENT_GRANTS = ['client_credentials', 'authorization_code', 'token-exchange'] as const;
export type ClientGrant = (typeof CLIENT_GRANTS)[number];

/** `grants` as typed, checked, without repeats. */
export function checkGrants(grants: readonly string[]): ClientGrant[] {
  return uniqueList(grants, (g) => {
    if ((CLIENT_GRANTS as readonly string[]).includes(g)) return g;
    const hint = g === TOKEN_EXCHANGE_GRANT || g === 'token_exchange' ? ' (token exchange is spelled token-exchange)' : '';
    throw new AppError('invalid_request', `unsupported grant ${JSON.stringify(g)}: use ${CLIENT_GRANTS.join(', ')}${hint}`);
  }) as ClientGrant[];
}

// Stored in Client.grantTypes (and given to oidc-provider) as the protocol names them: RFC 8693
// §2.1 names token exchange by its URN, which nobody should have to type.
const PROTOCOL_NAME: Readonly<Record<ClientGrant, string>> = {
  client_credentials: 'client_credentials',
  authorization_code: 'authorization_code',
  'token-exchange': TOKEN_EXCHANGE_GRANT,
};

/** What Client.grantTypes holds for `grants`: refresh tokens come with the code flow (RFC 6749 §6; still only for offline_access). */
export function storedGrantTypes(grants: readonly ClientGrant[]): string[] {
  const stored = grants.map((g) => PROTOCOL_NAME[g]);
  return grants.includes('authorization_code') ? [...stored, 'refresh_token'] : stored;
}

/** Client.grantTypes as people read and type them (views, list, show, audit records). */
export const grantNames = (stored: readonly string[]): string[] => stored.map((g) => (g === TOKEN_EXCHANGE_GRANT ? 'token-exchange' : g));

/**
 * Grants that need a client secret: client_credentials (the client is the principal) and token
 * exchange (an agent acting for people must prove it is that agent; RFC 8693 §2.1 requires the
 * token endpoint's client authentication, and a public client has none: RFC 6749 §2.1).
 */
export const SECRET_GRANTS: readonly ClientGrant[] = ['client_credentials', 'token-exchange'];

/**
 * Which clients hold roles: a client_credentials client gets its own scopes from them, a
 * token-exchange client (an agent) is matched by them against delegation policies ("agents
 * holding role A may act for people holding role P"). Apps and resource servers hold none:
 * people get scopes from their own roles.
 */
export const mayHoldRoles = (grants: readonly string[]): boolean => grants.some((g) => g === 'client_credentials' || g === 'token-exchange' || g === TOKEN_EXCHANGE_GRANT);

/** The rule in words, after "roles" (the admin API names the field, the CLI the word). */
export const ROLES_APPLY = 'apply to client_credentials clients (their own access) and token-exchange clients (which delegation policies let them act for people); people get scopes from their own roles';
export const ROLES_RULE = `roles ${ROLES_APPLY}`;

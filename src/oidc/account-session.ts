// Who is signed in to this browser, for govauth's own account pages (src/account): the person
// of oidc-provider's own browser session, the same one every app's sign-in uses.
//
// How a person who is not signed in gets signed in: the account pages are a first-party client
// of govauth, known only in code (never in the catalogue, so it cannot be listed, changed,
// disabled or given roles), and send the browser through an ordinary authorization request
// (OpenID Connect Core §3.1.2.1) with the login, two-step and error pages every app gets. Its
// response type is `none` (OAuth 2.0 Multiple Response Type Encoding Practices §4): the request
// signs the person in to the browser session and answers with `state` and `iss` only, no code
// and no token. With no grant type it can never use the token endpoint (unauthorized_client),
// and, absent from the policy snapshot, it is refused any resource (effective-grant.ts), so
// this client cannot be used to get an API token. PKCE protects a code; none is issued. (The
// console's client, beside it here, is the exception: a code + PKCE client of the admin API,
// governance/console-client.ts, src/console/console-sign-in.ts.) The
// page that starts the request keeps `state` in a signed cookie and checks it on the way back
// (src/account/sign-in-return.ts), with `iss` (RFC 9207).
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { ClientMetadata, Grant, KoaContextWithOIDC } from 'oidc-provider';
import { ACR_MFA } from '../governance/step-up.ts';
import { CONSOLE_CLIENT_ID, CONSOLE_SCOPES } from '../governance/console-client.ts';
import { ADMIN_AUDIENCE } from '../governance/policy-model.ts';

/**
 * govauth's own first-party clients, known only in code: the account pages and the admin console
 * (src/console), each signing people in the same way and returning to its own page. Not
 * catalogue ids (those are `cl_…`, client-secrets.ts), so no registered client can take them.
 */
const FIRST_PARTY = {
  // The login page reads "to continue to your govauth account".
  account: { id: 'govauth-account', name: 'your govauth account', callback: '/account/signed-in' },
  // The console is a real client of the admin API (governance/console-client.ts): code + PKCE.
  console: { id: CONSOLE_CLIENT_ID, name: 'the govauth console', callback: '/console/signed-in' },
} as const;
export type FirstPartyPages = keyof typeof FIRST_PARTY;
const byId = new Map(Object.values(FIRST_PARTY).map((c) => [c.id as string, c]));

/** Whether `clientId` is one of govauth's own first-party clients (the account pages, the console). */
export const isAccountClient = (clientId: string | undefined): boolean => clientId !== undefined && byId.has(clientId);

/** A first-party client as oidc-provider's Client lookup serves it (oidc-adapter.ts); undefined for any other id. */
export function accountClientMetadata(issuer: string, clientId: string): ClientMetadata | undefined {
  const client = byId.get(clientId);
  if (!client) return undefined;
  const code = client.id === CONSOLE_CLIENT_ID;
  return {
    client_id: client.id,
    client_name: client.name,
    token_endpoint_auth_method: 'none',
    grant_types: code ? ['authorization_code'] : [],
    response_types: [code ? 'code' : 'none'],
    redirect_uris: [`${issuer}${client.callback}`],
    post_logout_redirect_uris: [],
  };
}

/**
 * oidc-provider's loadExistingGrant for the account client: the openid scope, consented by
 * signing in to govauth itself, so no consent page is shown (oidc-provider docs, "skipping
 * consent for first-party clients"). The account pages' is never saved (response type `none`
 * issues nothing from it); the console's is (below).
 */
export async function accountSignInGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
  const accountId = ctx.oidc.session?.accountId;
  if (!accountId) return undefined;
  const clientId = ctx.oidc.client?.clientId;
  if (!isAccountClient(clientId)) return undefined;
  const grant = new ctx.oidc.provider.Grant({ accountId, clientId });
  grant.addOIDCScope('openid');
  if (clientId !== CONSOLE_CLIENT_ID) return grant;
  // The console's code is exchanged for an admin API token: its grant names the console's scopes,
  // and the token carries only those the person holds now (resource-indicators.ts). Saved, so the
  // code can name it and signing out of govauth revokes it (sign-out-revocation.ts).
  grant.addResourceScope(ADMIN_AUDIENCE, CONSOLE_SCOPES.join(' '));
  await grant.save();
  return grant;
}

/**
 * Whether this authorization request is the account pages asking for a recent second factor
 * (acr_values, OpenID Connect Core §3.1.2.1): the step-up check (step-up-prompt.ts) then asks
 * for it as it does for a high-sensitivity scope.
 */
export function accountAsksStepUp(ctx: KoaContextWithOIDC): boolean {
  if (!isAccountClient(ctx.oidc.client?.clientId)) return false;
  const acr = ctx.oidc.params?.acr_values;
  return typeof acr === 'string' && acr.split(' ').includes(ACR_MFA);
}

export interface SignedIn {
  readonly accountId: string;
  /** The browser session's uid: stable for the sign-in, never sent to the browser. */
  readonly sessionUid: string;
  /** Epoch seconds of the last sign-in (with amr, for the second factor's freshness). */
  readonly authTime: number | undefined;
  readonly amr: readonly string[] | undefined;
}

export interface AccountSessions {
  /** The signed-in person of this browser, or undefined (no session, an expired or ended one). */
  signedIn(ctx: Context): Promise<SignedIn | undefined>;
  /**
   * The authorization request that signs this browser in and returns to the pages' callback with
   * `state`; `reauth` asks for the password again (prompt=login); `code` makes it the console's
   * code request (PKCE S256 challenge, nonce, resource).
   */
  signInUrl(state: string, options: { readonly stepUp: boolean; readonly reauth?: boolean; readonly code?: { readonly challenge: string; readonly nonce: string } }): string;
}

/** Over the current provider (rebuilt when signing keys change, provider-host.ts). */
export function createAccountSessions(provider: () => Provider, issuer: string, pages: FirstPartyPages = 'account'): AccountSessions {
  const client = FIRST_PARTY[pages];
  return {
    async signedIn(ctx) {
      // Session.get reads the signed session cookie with the provider's keys outside its routes
      // (lib/models/session.js) and only reads: nothing is saved or set here.
      const session = await provider().Session.get(ctx);
      if (!session.accountId) return undefined;
      return { accountId: session.accountId, sessionUid: session.uid, authTime: session.authTime(), amr: session.amr };
    },
    signInUrl(state, { stepUp, reauth, code }) {
      const url = new URL(provider().urlFor('authorization'));
      url.search = new URLSearchParams({
        client_id: client.id,
        response_type: code ? 'code' : 'none',
        scope: code ? ['openid', ...CONSOLE_SCOPES].join(' ') : 'openid',
        redirect_uri: `${issuer}${client.callback}`,
        state,
        ...(code && { code_challenge: code.challenge, code_challenge_method: 'S256', nonce: code.nonce, resource: ADMIN_AUDIENCE }),
        ...(stepUp && { acr_values: ACR_MFA }),
        // A fresh password sign-in before a sensitive change (OpenID Connect Core §3.1.2.1 prompt=login).
        ...(reauth === true && { prompt: 'login' }),
      }).toString();
      return url.href;
    },
  };
}

// oidc-provider's own words that govauth recognises: error descriptions, error classes and the
// markup of one page. None of them is public API, so an upgrade of oidc-provider (pinned at
// 9.13) re-reads each against the cited upstream file and the tests named beside it. Part of
// the seam (seams.ts); nothing else in src/ matches oidc-provider's text.
import { errors } from 'oidc-provider';

/**
 * Token endpoint refusals oidc-provider answers `invalid_request` 400 although no usable client
 * authentication was sent (lib/shared/client_auth.js): RFC 6749 §5.2's `invalid_client`
 * (token-error-codes.ts; test/integration/token-refusal-codes.test.ts).
 */
export const NO_CLIENT_AUTHENTICATION: ReadonlySet<string> = new Set([
  'no client authentication mechanism provided',
  'invalid authorization header value format',
  'client_secret must be provided in the Authorization header',
  'client_id and client_secret in the authorization header are not properly encoded',
]);

/** A grant type the client may not use (lib/actions/token.js): §5.2's `unauthorized_client`. */
export const GRANT_TYPE_NOT_ALLOWED = 'requested grant type is not allowed for this client';
/** /backchannel for a client without the CIBA grant (lib/actions/authorization/client.js checkClientGrantType). */
export const CIBA_NOT_ALLOWED = 'urn:openid:params:grant-type:ciba is not allowed for this client';

/** `error_detail` of a refresh token presented a second time (lib/actions/grants/refresh_token.js). */
export const REFRESH_TOKEN_REUSED = 'refresh token already used';

/**
 * Refusals after which oidc-provider revokes the grant (RFC 9700 §4.14.2 refresh token reuse;
 * a replayed authorization code, RFC 6749 §4.1.2, lib/helpers/grant_source.js):
 * token-audit.ts records each in full.
 */
export const REVOKES_GRANT: ReadonlySet<string> = new Set([REFRESH_TOKEN_REUSED, 'authorization code already consumed']);

/**
 * oidc-provider's auto-submitting page (lib/response_modes/form_post.js, and RP-initiated logout
 * with nobody signed in, lib/actions/end_session.js): its title, and its form with the hidden
 * fields (form-post-page.ts; test/integration/provider-pages.test.ts).
 */
export const FORM_POST_PAGE_TITLE = '<title>Submitting Callback</title>';
export const FORM_POST_FORM = /<form method="post" action="([^"]*)">\s*((?:<input type="hidden" name="[^"]*" value="[^"]*"\/>\s*)*)/;

/**
 * Descriptions (lib/helpers/errors.js and its actions) that name a more specific situation than
 * their code, for the sentence a person reads (pages/error-messages.ts).
 */
export const DESCRIPTION_OF = {
  /** The interaction or its session is gone: expired, completed, or another browser's. */
  signInExpired: /session (id cookie )?not found|interaction (session )?(not found|expired)|session (has )?expired/i,
  postLogoutUriNotRegistered: /post_logout_redirect_uri not registered/i,
  missingClientId: /missing required parameter.*client_id|client_id.*missing/i,
} as const;

/**
 * interactionDetails throws these when the interaction cookie or its record is missing or
 * expired (lib/provider.js #getInteraction): the sign-in can only restart at the app.
 */
export function isInteractionGone(err: unknown): boolean {
  return err instanceof errors.SessionNotFound || err instanceof errors.InvalidRequest;
}

/**
 * The error a socket to a special-use address is destroyed with (lib/helpers/fetch_request.js
 * destroySpecialUseSocket): a refusal outbound-fetch.ts names (test/integration/jwks-uri.test.ts).
 */
export const SPECIAL_USE_SOCKET_DESTROYED = 'hostname resolves to a special-use IP address';

/** A response body over its fetchResponseBodyLimits entry (lib/helpers/fetch_body_check.js). */
export const RESPONSE_TOO_LARGE = 'response too large';

/** What a client's jwks_uri refresh failure is wrapped in (lib/models/client.js ClientKeyStore.refresh). */
export const JWKS_REFRESH_FAILED = 'client JSON Web Key Set failed to be refreshed';

// Step-up authentication for high-sensitivity scopes. A token may carry one only if the
// person proved a second factor (TOTP) recently: in this sign-in, or within
// GOVAUTH_MFA_MAX_AGE. At the authorization endpoint an extra check on oidc-provider's login
// prompt asks for the code when it is needed and possible (oidc/step-up-prompt.ts); at the
// token endpoint the same rule filters what a code or refresh token can still yield.

/** Documented acr values: password only, and password plus TOTP. */
export const ACR_PASSWORD = 'urn:govauth:acr:pwd';
export const ACR_MFA = 'urn:govauth:acr:mfa';
export const STEP_UP_REASON = 'govauth_step_up';

/** amr (RFC 8176) and auth_time (epoch seconds) prove a recent second factor. */
export function mfaFresh(amr: readonly string[] | undefined, authTimeSec: number | undefined, maxAgeSec: number, nowMs: number): boolean {
  return Boolean(amr?.includes('otp') && authTimeSec !== undefined && nowMs / 1000 - authTimeSec <= maxAgeSec);
}

// Step-up authentication for high-sensitivity scopes. A token may carry one only if the
// person proved a second factor (TOTP) recently: in this sign-in, or within
// GOVAUTH_MFA_MAX_AGE (the rule is policy-model.ts's mfaFresh). At the authorization endpoint an
// extra check on oidc-provider's login prompt asks for the code when it is needed and possible
// (oidc/step-up-prompt.ts); the sign-in pages answer it (interactions/); at the token endpoint
// the same rule filters what a code or refresh token can still yield (effective-grant.ts).

/** Documented acr values: password only, and password plus TOTP. */
export const ACR_PASSWORD = 'urn:govauth:acr:pwd';
export const ACR_MFA = 'urn:govauth:acr:mfa';
/**
 * Phishing-resistant: a passkey (WebAuthn, origin-bound and user-verified), with or without a
 * password. Stronger than ACR_MFA, which it satisfies; a scope may require it (`--require-acr phr`).
 */
export const ACR_PHR = 'urn:govauth:acr:phr';
/** The name of the login prompt's step-up check, which the sign-in pages recognise. */
export const STEP_UP_REASON = 'govauth_step_up';

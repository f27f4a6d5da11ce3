// What a person reads when sign-in or sign-out stops on one of govauth's pages: a sentence for
// each common error, never the library's own text ("client is invalid"), which is written for
// developers and can echo request input. The OAuth error code (RFC 6749 §4.1.2.1, §5.2; OpenID
// Connect Core §3.1.2.6) and the request id stay on the page, for the app's developer and support.
import { DESCRIPTION_OF } from '../oidc/upstream-strings.ts';

export interface ErrorText {
  readonly title: string;
  readonly message: string;
}

const RESTART = 'Go back to the application and start again.';

const BY_CODE: Readonly<Record<string, ErrorText>> = {
  invalid_client: {
    title: 'Unknown application',
    message: `The application that sent you here is not registered with govauth, or it has been switched off. ${RESTART} If this keeps happening, tell the application's administrator.`,
  },
  invalid_redirect_uri: {
    title: 'Unsafe return address',
    message: 'The application asked govauth to send you back to an address it has not registered. To protect you, govauth stopped here and sent nothing to that address.',
  },
  invalid_request: {
    title: 'Sign-in request not valid',
    message: `The application's request was incomplete or not valid, so the sign-in cannot start. ${RESTART}`,
  },
  unauthorized_client: {
    title: 'Application not allowed',
    message: 'This application is not allowed to sign people in this way. Tell its administrator.',
  },
  unsupported_response_type: {
    title: 'Sign-in request not valid',
    message: `The application asked for a kind of sign-in govauth does not offer. ${RESTART}`,
  },
  invalid_scope: {
    title: 'Access not available',
    message: 'The application asked for access that govauth cannot give it. Tell its administrator.',
  },
  invalid_target: {
    title: 'Access not available',
    message: 'The application asked for access to a service it is not allowed to use. Tell its administrator.',
  },
  access_denied: {
    title: 'Access denied',
    message: 'The request was declined, so the application did not get access.',
  },
  login_required: {
    title: 'Sign-in needed',
    message: `You need to sign in to continue, but the application asked govauth not to show the sign-in page. ${RESTART}`,
  },
  consent_required: {
    title: 'Permission needed',
    message: `The application needs your permission, but asked govauth not to ask you. ${RESTART}`,
  },
  interaction_required: {
    title: 'Sign-in needed',
    message: `This request needs you to sign in or confirm something, but the application asked govauth not to show any page. ${RESTART}`,
  },
  invalid_grant: {
    title: 'Sign-in no longer valid',
    message: `This sign-in is no longer valid. ${RESTART}`,
  },
  forbidden: {
    title: 'Form no longer valid',
    message: 'This form does not belong to the sign-in in progress in this browser, or it was already sent.',
  },
  temporarily_unavailable: {
    title: 'Temporarily unavailable',
    message: 'Sign-in is temporarily unavailable. Try again in a moment.',
  },
  server_error: {
    title: 'Something went wrong',
    message: 'The sign-in could not be completed. Try again in a moment.',
  },
};

const EXPIRED: ErrorText = {
  title: 'Sign-in expired',
  message: `This sign-in has expired or was already completed. ${RESTART}`,
};

// A few library descriptions that name a more specific situation than their code
// (oidc/upstream-strings.ts).
const BY_DESCRIPTION: readonly [RegExp, ErrorText][] = [
  [DESCRIPTION_OF.signInExpired, EXPIRED],
  [
    DESCRIPTION_OF.postLogoutUriNotRegistered,
    {
      title: 'Unsafe return address',
      message: 'The application asked govauth to send you to an address it has not registered after signing out. To protect you, govauth stopped here; you have not been signed out.',
    },
  ],
  [
    DESCRIPTION_OF.missingClientId,
    { title: 'Unknown application', message: `The request does not say which application it comes from. ${RESTART}` },
  ],
];

/** The page text for an OAuth error; the description is only used to pick a more precise sentence. */
export function errorText(code: string | undefined, description?: string): ErrorText {
  if (description) for (const [pattern, text] of BY_DESCRIPTION) if (pattern.test(description)) return text;
  return BY_CODE[code ?? ''] ?? { title: 'Request not completed', message: `The request could not be completed. ${RESTART}` };
}

export const SIGN_IN_EXPIRED = EXPIRED;

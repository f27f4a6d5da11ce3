// Which clients an administrator allowed OpenID CIBA (Client-Initiated Backchannel
// Authentication Core 1.0), and how each receives its token (§5): poll (it asks the token
// endpoint) or ping (govauth POSTs to its client notification endpoint when the person decided,
// §10.2, through the outbound fetch rules). Push mode is not offered: it would deliver tokens to
// a URL instead of the authenticated client. Only the client registry calls these.
import { AppError } from '../errors/app-error.ts';
import { outboundUrlProblem, type OutboundUrlRules } from './outbound-url.ts';

/** The token endpoint's grant type for CIBA (§10.1). */
export const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';

/**
 * How the Cedar policy step sees a CIBA token wherever it is judged (the approval, the token
 * endpoint, introspection): the Agent (this client) acting for the person, at delegation depth 1,
 * as the first actor of an exchanged token is (issue 24's "agent-acting-for-person"). In CIBA the
 * Consumption Device, not the person, asks, receives and uses the token; the person only approves
 * on their Authentication Device (CIBA Core §1, §7.1), and the token names the agent in `act`
 * (act-claim.ts approvalClaims). `govauth policy explain --user … --via <agent> --delegation 1`
 * asks the same question, so a `forbid(principal is Agent, …)` reads the same everywhere.
 */
export const CIBA_POLICY_CONTEXT = { delegationDepth: 1, grantType: CIBA_GRANT } as const;

const CIBA_MODES = ['poll', 'ping'] as const;
type CibaMode = (typeof CIBA_MODES)[number];

/** What `--ciba` / the admin API's `ciba` ask for: a mode, or off (update only). */
export interface CibaInput {
  readonly mode: string;
  readonly notificationEndpoint?: string | undefined;
}

/** The columns for the client: both null = not allowed. */
export interface CibaColumns {
  readonly cibaMode: CibaMode | null;
  readonly cibaNotificationEndpoint: string | null;
}

export const NO_CIBA: CibaColumns = { cibaMode: null, cibaNotificationEndpoint: null };

/** The client notification endpoint: https, no special-use address (as a jwks_uri), no fragment (§4 backchannel_client_notification_endpoint). */
function checkNotificationEndpoint(input: string, rules: OutboundUrlRules): string {
  const uri = input.trim();
  if (!uri || uri.length > 2048) throw new AppError('invalid_request', 'ciba notification endpoint: expected an https URL of at most 2048 characters');
  const problem = outboundUrlProblem(uri, rules);
  if (problem) throw new AppError('invalid_request', `ciba notification endpoint ${problem}`);
  if (new URL(uri).hash) throw new AppError('invalid_request', 'ciba notification endpoint: no fragment');
  return new URL(uri).href;
}

/**
 * The stored setting for `input`. CIBA clients authenticate at the backchannel and token
 * endpoints (§7.1 "authenticated request"), so a public client cannot be one; an introspecting
 * resource server obtains no tokens.
 */
export function checkCiba(input: CibaInput, c: { isPublic: boolean; introspect: boolean }, rules: OutboundUrlRules): CibaColumns {
  const mode = input.mode.trim();
  if (mode === 'off') {
    if (input.notificationEndpoint !== undefined) throw new AppError('invalid_request', 'a notification endpoint applies to --ciba ping only');
    return NO_CIBA;
  }
  if (!(CIBA_MODES as readonly string[]).includes(mode)) throw new AppError('invalid_request', `ciba: expected ${CIBA_MODES.join(' or ')} (or off to withdraw it), got ${JSON.stringify(input.mode)}`);
  if (c.isPublic) throw new AppError('invalid_request', 'a public client cannot use CIBA: it must authenticate at the backchannel and token endpoints (CIBA Core §7.1)');
  if (c.introspect) throw new AppError('invalid_request', 'CIBA applies to clients that obtain tokens, not to a resource server that introspects');
  if (mode === 'poll') {
    if (input.notificationEndpoint !== undefined) throw new AppError('invalid_request', 'a notification endpoint applies to --ciba ping only (poll mode clients ask the token endpoint)');
    return { cibaMode: 'poll', cibaNotificationEndpoint: null };
  }
  if (input.notificationEndpoint === undefined) throw new AppError('invalid_request', 'ping mode needs the client notification endpoint: --ciba-notification-endpoint https://… (CIBA Core §10.2)');
  return { cibaMode: 'ping', cibaNotificationEndpoint: checkNotificationEndpoint(input.notificationEndpoint, rules) };
}

/** How views and audit records show it. */
export const cibaView = (c: { cibaMode?: string | null; cibaNotificationEndpoint?: string | null }): { mode: string; notification_endpoint: string | null } | null =>
  c.cibaMode ? { mode: c.cibaMode, notification_endpoint: c.cibaNotificationEndpoint ?? null } : null;

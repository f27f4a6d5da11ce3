// Which person's approval of an agent (OpenID CIBA) a token request acts on: the one place that
// decides it, for the token the agent redeems its auth_req_id for and for every refresh of that
// grant, on any instance. The answer goes on the request's decision (governance/token-decision.ts
// cibaRequest), from which the token's `act` and `ciba_request` claims (accounts-and-claims.ts,
// act-claim.ts approvalClaims) and its audit record (token-audit.ts) are written, so introspection
// and the token status list judge a refreshed token as the agent acting for the person, as they
// judge the first one.
// - The CIBA grant (§10.1): the request follows from the auth_req_id (ciba-requests.ts
//   cibaRequestIdFor), no lookup.
// - A refresh: oidc-provider stores only the IN_PAYLOAD fields of a Grant and a RefreshToken
//   (lib/models/grant.js, refresh_token.js; anything else set on them is dropped on save), and
//   neither keeps the auth_req_id. What it keeps across rotations is the refresh token's `gty`
//   ("ciba", then "ciba refresh_token": the chain began with CIBA) and its `grantId`. govauth
//   names that grant on its own request row when the person approves (ciba.ts, before the agent
//   can redeem), and finds the request by it here: one read of a unique index, on CIBA refreshes
//   only, the same on every instance (the shared database). Encoding the request in the grant's
//   own id instead would tie govauth to oidc-provider's id format and to choosing a Grant's jti;
//   the column is explicit, and takes an operator from a request to its grant (revoke --grant).
// - Fail closed: a CIBA refresh whose approval cannot be found (a grant approved before the row
//   named it, a row of another agent or person) is refused with invalid_grant, audited as
//   token.refused, before the refresh token is consumed (resource-indicators.ts
//   createRotateRefreshToken): it never yields a token that looks like the person's own.
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { cibaRequestIdFor } from '../governance/ciba-requests.ts';
import { CIBA_GRANT } from '../governance/client-ciba.ts';

/** Whether a refresh token's chain began with the CIBA grant (oidc-provider's `gty`, kept across rotations). */
export const isCibaLineage = (gty: string | undefined): boolean => gty?.split(' ')[0] === 'ciba';

/** The approved request grant `grantId` was made from, for this agent and person (governance/ciba-requests.ts approvalOfGrant). */
export type ApprovalOfGrant = (grantId: string, clientId: string, userId: string) => Promise<string | undefined>;

/** The govauth CIBA request (cr_…) a token request acts on, or undefined for any other token request. */
export type CibaApproval = (ctx: KoaContextWithOIDC) => Promise<string | undefined>;

const UNKNOWN_APPROVAL = 'the CIBA approval this grant was issued on cannot be found';

export function createCibaApproval(approvalOfGrant: ApprovalOfGrant): CibaApproval {
  return async (ctx) => {
    const grantType = ctx.oidc.route === 'token' ? ctx.oidc.params?.grant_type : undefined;
    if (grantType === CIBA_GRANT) {
      const approved = ctx.oidc.entities.BackchannelAuthenticationRequest;
      return approved?.jti ? cibaRequestIdFor(approved.jti) : undefined;
    }
    const rt = ctx.oidc.entities.RefreshToken;
    if (grantType !== 'refresh_token' || !rt || !isCibaLineage(rt.gty)) return undefined;
    // Asked before the refresh token is consumed and again when the token is minted: one read.
    if (ctx.state.cibaRequest !== undefined) return ctx.state.cibaRequest;
    const clientId = ctx.oidc.client?.clientId;
    const found = rt.grantId && rt.accountId && clientId ? await approvalOfGrant(rt.grantId, clientId, rt.accountId) : undefined;
    if (!found) throw new errors.InvalidGrant(UNKNOWN_APPROVAL);
    ctx.state.cibaRequest = found;
    return found;
  };
}

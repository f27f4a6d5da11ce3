// People as oidc-provider accounts, and the claims tokens carry.
// - findAccount: a disabled or deleted person has no account, so their refresh tokens stop
//   working at once (oidc-provider answers invalid_grant "referenced account not found").
// - Access tokens (RFC 9068 §2.2) carry `roles` (the roles that contributed a granted scope),
//   and for people `acr`, `amr` and `auth_time` (§2.2.1) so resource servers can demand MFA,
//   and `source_iat`: when the code or refresh-token chain they were minted from was issued.
// - The last check before a person's access token is signed: nothing it is minted from may be
//   revoked (user, client, role, grant), the same rule introspection applies afterwards.
// - When the access token is minted, what the audit record names (jti, sub, scopes, roles,
//   lifetime…) is added to the request's decision (ctx.state.decision), so the audit never
//   decodes the token it just signed; its signed iat and exp are added once the JWT's claims
//   are final (createSignedClaimsRecorder).
// - Every JWT access token carries `status.status_list` {idx, uri} (draft-ietf-oauth-status-list
//   §6.2): where a resource server finds, offline, whether introspection would still accept it
//   (src/statuslist). Its index is on the decision too, so the audit record names it.
// - No access token is minted unbound where proof of possession is required (per client, per
//   resource, per scope sensitivity: proof-of-possession.ts); its binding goes on the record.
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { approvalClaims, chainClaims } from '../governance/act-claim.ts';
import { soleAgentFor } from '../governance/delegation.ts';
import { rolesFor } from '../governance/effective-grant.ts';
import { contributingRoles, heldScopes } from '../governance/policy-model.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import type { TokenDecision } from '../governance/token-decision.ts';
import type { Clock } from '../time/clock.ts';
import type { Sensitivity } from '../governance/policy-model.ts';
import { assertPossession, tokenBinding } from './proof-of-possession.ts';
import { grantSource } from './resource-indicators.ts';

/**
 * Seconds: when what this token request redeems began. A code: its iat. A refresh token: the
 * iat of the first refresh token of its chain (`iiat`, kept across rotations), so a chain that
 * existed at a revocation stays covered by it whatever was rotated since (revocation-state.ts).
 */
function sourceIssuedAt(ctx: KoaContextWithOIDC): number | undefined {
  const { AuthorizationCode: code, RotatedRefreshToken: used, RefreshToken: current, BackchannelAuthenticationRequest: ciba } = ctx.oidc.entities;
  if (code) return code.iat;
  // A CIBA token: when the agent asked (a revocation of the person or agent since then covers it).
  if (ciba) return ciba.iat;
  const chain = used ?? current;
  return typeof chain?.iiat === 'number' ? chain.iiat : chain?.iat;
}

export function createFindAccount(deps: { policy: PolicyStore }): NonNullable<Configuration['findAccount']> {
  return (_ctx, sub) => {
    const user = deps.policy.user(sub);
    if (!user || user.disabled) return undefined;
    return {
      accountId: user.id,
      claims: () => ({ sub: user.id, email: user.email }),
    };
  };
}

type Token = Parameters<NonNullable<Configuration['extraTokenClaims']>>[1];

/**
 * Records on the decision what the signed JWT will say (oidc-provider lib/models/formats/jwt.js:
 * sub is the account or else the client, aud the resource server). Its lifetime is already
 * fixed (exp = iat + expiration, computed before these claims), and the jti assigned.
 */
function recordMinted(
  decision: TokenDecision,
  token: Token,
  m: {
    scopes: readonly string[];
    roles: readonly string[];
    status: StatusListRef;
    person?: { accountId: string; grantId: string | undefined; sourceIat: number | undefined; auth: { acr?: string | undefined; amr?: readonly string[] | undefined; authTime?: number | undefined } | undefined };
  },
): void {
  const { scopes, roles, person } = m;
  decision.minted = {
    ...(decision.exchange && { chain: decision.exchange.chain, exchangedFrom: decision.exchange.exchangedFrom, subjectJti: decision.exchange.subjectJti, actorJti: decision.exchange.actorJti }),
    jti: token.jti,
    sub: person?.accountId ?? token.clientId ?? '',
    clientId: token.clientId ?? '',
    aud: decision.grant.audience,
    scopes,
    roles,
    lifetime: token.expiration,
    statusList: m.status.list,
    statusIdx: m.status.idx,
    ...(person?.sourceIat !== undefined && { sourceIat: person.sourceIat }),
    grantId: person?.grantId || undefined,
    binding: tokenBinding(token),
    ...(decision.cibaRequest !== undefined && { cibaRequest: decision.cibaRequest }),
    // As its acr, amr and auth_time claims say (below): the policy step's context (token-liveness.ts).
    ...(person?.auth?.acr && { acr: person.auth.acr }),
    ...(person?.auth?.amr && { amr: [...person.auth.amr] }),
    ...(typeof person?.auth?.authTime === 'number' && { authTime: person.auth.authTime }),
  };
}

const scopesOf = (token: Token): string[] => (token.scope ?? '').split(' ').filter(Boolean);

/** The `status` claim's list reference for a token being minted (src/statuslist status-lists.ts claim). */
export type StatusClaimSource = () => StatusListRef | Promise<StatusListRef>;
interface StatusListRef {
  /** The list's number (its uri ends with it). */
  readonly list: number;
  /** The token's index in that list. */
  readonly idx: number;
  readonly uri: string;
}

const statusClaim = (ref: StatusListRef) => ({ status: { status_list: { idx: ref.idx, uri: ref.uri } } });

export function createExtraTokenClaims(deps: {
  policy: PolicyStore;
  now: Clock;
  statusList: StatusClaimSource;
  /** GOVAUTH_POP_REQUIRED_SENSITIVITY. */
  popThreshold: Sensitivity | null;
}): NonNullable<Configuration['extraTokenClaims']> {
  return async (ctx, token) => {
    const decision = ctx.state.decision;
    // The token is bound (or not) by now (lib/helpers/grant_common.js applyDpopBinding runs before save).
    assertPossession(tokenBinding(token), {
      snapshot: deps.policy.snapshot(),
      threshold: deps.popThreshold,
      clientId: token.clientId,
      audience: decision?.grant.audience,
      scopes: scopesOf(token),
    });
    if (token.kind === 'ClientCredentials') {
      if (!decision) return undefined;
      const roles = [...decision.grant.roles];
      const status = await deps.statusList();
      recordMinted(decision, token, { scopes: scopesOf(token), roles, status });
      return { roles, ...statusClaim(status) };
    }
    const user = token.accountId ? deps.policy.user(token.accountId) : undefined;
    if (!user) return undefined;
    const exchange = decision?.exchange;
    const source = exchange ? undefined : grantSource(ctx);
    const scopes = scopesOf(token);
    // The roles through which the person holds what this token carries, judged with the grant
    // decided for this request (effective-grant.ts). A token without a resource (a sign-in only)
    // carries no API scope; its roles are looked up the same way at this instant.
    const roles = decision ? rolesFor(decision.grant, scopes) : contributingRoles(heldScopes(deps.policy.snapshot(), user.roles, deps.now()), scopes);
    // A delegated token inherits its subject token's origin: the same source_iat and grant, so
    // whatever revokes the person's token revokes what was exchanged from it (RFC 8693 §4.1).
    const sourceIat = exchange ? exchange.sourceIat : sourceIssuedAt(ctx);
    const grantId = exchange ? exchange.grantId : token.grantId;
    const nowSec = Math.floor(deps.now() / 1000);
    // A refresh (or code exchange) can pass oidc-provider's checks and govauth's policy checks
    // just before `govauth revoke` commits; whatever this instance knows now is applied here, as
    // late as possible, and the source_iat claim covers what it cannot know yet (RFC 9700 §4.14:
    // revocation wins over a concurrent refresh).
    const revoked =
      deps.policy.revocations.check({ iat: nowSec, sourceIat, grantId, userId: user.id, clientId: token.clientId, roles }) ??
      exchange?.chain.map((hop) => deps.policy.revocations.check({ iat: nowSec, clientId: hop.actor })).find(Boolean);
    if (revoked) throw new errors.InvalidGrant(`this grant was revoked (${revoked})`);
    // Only a token for a resource (a decision) is a JWT; a sign-in-only token is opaque and has no status.
    const status = decision && (await deps.statusList());
    const auth = exchange ? { acr: exchange.acr, amr: exchange.amr, authTime: exchange.authTime } : source;
    if (decision && status) recordMinted(decision, token, { scopes, roles, status, person: { accountId: user.id, grantId, sourceIat, auth } });
    // RFC 8693 §4.4: a person's own token names the one agent that may exchange it, when policy
    // lets exactly one act for them on this resource (delegation.ts soleAgentFor).
    // OpenID CIBA: the agent acts for the person on their approval of this request (act-claim.ts),
    // in the token it redeemed the approval for and in every refresh of it (ciba-approval.ts).
    const cibaRequest = decision?.cibaRequest;
    const approval = cibaRequest !== undefined && token.clientId ? approvalClaims(token.clientId, cibaRequest) : undefined;
    const mayAct = !exchange && !approval && decision ? soleAgentFor(deps.policy.snapshot(), user, decision.grant.audience, deps.now()) : undefined;
    return {
      roles,
      ...(typeof sourceIat === 'number' && { source_iat: sourceIat }),
      // Lets introspection find every token of a grant once it is revoked (refresh-token reuse,
      // RFC 7009 revocation of the refresh token, sign-out, `govauth revoke --grant`).
      ...(grantId && { grant_id: grantId }),
      ...(auth?.acr && { acr: auth.acr }),
      ...(auth?.amr && { amr: [...auth.amr] }),
      ...(typeof auth?.authTime === 'number' && { auth_time: auth.authTime }),
      ...(exchange && chainClaims(exchange.chain, exchange.exchangedFrom)),
      ...approval,
      ...(mayAct !== undefined && { may_act: { sub: mayAct } }),
      ...(status && statusClaim(status)),
    };
  };
}

type JwtCustomizer = NonNullable<NonNullable<NonNullable<Configuration['formats']>['customizers']>['jwt']>;

/**
 * oidc-provider's JWT customizer (formats.customizers.jwt), called with the final claims just
 * before signing: records the signed iat and lifetime on the decision. extraTokenClaims runs
 * before oidc-provider stamps them (lib/models/formats/opaque.js), so only here are they exact,
 * and the status list judges revocation cutoffs on the exact iat, as introspection does.
 */
export function createSignedClaimsRecorder(): JwtCustomizer {
  return (ctx, _token, jwt) => {
    const decision = (ctx as KoaContextWithOIDC | undefined)?.state.decision;
    const { iat, exp } = jwt.payload as { iat?: unknown; exp?: unknown };
    if (!decision?.minted || typeof iat !== 'number' || typeof exp !== 'number') return undefined;
    decision.minted = { ...decision.minted, iat, lifetime: exp - iat };
    return undefined;
  };
}

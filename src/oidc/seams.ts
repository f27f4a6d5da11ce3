// Every point where govauth reaches into oidc-provider beyond its public configuration
// (ENGINEERING.md §4.2): the one prototype patch, the ambient request context, and the ordered
// list of middleware that rewrite or observe its responses. The upstream text govauth matches
// is beside it (upstream-strings.ts). An upgrade of oidc-provider re-reads these two files and
// the tests they name.
import { createHash } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import Provider, { errors, type KoaContextWithOIDC, type TokenEndpointGrantContext } from 'oidc-provider';
// Not covered by oidc-provider's semantic versioning (lib/helpers/grants.d.ts): the helpers its
// own grants use, here only for DPoP on govauth's grants. Re-check on every upgrade.
import { checkDpopReplay, checkDpopRequired, validateDpop } from 'oidc-provider/lib/helpers/grants.js';

/** What oidc-provider knows about the request it is serving. */
export type ProtocolContext = KoaContextWithOIDC['oidc'];

/**
 * The request oidc-provider is serving, from its AsyncLocalStorage (`Provider.ctx`), for hooks
 * it calls without one: compareClientSecret below, the adapter's destroy (oidc-adapter.ts).
 */
export function currentOidcContext(): KoaContextWithOIDC | undefined {
  return Provider.ctx;
}

/** `ctx.oidc` of a request oidc-provider routed; undefined when none of its routes matched. */
export function protocolOf(ctx: Context): ProtocolContext | undefined {
  return (ctx as Partial<KoaContextWithOIDC>).oidc;
}

/**
 * Decides whether `presented` is the client's secret. `storedHash` is what client-metadata.ts
 * gave oidc-provider as client_secret: the argon2id hash, never the secret.
 */
export type ClientSecretCheck = (clientId: string, storedHash: string, presented: string, ctx: KoaContextWithOIDC | undefined) => Promise<boolean>;

/**
 * The one prototype patch. oidc-provider compares client_secret with the stored value in
 * constant time (lib/models/client.js compareClientSecret); govauth stores argon2id hashes
 * (client-secrets.ts), so the comparison is replaced. A client without a secret never matches.
 */
export function patchClientSecretCheck(provider: Provider, check: ClientSecretCheck): void {
  provider.Client.prototype.compareClientSecret = async function compareClientSecret(this: { clientId: string; clientSecret?: string }, presented: string) {
    if (!this.clientSecret) return false;
    return check(this.clientId, this.clientSecret, presented, currentOidcContext());
  };
}

/** True the first time (iss, jti) is seen, remembered until `exp` (epoch seconds). */
export type FirstUse = (id: string, iss: string, exp: number) => Promise<boolean>;

/**
 * One use per DPoP proof (RFC 9449 §11.1) and per client assertion (RFC 7523 §3, item 7),
 * decided atomically. oidc-provider's ReplayDetection.unique (lib/models/replay_detection.js)
 * finds, then saves: two requests carrying the same proof or assertion at the same moment, on
 * two instances or interleaved on one, both pass the find. Same id as oidc-provider's
 * (sha256 of iss and jti), so rows it wrote are still honoured; `firstUse` is one insert-if-absent.
 */
export function patchReplayDetection(provider: Provider, firstUse: FirstUse): void {
  provider.ReplayDetection.unique = (iss: string, jti: string, exp: number) => firstUse(createHash('sha256').update(`${iss}${jti}`).digest('base64url'), iss, exp);
}

/** True when this client may poll for this auth_req_id now (CIBA Core §11 slow_down otherwise). */
export type CibaPollCheck = (authReqId: string, clientId: string) => Promise<boolean>;

/**
 * CIBA polling speed (OpenID CIBA Core §7.3 `interval`, §11 slow_down): oidc-provider 9.13 defines
 * SlowDown but never answers it (lib/actions/grants/ciba.js). Its grant handler loads the request
 * through BackchannelAuthenticationRequest.find before any other answer (authorization_pending,
 * expired_token, the token), so a poll that comes too soon is refused there, on the token route only
 * (backchannelResult, which also finds it, runs outside any protocol request).
 */
export function patchCibaPolling(provider: Provider, allowPoll: CibaPollCheck, beforeRedeem: () => void): void {
  const model = provider.BackchannelAuthenticationRequest as unknown as { find: (id: unknown, options?: unknown) => Promise<{ grantId?: unknown } | undefined> };
  const find = model.find.bind(model);
  model.find = async (id: unknown, options?: unknown) => {
    const ctx = currentOidcContext();
    const clientId = ctx?.oidc.route === 'token' ? ctx.oidc.client?.clientId : undefined;
    if (clientId && typeof id === 'string' && !(await allowPoll(id, clientId))) throw new errors.SlowDown();
    const found = await find(id, options);
    // An approved request is consumed right after this find, before the token is resolved: an
    // answer the agent must be able to retry is given here (ciba.ts cibaRedeemCheck).
    if (clientId && found?.grantId) beforeRedeem();
    return found;
  };
}

/**
 * Middleware registered with `provider.use()`, by name. Every name must be given (undefined when
 * that deployment leaves it out), so none is forgotten; where it runs is decided by
 * RESPONSE_WRAPPERS below, not by the caller.
 */
export interface ProviderWrappers {
  readonly responseAudit: Middleware | undefined;
  readonly unknownClientTiming: Middleware;
  readonly tokenErrorCodes: Middleware;
  readonly outboundFetchFailures: Middleware;
  readonly formPostPage: Middleware;
  readonly signOutEndsGrants: Middleware | undefined;
  readonly databaseOutage: Middleware;
  readonly unknownClientFailures: Middleware | undefined;
  readonly endSessionAudit: Middleware | undefined;
  readonly discoveryMetadata: Middleware;
  readonly registrationGate: Middleware;
  readonly tokenIssuanceSpan: Middleware | undefined;
  readonly cibaInterval: Middleware | undefined;
}

/**
 * The order, outermost first. Each of these acts after `await next()`, so an earlier entry sees
 * the response as every later one left it: the audit, first, records exactly what the client
 * receives; rewrites that others must see (a 401 invalid_client, a 503) come before them;
 * the tracing span, last, wraps only the grant handler that mints and signs.
 */
const RESPONSE_WRAPPERS: readonly (readonly [keyof ProviderWrappers, string])[] = [
  ['responseAudit', 'the token response waits for its durable audit record, as the client finally gets it (token-audit.ts)'],
  ['unknownClientTiming', 'an unknown client_id answers as late as a wrong secret, seeing the 401 tokenErrorCodes makes (response-wrappers.ts)'],
  ['tokenErrorCodes', 'RFC 6749 §5.2 codes where oidc-provider answers others (token-error-codes.ts)'],
  ['outboundFetchFailures', "a 401 invalid_client caused by a failed jwks_uri fetch says why (outbound-fetch-errors.ts)"],
  ['formPostPage', "govauth's script-free page instead of oidc-provider's auto-submitting one (form-post-page.ts)"],
  ['signOutEndsGrants', 'a confirmed sign-out revokes every grant of the session, offline ones too (sign-out-revocation.ts)'],
  ['databaseOutage', 'a 500 caused by a database outage becomes a 503 to retry (response-wrappers.ts)'],
  ['unknownClientFailures', "an unknown client's refusal spends the address's failure budget; inside the audit, so a flood is recorded once (token-rate-limit.ts)"],
  ['endSessionAudit', 'sign-out is audited like sign-in (token-audit.ts)'],
  ['discoveryMetadata', "discovery names govauth's own introspection and revocation and the live scopes (discovery-metadata.ts)"],
  ['registrationGate', 'RFC 7591 registration: the address budget and govauth\'s initial access token before, the stored secret never echoed after (client-registration.ts)'],
  ['cibaInterval', 'a CIBA request\'s answer names the poll interval, which slow_down enforces (ciba.ts)'],
  ['tokenIssuanceSpan', 'a span around the grant handler that mints and signs, not the audit write (token-issuance-span.ts)'],
];

/** Registers the wrappers in RESPONSE_WRAPPERS order: the one place that calls `provider.use()`. */
export function useResponseWrappers(provider: Provider, wrappers: ProviderWrappers): void {
  for (const [name] of RESPONSE_WRAPPERS) {
    const middleware = wrappers[name];
    if (middleware) provider.use(middleware);
  }
}

/** A grant type govauth adds to the token endpoint (docs § Custom Grant Types). */
export interface CustomGrant {
  readonly name: string;
  readonly handler: (ctx: TokenEndpointGrantContext) => Promise<void>;
  /** Parameters it reads besides grant_type and client authentication; none may repeat. */
  readonly parameters: readonly string[];
}

/**
 * Registers govauth's grant types, before any client is loaded: clients listing a grant type are
 * validated against the registered ones (and discovery lists them in grant_types_supported).
 */
export function registerGrants(provider: Provider, grants: readonly CustomGrant[]): void {
  for (const g of grants) provider.registerGrantType(g.name, g.handler, g.parameters);
}

/**
 * RFC 9449 for a govauth grant, as oidc-provider's own grants do it: the DPoP proof's key
 * thumbprint to bind the token to (proof validated, replay checked), or undefined when the
 * request carries none and the client does not require one.
 */
export async function dpopThumbprint(ctx: TokenEndpointGrantContext): Promise<string | undefined> {
  const provider = ctx.oidc.provider;
  const dPoP = await validateDpop(provider, ctx);
  if (dPoP) await checkDpopReplay(provider, ctx, dPoP, ctx.oidc.client.clientId);
  checkDpopRequired(provider, ctx, dPoP);
  return dPoP?.thumbprint;
}

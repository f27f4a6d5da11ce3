// The framework-free core: one decision per request, in the order RFC 6750 and RFC 9449 imply —
// credentials (400/401), the token itself (401), its binding to a proof of possession (401),
// its revocation status (401, or 503 when it cannot be learned), then the route's scopes (403).
// `authorize` never rejects: every failure is a Decision the adapters write.
import { verifyAccessToken, type AccessTokenClaims, type Actor } from './access-token.ts';
import { createDiscovery } from './discovery.ts';
import { verifyDpopProof } from './dpop.ts';
import { Refused, invalidToken, refusal, unavailable, type Refusal, type Scheme } from './errors.ts';
import { createIntrospector } from './introspection.ts';
import { createKeyStore } from './jwks.ts';
import { buildMetadata, metadataPath, metadataUrl, type ProtectedResourceMetadata } from './metadata.ts';
import { checkCertificateBinding } from './mtls.ts';
import { resolveOptions, type ResourceServerOptions, type RouteOptions } from './options.ts';
import { ReplayCache } from './replay-cache.ts';
import { extractCredentials, requestUrl, type Credentials, type RequestFacts } from './request.ts';
import { createStatusListClient } from './status-list.ts';
import { createUsageReporter, type UsageStats } from './usage-reporter.ts';

/** What a handler learns about the caller. */
export interface VerifiedToken {
  /** The access token as presented (to call other APIs on the caller's behalf, if allowed). */
  readonly token: string;
  readonly scheme: Scheme;
  readonly claims: AccessTokenClaims;
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  readonly jti: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  /** The agent acting for the subject (RFC 8693 §4.1), if any. */
  readonly act: Actor | undefined;
  readonly mayAct: Actor | undefined;
  readonly cnf: AccessTokenClaims['cnf'];
}

export type Decision =
  | { readonly ok: true; readonly token: VerifiedToken }
  /** `jti` only once the token's signature verified: an unverified jti is the caller's word. */
  | { readonly ok: false; readonly refusal: Refusal; readonly jti: string | null };

export interface Route {
  readonly scopes: readonly string[];
  readonly introspect: boolean;
  readonly name: string | undefined;
}

export interface ResourceServer {
  readonly issuer: string;
  readonly resource: string;
  /** Where adapters serve the metadata (RFC 9728 §3.1), e.g. /.well-known/oauth-protected-resource. */
  readonly metadataPath: string;
  /** The `resource_metadata` URL in challenges (RFC 9728 §5.1). */
  readonly metadataUrl: string;
  /** Usage reporting is on: adapters then report each decision with its response status. */
  readonly reportsUsage: boolean;
  /** Prepares a route's requirements (done once, when the middleware is made). */
  route(options?: RouteOptions): Route;
  authorize(facts: RequestFacts, route: Route): Promise<Decision>;
  /** A bare token (an MCP token verifier): a token bound to DPoP or a certificate is refused. */
  verify(token: string, route: Route): Promise<Decision>;
  metadata(): ProtectedResourceMetadata;
  /** Queues a usage event (no-op without usage reporting). `status` is the response's. */
  recordUsage(decision: Decision, route: Route, request: { readonly method: string; readonly url: string }, status: number): void;
  usageStats(): UsageStats | undefined;
  /** Sends queued usage reports. */
  close(): Promise<void>;
}

const KNOWN_CNF = new Set(['jkt', 'x5t#S256']);

export function createResourceServer(options: ResourceServerOptions): ResourceServer {
  const o = resolveOptions(options);
  const discovery = createDiscovery({ issuer: o.issuer, fetch: o.fetch, timeoutMs: o.timeoutMs, jwksUri: o.jwksUri });
  const keys = createKeyStore({
    jwksUri: o.jwksUri ? () => Promise.resolve(o.jwksUri as string) : async () => (await discovery()).jwksUri,
    fetch: o.fetch,
    now: o.now,
    cacheMaxAge: o.cacheMaxAge,
    cooldown: o.cooldown,
    timeoutMs: o.timeoutMs,
    onError: o.onError,
  });
  const rules = { issuer: o.issuer, audiences: o.audiences, clockTolerance: o.clockTolerance, now: o.now };
  const dpopRules = o.dpop && { ...o.dpop, clockTolerance: o.clockTolerance, replay: new ReplayCache(o.dpop.replayCacheSize), now: o.now };
  const statusLists = o.statusList && createStatusListClient({ ...o.statusList, issuer: o.issuer, keys, fetch: o.fetch, now: o.now, clockTolerance: o.clockTolerance, timeoutMs: o.timeoutMs, onError: o.onError });
  const introspector =
    o.client &&
    createIntrospector({
      endpoint: async () => (await discovery()).introspectionEndpoint ?? `${o.issuer.replace(/\/$/, '')}/token/introspection`,
      clientId: o.client.id,
      clientSecret: o.client.secret,
      fetch: o.fetch,
      now: o.now,
      ...o.introspection,
      timeoutMs: Math.min(o.timeoutMs, 2000),
      onError: o.onError,
    });
  const usage = o.usage && o.client && createUsageReporter({ ...o.usage, clientId: o.client.id, clientSecret: o.client.secret, fetch: o.fetch, onError: o.onError });
  const routeScopes = new Set<string>();
  const challengeBase = { resourceMetadata: metadataUrl(o.resource), dpopAlgorithms: o.dpop?.algorithms, scope: [] as readonly string[] };

  async function checkBinding(claims: AccessTokenClaims, credentials: Credentials, facts: RequestFacts): Promise<void> {
    const cnf: unknown = claims.cnf ?? {};
    // RFC 7800 §3.1: a token bound in a way this server cannot check is refused, not taken as unbound.
    if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf) || Object.keys(cnf).some((k) => !KNOWN_CNF.has(k))) {
      throw invalidToken('The access token is bound by a confirmation method this resource server cannot check');
    }
    const { jkt, 'x5t#S256': x5t } = cnf as Record<string, unknown>;
    if (jkt !== undefined) {
      if (typeof jkt !== 'string') throw invalidToken('The access token key binding is malformed');
      if (!dpopRules) throw invalidToken('The access token is DPoP-bound and DPoP is not accepted here');
      // RFC 9449 §7.2: a DPoP-bound token presented as a Bearer token is refused.
      if (credentials.scheme !== 'DPoP' || credentials.proof === undefined) throw invalidToken('The access token is DPoP-bound: present it with the DPoP scheme and a proof', 'DPoP');
      await verifyDpopProof(credentials.proof, { method: facts.method, url: requestUrl(facts, o.origin, o.trustProxy), accessToken: credentials.token, jkt }, dpopRules);
    } else if (credentials.scheme === 'DPoP') {
      // RFC 9449 §7.1: the proof's key must be the token's; an unbound token has none.
      throw invalidToken('The access token is not DPoP-bound: present it with the Bearer scheme', 'DPoP');
    } else if (o.dpop?.required) {
      throw invalidToken('This resource server accepts DPoP-bound access tokens only', 'DPoP');
    }
    if (x5t !== undefined) {
      if (typeof x5t !== 'string') throw invalidToken('The access token certificate binding is malformed');
      checkCertificateBinding(x5t, facts, { certificateHeader: o.mtls.certificateHeader });
    }
  }

  async function checkStatus(claims: AccessTokenClaims, token: string, route: Route): Promise<void> {
    const status = claims.status;
    const reference = typeof status === 'object' && status !== null ? status.status_list : undefined;
    if (route.introspect && introspector) {
      const answer = await introspector.introspect(token, claims.exp);
      if (answer === 'active') return;
      if (answer === 'inactive') throw invalidToken('The access token is no longer active');
      // govauth is away: the status list answers instead, if the token has one.
      if (reference === undefined || !statusLists) throw unavailable('The access token status cannot be checked');
    }
    if (!statusLists) return;
    if (reference === undefined) {
      if (o.statusList?.required) throw invalidToken('The access token has no status list entry');
      return;
    }
    await statusLists.check(reference);
  }

  function toVerified(claims: AccessTokenClaims, credentials: Credentials): VerifiedToken {
    return {
      token: credentials.token,
      scheme: credentials.scheme,
      claims,
      subject: claims.sub,
      clientId: claims.client_id,
      scopes: scopesOf(claims),
      roles: Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [],
      jti: claims.jti,
      expiresAt: claims.exp,
      act: claims.act,
      mayAct: claims.may_act,
      cnf: claims.cnf,
    };
  }

  async function authorize(facts: RequestFacts, route: Route): Promise<Decision> {
    let credentials: Credentials | undefined;
    let jti: string | null = null;
    try {
      credentials = extractCredentials(facts, dpopRules !== undefined);
      if (!credentials) return { ok: false, refusal: refusal(undefined, challengeBase), jti };
      const claims = await verifyAccessToken(credentials.token, keys, rules);
      jti = claims.jti;
      await checkBinding(claims, credentials, facts);
      await checkStatus(claims, credentials.token, route);
      const granted = scopesOf(claims);
      if (!route.scopes.every((s) => granted.includes(s))) throw new Refused('insufficient_scope', 'The access token lacks a scope this resource needs', credentials.scheme);
      return { ok: true, token: toVerified(claims, credentials) };
    } catch (err) {
      let refused = err instanceof Refused ? err : undefined;
      if (!refused) {
        o.onError(err);
        refused = new Refused('server_error', 'The access token could not be checked');
      }
      return { ok: false, refusal: refusal(refused, { ...challengeBase, scope: route.scopes }, credentials?.scheme), jti };
    }
  }

  return {
    issuer: o.issuer,
    resource: o.resource,
    metadataPath: metadataPath(o.resource),
    metadataUrl: challengeBase.resourceMetadata,
    reportsUsage: usage !== undefined,
    route(options = {}) {
      const scopes = [...(options.scopes ?? [])];
      if (scopes.some((s) => typeof s !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) throw new TypeError('scopes must be RFC 6749 §3.3 scope tokens');
      if (options.introspect && !introspector) throw new TypeError('introspect: true needs client: the resource server’s own credentials');
      for (const s of scopes) routeScopes.add(s);
      return { scopes, introspect: options.introspect ?? false, name: options.route };
    },
    authorize,
    verify: (token, route) => authorize({ method: 'POST', url: '/', headers: { authorization: [`Bearer ${token}`] } }, route),
    metadata: () =>
      buildMetadata({
        resource: o.resource,
        issuer: o.issuer,
        scopes: o.scopesSupported ?? [...routeScopes],
        dpopAlgorithms: o.dpop?.algorithms,
        dpopRequired: o.dpop?.required ?? false,
        mtls: o.mtls.announced,
        resourceName: o.resourceName,
      }),
    recordUsage(decision, route, req, status) {
      if (!usage) return;
      const q = req.url.search(/[?#]/);
      usage.record({
        jti: decision.ok ? decision.token.jti : decision.jti,
        route: route.name ?? `${req.method} ${q === -1 ? req.url : req.url.slice(0, q)}`,
        decision: decision.ok ? 'allowed' : 'refused',
        status,
        at: o.now(),
        ...(route.scopes.length ? { scope: route.scopes } : {}),
        ...(decision.ok ? {} : { reason: decision.refusal.error ? `${decision.refusal.error}: ${decision.refusal.description}` : 'no_token' }),
      });
    },
    usageStats: () => usage?.stats(),
    close: async () => {
      await usage?.close();
    },
  };
}

// RFC 9068 §2.2.3 / RFC 6749 §3.3: space-delimited.
function scopesOf(claims: AccessTokenClaims): string[] {
  return typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
}

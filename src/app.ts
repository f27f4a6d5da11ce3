// createApp(deps): composes the HTTP application. No I/O at import time, no globals: every
// dependency arrives in `deps` from the composition root (src/main.ts) or a test.
import Koa from 'koa';
import { passkeyPages } from './account/passkey-pages.ts';
import { passkeyAssets } from './pages/passkey-assets.ts';
import { rpIdFor } from './config/webauthn-config.ts';
import { accountRoutes } from './account/account-routes.ts';
import { adminApi, adminBodyLimits } from './admin/admin-api.ts';
import { consoleRoutes } from './console/console-routes.ts';
import { CONSOLE_PATH } from './console/console-session.ts';
import type { Config } from './config/load-config.ts';
import { readsClientCertificates } from './config/tls-config.ts';
import type { Database } from './db/database.ts';
import { databaseAnswers } from './db/health.ts';
import type { SecretVerifier } from './governance/client-secrets.ts';
import { createLoginThrottle } from './governance/login-throttle.ts';
import type { PasswordVerifier } from './governance/passwords.ts';
import type { SecurityEventSink } from './governance/security-events.ts';
import type { SuspiciousUse } from './governance/suspicious-use.ts';
import type { AccessRequestEvents } from './governance/access-request-events.ts';
import { createFormTokens } from './interactions/csrf.ts';
import { interactionRoutes } from './interactions/interaction-routes.ts';
import { createViews, type Views } from './pages/views.ts';
import { createAccessTokenChecker } from './introspection/access-token-check.ts';
import { tokenEndpoints } from './introspection/token-endpoints.ts';
import { revokeGrant } from './governance/revocations.ts';
import type { AuditWriter } from './audit/audit-writer.ts';
import { endSessionAudit, tokenEndpointAudit } from './oidc/token-audit.ts';
import type { RefusalSummary } from './audit/refusal-summary.ts';
import type { PolicyStore } from './governance/policy-store.ts';
import { bodyLimit, MAX_BODY_BYTES } from './http/body-limit.ts';
import { MAX_USAGE_BODY_BYTES, RESOURCE_USAGE_PATH, resourceUsage } from './introspection/resource-usage.ts';
import type { StatusLists } from './statuslist/status-lists.ts';
import { statusListRoutes } from './statuslist/status-list-routes.ts';
import { errorBoundary } from './http/error-boundary.ts';
import { healthRoutes } from './http/health-routes.ts';
import { auditKeysRoute } from './http/audit-keys-route.ts';
import { auditPublicKeys } from './keys/audit-key.ts';
import { requestContext, trustProxyHeaders } from './http/request-context.ts';
import { clientCertificate } from './http/client-certificate.ts';
import { securityHeaders } from './http/security-headers.ts';
import type { KeyringStore } from './keys/keyring-store.ts';
import { createProviderHost } from './oidc/provider-host.ts';
import type { MasterKey } from './keys/master-key.ts';
import type { Logger } from './log/logger.ts';
import type { RateLimiter } from './ratelimit/rate-limiter.ts';
import type { ClientAuthFailureBudget } from './ratelimit/client-auth-failures.ts';
import { cookieKeys, createProvider } from './oidc/create-provider.ts';
import { createCibaApprovals } from './oidc/ciba.ts';
import { unknownClientFailures } from './oidc/token-rate-limit.ts';
import { createInteractionHost } from './oidc/interaction-host.ts';
import { createAccountSessions } from './oidc/account-session.ts';
import { createProtocolTokens } from './oidc/protocol-tokens.ts';
import { requestSpan } from './tracing/request-span.ts';
import { tokenIssuanceSpan } from './oidc/token-issuance-span.ts';
import type { Tracing } from './tracing/tracing.ts';
import { protectedMetricsRoute, registrySource, requestMetrics, type MetricsSource } from './metrics/http-metrics.ts';
import type { Metrics } from './metrics/metrics.ts';
import { sendError } from './http/error-responses.ts';
import type { Clock } from './time/clock.ts';

export interface AppDeps {
  readonly config: Config;
  /** The resolved issuer (config.issuer, or derived from the listening address). */
  readonly issuer: string;
  readonly log: Logger;
  readonly db: Database;
  readonly policy: PolicyStore;
  /** The signing keys, kept current across rotations. */
  readonly keys: KeyringStore;
  readonly master: MasterKey;
  readonly verifier: SecretVerifier;
  readonly limiter: RateLimiter;
  /** Failed client authentications per source address; also inside `verifier`. */
  readonly clientAuthFailures: ClientAuthFailureBudget;
  readonly passwords: PasswordVerifier;
  readonly events: SecurityEventSink;
  readonly audit: AuditWriter;
  /** Summarises floods of unauthenticated token refusals per address (refusal-summary.ts). */
  readonly refusals: RefusalSummary;
  /** OpenTelemetry spans (src/tracing); NO_TRACING when off. */
  readonly tracing: Tracing;
  readonly metrics: Metrics;
  /** Token status lists: the status claim of each access token, and the lists (src/statuslist). */
  readonly statusLists: StatusLists;
  /** New source networks and rate anomalies of clients' tokens (src/governance/suspicious-use.ts). */
  readonly suspiciousUse: SuspiciousUse;
  /** What GET /metrics on the main port answers (only with GOVAUTH_METRICS_TOKEN); this process's registry by default. */
  readonly metricsSource?: MetricsSource;
  /** Access request lifecycle events, for notifiers (access-request-events.ts). */
  readonly accessRequests: AccessRequestEvents;
  readonly now: Clock;
}

export interface GovauthApp {
  readonly koa: Koa;
  readonly views: Views;
}

async function databaseReachable(db: Database, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      databaseAnswers(db),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export function createApp(deps: AppDeps): GovauthApp {
  const { config, log } = deps;
  const views = createViews();
  // Introspection and token exchange judge access tokens with the same checker.
  const checker = createAccessTokenChecker({ keyring: deps.keys.current(), issuer: deps.issuer, policy: deps.policy, now: deps.now });
  // Built again whenever the signing keys change (provider-host.ts).
  const buildProvider = () => {
    const provider = createProvider({
      ...deps,
      keyring: deps.keys.current(),
      views,
      checker,
      statusList: () => deps.statusLists.claim(),
      // Where each runs is decided in one list (oidc/seams.ts).
      wrappers: {
        // Token responses wait for their durable audit record (and become 503 without one); the
        // status lists and the suspicious-use checks learn each token once its record is durable.
        responseAudit: tokenEndpointAudit(
          deps.audit,
          log,
          deps.refusals,
          deps.metrics,
          (detail) => deps.statusLists.recorded(detail),
          (use) => deps.suspiciousUse.observe(use),
        ),
        unknownClientFailures: unknownClientFailures(deps.clientAuthFailures),
        endSessionAudit: endSessionAudit(deps.events, log), // sign-out is audited like sign-in
        // Not registered at all when tracing is off.
        tokenIssuanceSpan: deps.tracing.enabled ? tokenIssuanceSpan(deps.tracing, deps.keys) : undefined,
      },
      // Record grant revocations made by the protocol (refresh-token reuse, code replay,
      // sign-out) so access tokens from the grant turn inactive everywhere.
      async onGrantRevoked(grantId, reason) {
        await revokeGrant(deps.db, { grantId, actor: 'system', reason }, deps.now());
        await deps.policy.sync();
        log.info('grant revoked', { grantId, reason });
      },
    });
    trustProxyHeaders(provider, config); // the same client address as this app's (ctx.ip)
    return provider;
  };
  const host = createProviderHost(buildProvider, deps.keys, log);

  // oidc-provider runs on this app's ctx (it is composed in, not mounted as a separate app), so
  // this app must sign cookies with the provider's keys and trust the same proxy headers.
  const koa = new Koa({ keys: cookieKeys(deps.master) });
  trustProxyHeaders(koa, config); // the one place that decides ctx.ip
  koa.on('error', (err: Error) => log.debug('connection error', { err: err.message }));

  koa.use(requestContext({ log, trustProxy: config.trustProxy, accessLog: config.accessLog }));
  // Beside ctx.ip's trust: a Client-Cert header is honoured only from a trusted proxy, removed otherwise.
  koa.use(clientCertificate({ enabled: readsClientCertificates(config.tls), trustProxy: config.trustProxy, log }));
  // After the request id exists; not registered at all when tracing is off.
  if (deps.tracing.enabled) koa.use(requestSpan(deps.tracing));
  koa.use(requestMetrics(deps.metrics));
  koa.use(securityHeaders({ https: deps.issuer.startsWith('https:') }));
  koa.use(errorBoundary(log, deps.metrics));
  // Never on the main port without the token (http-metrics.ts); the metrics listener is apart.
  if (config.metrics.token) koa.use(protectedMetricsRoute(config.metrics.token, deps.metricsSource ?? registrySource(deps.metrics)));
  // Usage reports and admin routes that declare one (route.ts maxBodyBytes) have their own limit; the
  // console answers an oversized form with its own page (console-routes.ts), each action at its own limit.
  const adminLimit = adminBodyLimits();
  koa.use(bodyLimit(MAX_BODY_BYTES, (ctx) => (ctx.path === RESOURCE_USAGE_PATH ? MAX_USAGE_BODY_BYTES : adminLimit(ctx.method, ctx.path)), `${CONSOLE_PATH}/`));
  koa.use(
    healthRoutes(async () => {
      const database = await databaseReachable(deps.db, 1000);
      const keys = Boolean(deps.keys.current().signingKid());
      return { ok: database && keys, checks: { database: database ? 'ok' : 'unreachable', signing_key: keys ? 'ok' : 'missing' } };
    }),
  );
  // Every URL the provider generates (discovery, redirects) derives from the request's host;
  // pin it to the issuer's so metadata always matches the issuer (RFC 8414 §3.3), however the
  // request reached us (load balancer address, health-check IP, forged Host header).
  const issuerHost = new URL(deps.issuer).host;
  koa.use(async (ctx, next) => {
    ctx.request.header.host = issuerHost;
    delete ctx.request.header['x-forwarded-host'];
    await next();
  });
  // RFC 8414 metadata is the same document as OpenID discovery (same issuer, same endpoints).
  koa.use(async (ctx, next) => {
    if (ctx.path === '/.well-known/oauth-authorization-server') ctx.path = '/.well-known/openid-configuration';
    await next();
  });
  koa.use(auditKeysRoute(() => auditPublicKeys(deps.db), deps.now));
  koa.use(statusListRoutes(deps.statusLists));
  koa.use(async (ctx, next) => {
    if (ctx.path !== '/assets/govauth.css' || ctx.method !== 'GET') {
      await next();
      return;
    }
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = views.stylesheet;
  });
  koa.use(passkeyAssets());
  // Passkeys: credentials are scoped to the RP id and every ceremony must come from the issuer's origin.
  const rp = { rpId: rpIdFor(deps.issuer, config.webauthn), origin: new URL(deps.issuer).origin };
  koa.use(
    interactionRoutes({
      rp,
      interactions: createInteractionHost(host.current),
      config,
      db: deps.db,
      policy: deps.policy,
      master: deps.master,
      views,
      forms: createFormTokens(deps.master.derive('interaction-form-tokens')),
      passwords: deps.passwords,
      throttle: createLoginThrottle(deps.db, { maxFailures: config.signIn.maxFailures, lockoutSeconds: config.signIn.lockoutSeconds }),
      limiter: deps.limiter,
      events: deps.events,
      log,
      now: deps.now,
      metrics: deps.metrics,
    }),
  );
  const accountForms = createFormTokens(deps.master.derive('account-form-tokens'));
  // A signed-in person's passkeys (/account/passkeys), ahead of the other account pages.
  koa.use(
    passkeyPages({
      sessions: createAccountSessions(host.current, deps.issuer),
      config,
      db: deps.db,
      policy: deps.policy,
      views,
      forms: accountForms,
      rp,
      events: deps.events,
      log,
      now: deps.now,
      metrics: deps.metrics,
    }),
  );
  // A signed-in person's own pages: the standing delegations they give agents and withdraw.
  koa.use(
    accountRoutes({
      sessions: createAccountSessions(host.current, deps.issuer),
      issuer: deps.issuer,
      config,
      db: deps.db,
      policy: deps.policy,
      views,
      forms: accountForms,
      accessRequests: deps.accessRequests,
      master: deps.master,
      passwords: deps.passwords,
      throttle: createLoginThrottle(deps.db, { maxFailures: config.signIn.maxFailures, lockoutSeconds: config.signIn.lockoutSeconds }),
      log,
      now: deps.now,
      metrics: deps.metrics,
      ciba: config.ciba.enabled ? createCibaApprovals({ provider: host.current, db: deps.db, policy: deps.policy, log, now: deps.now }) : undefined,
    }),
  );
  koa.use(adminApi({ ...deps, keyring: deps.keys.current() }));
  // The admin console: pages over the admin API's own operations, for govauth-admin and govauth-auditor.
  koa.use(
    consoleRoutes({
      ...deps,
      keyring: deps.keys.current(),
      sessions: createAccountSessions(host.current, deps.issuer, 'console'),
      views,
      forms: createFormTokens(deps.master.derive('console-form-tokens')),
      checker,
      tokenEndpoint: () => host.current().urlFor('token'),
    }),
  );
  const protocolTokens = createProtocolTokens(host.current);
  koa.use(
    tokenEndpoints({
      tokens: protocolTokens,
      db: deps.db,
      policy: deps.policy,
      verifier: deps.verifier,
      assertions: { issuer: deps.issuer, firstUse: (iss, jti, exp) => protocolTokens.firstUseOfAssertion(iss, jti, exp), failures: deps.clientAuthFailures, now: deps.now },
      checker,
      keyring: deps.keys.current(),
      issuer: deps.issuer,
      events: deps.events,
      metrics: deps.metrics,
      now: deps.now,
    }),
  );
  koa.use(
    resourceUsage({
      policy: deps.policy,
      verifier: deps.verifier,
      audit: deps.audit,
      limiter: deps.limiter,
      perMinute: config.rateLimits.resourceUsagePerClient,
      knownToken: (jti) => deps.statusLists.knownToken(jti),
      log,
      now: deps.now,
    }),
  );
  koa.use(host.middleware);
  koa.use((ctx) => sendError(ctx, 404, 'not_found', `no route for ${ctx.method} ${ctx.path}`));
  return { koa, views };
}

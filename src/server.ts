// Starts a govauth server from a Config: migrations, database, keys, policy, HTTP. Used by
// src/main.ts (the process entry) and by integration tests, which start real servers on
// ephemeral ports with their own databases.
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createApp, type GovauthApp } from './app.ts';
import { gracefulDrain } from './http/graceful-drain.ts';
import type { Config } from './config/load-config.ts';
import { readsClientCertificates } from './config/tls-config.ts';
import { openDatabase, type Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { systemClock } from './time/clock.ts';
import { unavailableBody } from './http/error-responses.ts';
import { latestChangeId, pruneChanges } from './db/change-feed.ts';
import { poolStats } from './db/health.ts';
import { registerInstance, type InstancePresence } from './db/instance-registry.ts';
import { rateLimitCounters } from './db/rate-limit-counters.ts';
import { createSecretVerifier } from './governance/client-secrets.ts';
import { pruneLoginThrottle } from './governance/login-throttle.ts';
import { createPasswordVerifier } from './governance/passwords.ts';
import type { SecurityEventSink } from './governance/security-events.ts';
import { createAuditWriter, type AuditWriter } from './audit/audit-writer.ts';
import { auditSecurityEvents } from './audit/security-event-records.ts';
import { REQUEST_PATH_ALONGSIDE } from './audit/request-path-alongside.ts';
import { createRefusalSummary, type RefusalSummary } from './audit/refusal-summary.ts';
import { createPolicyStore, type PolicyStore } from './governance/policy-store.ts';
import { createKeyringStore, type KeyringStore } from './keys/keyring-store.ts';
import { rotateSigningKey } from './keys/key-rotation.ts';
import { createRateLimiter, pruneRateLimitCounters, type RateLimiter } from './ratelimit/rate-limiter.ts';
import { clientAuthFailureBudget } from './ratelimit/client-auth-failures.ts';
import { pruneRevocations } from './governance/revocations.ts';
import { expireRoleGrants } from './governance/role-grants.ts';
import { expireScopeGrants } from './governance/scope-grants.ts';
import { lapseAccessRequests } from './governance/access-requests.ts';
import { expireCibaRequests } from './governance/ciba-requests.ts';
import { createAccessRequestEvents, type AccessRequestEvents } from './governance/access-request-events.ts';
import { ensureAdminModel } from './governance/admin-model.ts';
import { pruneAuditTrail } from './audit/audit-retention.ts';
import { checkpointIssuer } from './audit/audit-checkpoint.ts';
import { startCheckpointWriter, type CheckpointWriter } from './audit/checkpoint-writer.ts';
import { currentAuditKey } from './keys/audit-key.ts';
import { loadMasterKey } from './keys/master-key.ts';
import { checkMasterKey, ensureSigningKeys } from './keys/signing-keys.ts';
import type { Logger } from './log/logger.ts';
import { pruneExpiredOidcRows } from './db/oidc-storage.ts';
import { pruneTokenRollup, TOKEN_ROLLUP_KEEP_MS } from './db/token-rollup.ts';
import { pruneEndedStandingDelegations } from './governance/standing-delegations.ts';
import { NO_TRACING, shutdownTracing, type Tracing } from './tracing/tracing.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import type { MetricsSource } from './metrics/http-metrics.ts';
import { countRefusals } from './metrics/rate-limit-metrics.ts';
import { CLIENT_NETWORK_KEEP_MS, clientNetworks, pruneClientNetworks } from './db/client-networks.ts';
import { createSuspiciousUse, type SuspiciousUse } from './governance/suspicious-use.ts';
import { createNotificationMetrics } from './metrics/notification-metrics.ts';
import { countNotifications, pruneNotificationOutbox } from './db/notification-outbox.ts';
import { createJwtSigner } from './keys/jwt-signer.ts';
import { startNotificationDeliverer, type NotificationDeliverer } from './notifications/notification-deliverer.ts';
import { createRequestSigner } from './notifications/webhook-signing.ts';
import { emitNotification } from './notifications/notification-event.ts';
import { createStatusLists, type StatusListOptions, type StatusLists } from './statuslist/status-lists.ts';

export interface RunningServer {
  readonly url: string;
  readonly issuer: string;
  readonly app: GovauthApp;
  readonly db: Database;
  readonly policy: PolicyStore;
  readonly audit: AuditWriter;
  readonly refusals: RefusalSummary;
  readonly limiter: RateLimiter;
  readonly http: Server;
  /** Spans for requests, database work, signing and audit commits; off without an OTLP endpoint. */
  readonly tracing: Tracing;
  /** This instance's row in the instance registry (what commands wait on). */
  readonly instance: InstancePresence;
  /** This process's metrics registry and instruments (src/metrics/). */
  readonly metrics: Metrics;
  /** The token status lists this instance serves (src/statuslist). */
  readonly statusLists: StatusLists;
  /** New source networks and rate anomalies of clients' tokens (src/governance/suspicious-use.ts). */
  readonly suspiciousUse: SuspiciousUse;
  readonly migrationsApplied: readonly string[];
  readonly createdKid: string | undefined;
  /** Periodic signed audit checkpoints, when GOVAUTH_AUDIT_CHECKPOINT_EVERY is set. */
  readonly checkpoints: CheckpointWriter | undefined;
  /** Access request lifecycle events on this instance, for notifiers to subscribe to. */
  readonly accessRequests: AccessRequestEvents;
  /** Delivers the notification outbox to GOVAUTH_WEBHOOK_URL; undefined when none is set. */
  readonly notifications: NotificationDeliverer | undefined;
  close(): Promise<void>;
}

const MAINTENANCE_INTERVAL_MS = 5 * 60_000;
// Expired role grants are already ignored by policy at the exact instant; this sweep deletes
// them and records each expiry in the audit trail.
const EXPIRY_SWEEP_MS = 30_000;
const KEY_ROTATION_CHECK_MS = 15 * 60_000;
const CHANGE_RETENTION_MS = 24 * 3600_000;
// Delivered notifications stay listed this long (`govauth notifications list`); failed ones stay;
// without a webhook URL, undelivered ones are kept this long too (notification-outbox.ts).
const NOTIFICATION_RETENTION_MS = 7 * 86_400_000;
// Within main.ts's 10 s shutdown budget, after the drain.
const TRACING_FLUSH_MS = 3000;

export interface ServerOptions {
  readonly now?: () => number;
  /** Where security events go; the log by default. */
  readonly events?: SecurityEventSink;
  /**
   * Replaces the audit writer. Only for the benchmark that measures what the audit trail costs
   * (bench/lib/server-without-audit.ts); there is deliberately no setting that turns it off.
   */
  readonly audit?: AuditWriter;
  /** Replaces the tracing built from config.tracing (tests: an in-memory exporter). The caller shuts it down. */
  readonly tracing?: Tracing;
  /**
   * What GET /metrics on the main port answers (GOVAUTH_METRICS_TOKEN): this process's
   * registry by default; a cluster worker passes the whole group's (cluster-metrics.ts).
   */
  readonly metricsSource?: (metrics: Metrics) => MetricsSource;
  /** Token status list sizes (tests use small blocks and lists); production uses the defaults. */
  readonly statusList?: StatusListOptions;
  /** Milliseconds between outbox polls; false: none (tests call notifications.deliverDue()). */
  readonly notificationPollMs?: number | false;
  /**
   * How long shutdown waits with no request in flight before it stops listening (graceful-drain.ts).
   * Tests that stop their own server pass 0: nobody else routes to it.
   */
  readonly drainQuietMs?: number;
}

/**
 * Plain http, or https when govauth terminates TLS itself (GOVAUTH_TLS_CERT/KEY). With client
 * authorities configured the handshake asks for a client certificate but accepts a connection
 * without one or with one it cannot verify (RFC 8705 §2: browsers and secret-based clients are
 * unaffected); each request's certificate is judged where it is used (client-certificates.ts).
 */
function listener(config: Config, handler: RequestListener): Server {
  const tls = config.tls.listener;
  if (!tls) return createServer(handler);
  // Requested, never required, and judged per request (oidc/mutual-tls.ts). With a client CA
  // the request names it, so browsers only offer certificates it issued.
  const clientCa = config.tls.clientCa;
  const mutual = readsClientCertificates(config.tls) && { requestCert: true, rejectUnauthorized: false, ...(clientCa !== undefined && { ca: clientCa }) };
  return createHttpsServer({ cert: tls.cert, key: tls.key, ...mutual }, handler);
}

export async function startServer(config: Config, log: Logger, options: ServerOptions = {}): Promise<RunningServer> {
  const now = options.now ?? systemClock;
  const migrationsApplied = await migrate(config.database);
  // OpenTelemetry's SDK and exporter load only when tracing is on (create-tracing.ts).
  const tracing = options.tracing ?? (config.tracing.enabled ? (await import('./tracing/create-tracing.ts')).createTracing(config.tracing) : NO_TRACING);
  const ownTracing = !options.tracing;
  const db = await openDatabase(config.database, { tracing, now });
  const metrics = createMetrics();
  let policy: PolicyStore | undefined;
  let keyStore: KeyringStore | undefined;
  let limiter: RateLimiter | undefined;
  let presence: InstancePresence | undefined;
  let lists: { close(): void } | undefined;
  let deliverer: NotificationDeliverer | undefined;
  try {
    const master = loadMasterKey(config.masterKey, log, true);
    await checkMasterKey(db, master);
    await ensureAdminModel(db);
    const { created } = await ensureSigningKeys(db, master, now());
    await currentAuditKey(db, master, now()); // published from the first start (audit-key.ts)
    const store = await createPolicyStore({ db, pollMs: config.policyPollMs, log, now });
    policy = store;
    const keys = await createKeyringStore({ db, master, onChanges: (listener) => store.onChange(listener), now, log });
    keyStore = keys;
    const audit = options.audit ?? createAuditWriter(db, log, { alongside: REQUEST_PATH_ALONGSIDE, tracing, now, onBatch: (seconds, records, ok) => metrics.auditCommit(seconds, records, ok) });
    const refusals = createRefusalSummary({ writer: audit, log, now });
    const limits = countRefusals(createRateLimiter({ counters: rateLimitCounters(db), log, now }), metrics);
    limiter = limits;
    const clientAuthFailures = clientAuthFailureBudget(limits, config.rateLimits.clientAuthFailuresPerAddress, log);

    // Listen first: without GOVAUTH_ISSUER the issuer is derived from the bound port (tests and
    // development use port 0). Requests that arrive in the meantime get 503.
    const http = listener(config, (_req, res) => {
      res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1' }).end(JSON.stringify(unavailableBody()));
    });
    // Slowloris protection; keep-alive longer than typical load-balancer idle timeouts.
    http.headersTimeout = 10_000;
    http.requestTimeout = 30_000;
    http.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.port, config.host, () => resolve());
    });
    const { port } = http.address() as AddressInfo;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const scheme = config.tls.listener ? 'https' : 'http';
    const issuer = config.issuer ?? `${scheme}://localhost:${port}`;
    const statusLists = await createStatusLists({
      db,
      policy: store,
      keyring: keys.current(),
      issuer,
      ttlSeconds: config.statusListTtl,
      accessTokenTtl: config.accessTokenTtl,
      log,
      now,
      options: options.statusList,
    });
    lists = statusLists;
    const events = options.events ?? auditSecurityEvents(audit, log);
    const accessRequests = createAccessRequestEvents((err, e) => log.warn('an access request event subscriber failed', { err, type: e.type, request: e.requestId }));
    // Each use of a rotated-out secret during its grace (at most once a minute per client): which
    // deployments still hold it, for the operator to update before the grace ends.
    const onPreviousSecret = (clientId: string, ip: string | undefined, validUntil: number): void =>
      void events
        .record({ type: 'client.old_secret_used', actor: clientId, clientId, ip, detail: { valid_until: new Date(validUntil).toISOString() } })
        .catch((err: unknown) => log.error('audit record of a previous secret in use was lost', { err: (err as Error).message, clientId }));
    const suspiciousUse = createSuspiciousUse({
      config: config.suspiciousUse,
      networks: clientNetworks(db),
      record: (input) => audit.record(input),
      notify: (event) => emitNotification(db, event, log),
      signals: metrics,
      log,
      now,
      instance: () => presence?.id, // registered below, before the first request is served
    });
    const app = createApp({
      config,
      issuer,
      log,
      db,
      policy: store,
      keys,
      master,
      verifier: createSecretVerifier({ failures: clientAuthFailures, onPreviousSecret }),
      limiter: limits,
      clientAuthFailures,
      passwords: await createPasswordVerifier(),
      events,
      audit,
      refusals,
      tracing,
      metrics,
      metricsSource: options.metricsSource?.(metrics),
      statusLists,
      suspiciousUse,
      accessRequests,
      now,
    });
    // Registered before it serves. It reports what every subscriber to the feed (keys, provider)
    // has applied, so a change it reports is in force for the requests it answers.
    const instance = await registerInstance({ db, applied: () => store.applied(), log });
    presence = instance;
    store.onApplied(() => instance.report());
    metrics.bind({
      pool: () => poolStats(db),
      signingKeyActivatedAt() {
        const keyring = keys.current();
        const kid = keyring.signingKid();
        return keyring.keys.find((k) => k.kid === kid)?.activateAt ?? now();
      },
      now,
      latestChange: () => latestChangeId(db),
      appliedChange: () => store.applied(),
      instance: () => instance.id,
      isKnownClient: (id) => store.snapshot().clients.has(id),
    });
    const notificationMetrics = createNotificationMetrics(metrics.registry, () => countNotifications(db));
    deliverer =
      config.webhook &&
      startNotificationDeliverer({
        db,
        config: config.webhook,
        sign: createRequestSigner(config.webhook, createJwtSigner(keys.current())),
        issuer,
        log,
        now,
        metrics: notificationMetrics,
        ca: config.outboundFetch.ca,
        pollMs: options.notificationPollMs,
      });
    const drain = gracefulDrain(http, options.drainQuietMs);
    http.removeAllListeners('request');
    http.on('request', drain.wrap(app.koa.callback()));

    const maintenance = setInterval(() => {
      Promise.all([
        pruneExpiredOidcRows(db, new Date(now())),
        pruneChanges(db, CHANGE_RETENTION_MS, now()),
        pruneLoginThrottle(db, config.signIn.lockoutSeconds * 1000, now()),
        pruneRevocations(db, now()),
        pruneRateLimitCounters(db, now()),
        pruneNotificationOutbox(db, now(), NOTIFICATION_RETENTION_MS, config.webhook !== undefined),
        pruneTokenRollup(db, Math.floor((now() - TOKEN_ROLLUP_KEEP_MS) / 60_000)),
        pruneEndedStandingDelegations(db, now()),
        pruneClientNetworks(db, new Date(now() - CLIENT_NETWORK_KEEP_MS)),
        Promise.resolve(store.revocations.prune(now())),
      ]).catch((err: unknown) =>
        log.warn('maintenance failed; will retry', { err }),
      );
    }, MAINTENANCE_INTERVAL_MS);
    maintenance.unref();
    const sweeper = setInterval(() => {
      Promise.all([expireRoleGrants(db, new Date(now())), expireScopeGrants(db, new Date(now()))])
        .then(async ([roles, scopes]) => {
          if (roles || scopes) await store.sync();
        })
        .catch((err: unknown) => log.warn('role-grant expiry sweep failed; will retry', { err }));
      // Pending requests past their time read as lapsed already (access-request-views.ts); this closes them and records each.
      lapseAccessRequests(db, now(), accessRequests).catch((err: unknown) => log.warn('access request lapse sweep failed; will retry', { err }));
      // CIBA requests nobody decided: oidc-provider already answers expired_token; this records each (ciba.expired).
      if (config.ciba.enabled) expireCibaRequests(db, now()).catch((err: unknown) => log.warn('CIBA expiry sweep failed; will retry', { err }));
      if (config.auditRetentionDays > 0) {
        const at = now();
        pruneAuditTrail(db, new Date(at - config.auditRetentionDays * 86_400_000), { actorType: 'system', actor: 'retention' }, { floorDays: config.auditPruneFloorDays, now: at }).catch((err: unknown) =>
          log.warn('audit retention pruning failed; will retry', { err }),
        );
      }
    }, EXPIRY_SWEEP_MS);
    sweeper.unref();
    // Scheduled key rotation: any instance may find it due; the change-feed lock lets one win.
    const rotation = setInterval(() => {
      if (!config.keys.rotationDays) return;
      rotateSigningKey(db, master, { prepublishSeconds: config.keys.prepublishSeconds, onlyIfOlderThanMs: config.keys.rotationDays * 86_400_000, now: now() }, { actorType: 'system', actor: 'scheduled-rotation' })
        .then(async (kid) => {
          if (!kid) return;
          log.info('scheduled key rotation', { kid, activatesInSeconds: config.keys.prepublishSeconds });
          await store.sync();
        })
        .catch((err: unknown) => log.warn('scheduled key rotation failed; will retry', { err }));
    }, KEY_ROTATION_CHECK_MS);
    rotation.unref();
    const checkpoints: CheckpointWriter | undefined = config.auditCheckpoint && startCheckpointWriter({ db, master, config: config.auditCheckpoint, issuer: checkpointIssuer(config), log, now });

    return {
      url: `${scheme}://${host}:${port}`,
      issuer,
      app,
      db,
      policy: store,
      audit,
      refusals,
      limiter: limits,
      http,
      tracing,
      instance,
      metrics,
      statusLists,
      suspiciousUse,
      migrationsApplied,
      createdKid: created,
      checkpoints,
      accessRequests,
      notifications: deliverer,
      async close() {
        clearInterval(maintenance);
        clearInterval(sweeper);
        clearInterval(rotation);
        await checkpoints?.close();
        await drain.close();
        await deliverer?.close(); // an attempt under way ends and is recorded; the rest stay in the outbox
        await instance.close(); // commands stop waiting for it
        await limits.close();
        await suspiciousUse.settled(); // its records go through the audit writer
        await refusals.close(); // its summaries go through the audit writer
        await audit.close(); // every acknowledged record is on disk before the database closes
        statusLists.close();
        keys.close();
        await store.close();
        await db.close();
        // Last, so the spans of everything above reach the collector.
        if (ownTracing && (await shutdownTracing(tracing, TRACING_FLUSH_MS)) !== 'flushed') log.warn('some trace spans could not be exported at shutdown');
      },
    };
  } catch (err) {
    await deliverer?.close();
    lists?.close();
    await presence?.close();
    keyStore?.close();
    await limiter?.close();
    await policy?.close();
    await db.close();
    if (ownTracing) await shutdownTracing(tracing, TRACING_FLUSH_MS);
    throw err;
  }
}

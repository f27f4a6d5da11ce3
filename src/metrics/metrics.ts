// The Prometheus metrics of one govauth process: one Registry (never prom-client's global one)
// created by the composition root (src/server.ts) and handed to the seams that count. Hot paths
// only increment counters and observe histograms; gauges that need a look at live state (pool,
// signing key, change feed) are computed at scrape time (`collect`), off the request path.
//
// Every label value is bounded: route templates (route-label.ts), grant types from a fixed
// list, client ids only of registered clients (a random client_id flood lands in "unknown"),
// error codes that match the OAuth error syntax (RFC 6749 §5.2), reasons from govauth's own
// code. An unbounded label would let any caller grow the registry without limit.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Grant types govauth may serve (RFC 6749 §4, RFC 8628, RFC 8693, OIDC CIBA); anything else is "other". */
const GRANT_TYPES = new Set([
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:ietf:params:oauth:grant-type:token-exchange',
  'urn:openid:params:grant-type:ciba',
]);
// RFC 6749 §5.2: error codes are NQSCHAR; ours are lower-case words joined by underscores.
const ERROR_CODE = /^[a-z_]{1,40}$/;

export const grantTypeLabel = (grantType: unknown): string =>
  typeof grantType === 'string' ? (GRANT_TYPES.has(grantType) ? grantType : 'other') : 'none';
export const errorLabel = (error: unknown): string => (typeof error === 'string' && ERROR_CODE.test(error) ? error : 'other');

/** Where the live values come from; bound once the server has them (server.ts). */
export interface MetricSources {
  /** Connections of this process's own database pool. */
  pool(): { readonly total: number; readonly idle: number; readonly waiting: number };
  /** When the key that signs now was activated (epoch ms), and the clock. */
  signingKeyActivatedAt(): number;
  now(): number;
  /** Highest change id in the database, and the highest this instance has applied. */
  latestChange(): Promise<number>;
  appliedChange(): number;
  /** This instance's id in the instance registry (what `govauth` commands name). */
  instance(): string;
  /** Is this a registered client? Other client ids are counted as "unknown". */
  isKnownClient(clientId: string): boolean;
}

export interface Metrics {
  readonly registry: Registry;
  /** A token response (token-audit.ts): issued, or refused with its OAuth error. */
  tokenIssued(grantType: unknown, clientId: string | undefined): void;
  tokenRefused(grantType: unknown, clientId: string | undefined, error: unknown): void;
  /** Seconds a request took, by route template (route-label.ts). */
  request(route: string, method: string, status: number, seconds: number): void;
  introspection(tokenKind: string, active: boolean, reason: string): void;
  auditCommit(seconds: number, records: number, ok: boolean): void;
  /** The database was unreachable or overloaded where a request or commit needed it. */
  databaseError(where: 'request' | 'protocol' | 'interaction' | 'audit_commit'): void;
  rateLimited(limit: string): void;
  /** A client obtained a token from a source network it never used (src/governance/suspicious-use.ts); its first ever is `firstUse`. */
  clientNewNetwork(clientId: string, firstUse: boolean): void;
  /** A client's tokens per minute passed its own baseline (src/governance/rate-baseline.ts). */
  clientRateAnomaly(clientId: string): void;
  /** Binds the scrape-time gauges to the running server. */
  bind(sources: MetricSources): void;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  let sources: MetricSources | undefined;
  const client = (id: string | undefined): string => (id && sources?.isKnownClient(id) ? id : 'unknown');

  const issued = new Counter({ name: 'govauth_tokens_issued_total', help: 'Token responses that delivered a token, by grant type and client', labelNames: ['grant_type', 'client_id'] as const, registers });
  const refused = new Counter({
    name: 'govauth_token_refusals_total',
    help: 'Token requests refused, by grant type, client ("unknown" when not a registered client) and OAuth error',
    labelNames: ['grant_type', 'client_id', 'error'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'govauth_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route template, method and status class',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const introspections = new Counter({
    name: 'govauth_introspections_total',
    help: 'Introspection answers (RFC 7662), by token kind, result and reason',
    labelNames: ['token_kind', 'active', 'reason'] as const,
    registers,
  });
  const commitSeconds = new Histogram({
    name: 'govauth_audit_commit_duration_seconds',
    help: 'Time to commit one audit batch (group commit), by result',
    labelNames: ['result'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers,
  });
  const batchSize = new Histogram({
    name: 'govauth_audit_batch_records',
    help: 'Audit records per committed batch',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000],
    registers,
  });
  const dbErrors = new Counter({
    name: 'govauth_database_errors_total',
    help: 'Database unreachable or overloaded (answered 503, or an audit batch failed), by where it was needed',
    labelNames: ['where'] as const,
    registers,
  });
  const limited = new Counter({ name: 'govauth_rate_limit_refusals_total', help: 'Requests refused by a rate limit, by limit', labelNames: ['limit'] as const, registers });
  const newNetworks = new Counter({
    name: 'govauth_client_new_networks_total',
    help: 'Tokens a client obtained from a source network it had never used (first_use="true": its very first network), by client',
    labelNames: ['client_id', 'first_use'] as const,
    registers,
  });
  const rateAnomalies = new Counter({
    name: 'govauth_client_rate_anomalies_total',
    help: "Minutes in which a client's token rate passed its own baseline (seen by this process; one per cool-down), by client",
    labelNames: ['client_id'] as const,
    registers,
  });

  new Gauge({
    name: 'govauth_db_pool_connections',
    help: "Connections of this process's SQL pool (PostgreSQL: pg.Pool; SQLite: its one connection, waiting = statements queued behind it), by state",
    labelNames: ['state'] as const,
    registers,
    collect() {
      if (!sources) return;
      const p = sources.pool();
      this.set({ state: 'total' }, p.total);
      this.set({ state: 'idle' }, p.idle);
      this.set({ state: 'waiting' }, p.waiting);
    },
  });
  new Gauge({
    name: 'govauth_signing_key_age_seconds',
    help: 'Seconds since the signing key in use was activated',
    aggregator: 'max', // every worker signs with the same key: not a sum
    registers,
    collect() {
      if (sources) this.set(Math.max(0, (sources.now() - sources.signingKeyActivatedAt()) / 1000));
    },
  });
  new Gauge({
    name: 'govauth_change_feed_lag',
    help: 'Changes in the database this instance has not applied yet (the change feed), by instance id',
    labelNames: ['instance'] as const,
    registers,
    async collect() {
      if (!sources) return;
      const instance = sources.instance();
      try {
        this.set({ instance }, Math.max(0, (await sources.latestChange()) - sources.appliedChange()));
      } catch {
        this.remove({ instance }); // the database is unreachable: no figure rather than a stale one (see govauth_database_errors_total)
      }
    },
  });
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  return {
    registry,
    tokenIssued: (grantType, clientId) => issued.inc({ grant_type: grantTypeLabel(grantType), client_id: client(clientId) }),
    tokenRefused: (grantType, clientId, error) => refused.inc({ grant_type: grantTypeLabel(grantType), client_id: client(clientId), error: errorLabel(error) }),
    request(route, method, status, seconds) {
      duration.observe({ route, method: METHODS.has(method) ? method : 'other', status: `${Math.floor(status / 100)}xx` }, seconds);
    },
    introspection: (tokenKind, active, reason) => introspections.inc({ token_kind: tokenKind, active: String(active), reason }),
    auditCommit(seconds, records, ok) {
      commitSeconds.observe({ result: ok ? 'committed' : 'failed' }, seconds);
      if (ok) batchSize.observe(records);
      else dbErrors.inc({ where: 'audit_commit' });
    },
    databaseError: (where) => dbErrors.inc({ where }),
    rateLimited: (limit) => limited.inc({ limit }),
    clientNewNetwork: (clientId, firstUse) => newNetworks.inc({ client_id: client(clientId), first_use: String(firstUse) }),
    clientRateAnomaly: (clientId) => rateAnomalies.inc({ client_id: client(clientId) }),
    bind(s) {
      sources = s;
    },
  };
}

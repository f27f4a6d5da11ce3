// Parses and validates the environment once, at start. Every invalid variable is reported
// together with its fix (ConfigError), and the result is a frozen, typed Config passed down
// explicitly: nothing else reads process.env (src/main.ts and src/cli are the only callers).
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LogLevel } from '../log/logger.ts';
import { parseCheckpointFile, parseCheckpointPeriod, parseCheckpointWebhook, type AuditCheckpointConfig } from './audit-checkpoint-config.ts';
import { EnvValueError, parseBoolean, parseEnum, parseHttpUrl, parseInteger, parseKey32 } from './env-parsers.ts';

export type DatabaseKind = 'sqlite' | 'postgresql';
type RunMode = 'development' | 'production' | 'test';

const TRACES_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export interface TracesSampler {
  readonly name: (typeof TRACES_SAMPLERS)[number];
  /** OTEL_TRACES_SAMPLER_ARG: the sampled fraction for the *traceidratio samplers. */
  readonly ratio: number;
}

/** OpenTelemetry tracing (src/tracing), read from the standard OTEL_* variables. */
export interface TracingConfig {
  /** An OTLP endpoint is set and OTEL_SDK_DISABLED is not true. */
  readonly enabled: boolean;
  /** Where spans are POSTed (OTLP/HTTP, JSON): the traces endpoint, or <endpoint>/v1/traces. */
  readonly endpoint: string | undefined;
  readonly serviceName: string;
  readonly sampler: TracesSampler;
}

export interface Config {
  readonly mode: RunMode;
  readonly dataDir: string;
  readonly database: { readonly kind: DatabaseKind; readonly url: string; readonly isDefault: boolean };
  /** Explicit issuer; when unset, http://localhost:<listening port> (development). */
  readonly issuer: string | undefined;
  readonly host: string;
  readonly port: number;
  /** Explicit master key, or where the development key file lives when none is given. */
  readonly masterKey: { readonly key: Buffer } | { readonly file: string };
  readonly defaultResource: string | undefined;
  readonly accessTokenTtl: number;
  readonly policyPollMs: number;
  /** How long a change waits until every live instance applied it (CLI default, admin API). */
  readonly propagationWaitMs: number;
  readonly trustProxy: boolean;
  /**
   * Proxies in front of govauth that append to X-Forwarded-For; the client address is the
   * entry this many from the right (request-context.ts). Only used with trustProxy.
   */
  readonly trustedProxyHops: number;
  readonly logLevel: LogLevel;
  /** One info line per request (src/http/access-log.ts); GOVAUTH_ACCESS_LOG. */
  readonly accessLog: boolean;
  readonly signIn: {
    /** Seconds a refresh token lives; each rotation issues a new one (idle timeout). */
    readonly refreshTokenTtl: number;
    /** Seconds a sign-in lasts at most: browser session, grant and refresh chain end then. */
    readonly sessionMaxAge: number;
    /** Seconds a TOTP verification counts as recent for high-sensitivity scopes. */
    readonly mfaMaxAge: number;
    readonly maxFailures: number;
    readonly lockoutSeconds: number;
  };
  /** Days after which the server prunes audit records itself; 0 keeps them forever. */
  readonly auditRetentionDays: number;
  /**
   * Records younger than this many days are never pruned, by anyone (audit-retention.ts):
   * AUDIT_RETENTION_FLOOR_DAYS, or auditRetentionDays when that is more.
   */
  readonly auditPruneFloorDays: number;
  /** Worker processes sharing the port (node:cluster); 1 runs in a single process. */
  readonly workers: number;
  /** Requests per minute; 0 turns a limit off. */
  readonly rateLimits: {
    /** Token requests per authenticated client. */
    readonly tokenPerClient: number;
    /** Password sign-in attempts per account (from any address). */
    readonly signInPerAccount: number;
    /** Password sign-in attempts per source address (for any account). */
    readonly signInPerAddress: number;
    /** Failed client authentications per minute per source address (client-auth-failures.ts). */
    readonly clientAuthFailuresPerAddress: number;
  };
  /** Periodic signed audit checkpoints (GOVAUTH_AUDIT_CHECKPOINT_*); undefined: none. */
  readonly auditCheckpoint: AuditCheckpointConfig | undefined;
  /** Prometheus metrics (src/metrics/): where /metrics is served. */
  readonly metrics: {
    /** Its own listener (GOVAUTH_METRICS_LISTEN); undefined when off. */
    readonly listen: { readonly host: string; readonly port: number } | undefined;
    /** GOVAUTH_METRICS_TOKEN: also serve /metrics on the main port to this bearer token. */
    readonly token: string | undefined;
  };
  readonly keys: {
    /** Seconds a new signing key is published before it signs. */
    readonly prepublishSeconds: number;
    /** Days between scheduled rotations; 0 rotates only on demand. */
    readonly rotationDays: number;
  };
  readonly tracing: TracingConfig;
}

/**
 * The least any audit record is kept. An admin token (or a stolen one) must not be able to
 * erase the trail of what it just did; only the operator's configuration raises this.
 */
const AUDIT_RETENTION_FLOOR_DAYS = 30;

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * How a bad value is quoted back: never a secret (the master key; a database password), since
 * start-up errors land in logs that many people read.
 */
function shownValue(name: string, raw: string): string {
  if (name === 'GOVAUTH_MASTER_KEY' || name === 'GOVAUTH_METRICS_TOKEN') return `(hidden, ${raw.length} characters)`;
  // A webhook's path or query often is its secret: show where it points, not the rest.
  if (name === 'GOVAUTH_AUDIT_CHECKPOINT_WEBHOOK') return URL.parse(raw.trim())?.origin.concat('/…') ?? `(hidden, ${raw.length} characters)`;
  let shown = raw;
  // OTLP endpoints are refused with credentials (they belong in OTEL_EXPORTER_OTLP_HEADERS), and
  // the refusal must not print them.
  if (name === 'DATABASE_URL' || name.startsWith('OTEL_EXPORTER_OTLP_')) {
    const url = URL.parse(raw);
    if (url?.password) {
      url.password = '***';
      shown = url.href;
    } else if (!url && raw.includes('@')) {
      return '(hidden: not a URL, and it may hold a password)';
    }
  }
  return JSON.stringify(shown.length > 80 ? `${shown.slice(0, 80)}…` : shown);
}

/**
 * The govauth project (the installed package: the directory holding package.json). Relative
 * paths in the configuration (GOVAUTH_DATA_DIR, DATABASE_URL=file:…, GOVAUTH_MASTER_KEY_FILE)
 * are resolved against it, not against the current directory: `npm start` runs in the project
 * root while `npx govauth` keeps the directory it was typed in, and a CLI run from a
 * subfolder (or from anywhere) must reach the server's database, never a new empty one beside
 * it. Absolute paths are taken as given.
 */
export const PROJECT_DIR = resolve(fileURLToPath(new URL('../../', import.meta.url)));

/** `base`: the directory relative paths are resolved against (tests pass their own). */
export function loadConfig(env: Env, base: string = PROJECT_DIR): Config {
  const problems: string[] = [];
  const read = <T>(name: string, fallback: T, parse: (raw: string) => T): T => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    try {
      return parse(raw);
    } catch (err) {
      if (!(err instanceof EnvValueError)) throw err;
      problems.push(`${name}=${shownValue(name, raw)}: ${err.message}`);
      return fallback;
    }
  };

  const mode = read<RunMode>('NODE_ENV', 'development', (v) => parseEnum(v, ['development', 'production', 'test'] as const));
  const dataDir = resolve(base, read('GOVAUTH_DATA_DIR', 'data', (v) => v.trim()));
  const port = read('GOVAUTH_PORT', 3000, (v) => parseInteger(v, 0, 65535));
  const host = read('GOVAUTH_HOST', '127.0.0.1', (v) => v.trim());
  const issuer = read<string | undefined>('GOVAUTH_ISSUER', undefined, parseHttpUrl);
  const database = read<Config['database']>('DATABASE_URL', { kind: 'sqlite', url: `file:${resolve(dataDir, 'govauth.db')}`, isDefault: true }, (v) =>
    parseDatabaseUrl(v, base),
  );
  const masterKeyValue = read<Buffer | undefined>('GOVAUTH_MASTER_KEY', undefined, parseKey32);
  const masterKeyFile = read('GOVAUTH_MASTER_KEY_FILE', undefined as string | undefined, (v) => resolve(base, v.trim()));
  const defaultResource = read<string | undefined>('GOVAUTH_DEFAULT_RESOURCE', undefined, parseResourceUri);
  const accessTokenTtl = read('GOVAUTH_ACCESS_TOKEN_TTL', 300, (v) => parseInteger(v, 1, 86_400));
  const policyPollMs = read('GOVAUTH_POLICY_POLL_MS', 250, (v) => parseInteger(v, 20, 1000));
  const propagationWaitMs = read('GOVAUTH_PROPAGATION_WAIT_MS', 2000, (v) => parseInteger(v, 0, 60_000));
  const trustProxy = read('GOVAUTH_TRUST_PROXY', false, parseBoolean);
  const trustedProxyHops = read('GOVAUTH_TRUSTED_PROXY_HOPS', 1, (v) => parseInteger(v, 1, 10));
  // The default (1) is harmless without a trusted proxy (.env.example lists it); more hops say
  // the operator believes proxies append, which contradicts not trusting them.
  if (trustedProxyHops !== 1 && !trustProxy) {
    problems.push('GOVAUTH_TRUSTED_PROXY_HOPS is more than 1 but GOVAUTH_TRUST_PROXY is not true: without trusting the proxy, X-Forwarded-For is ignored; set both or neither');
  }
  const logLevel = read<LogLevel>('GOVAUTH_LOG_LEVEL', mode === 'test' ? 'warn' : 'info', (v) =>
    parseEnum(v, ['debug', 'info', 'warn', 'error', 'silent'] as const),
  );
  const accessLog = read('GOVAUTH_ACCESS_LOG', true, parseBoolean);

  const signIn = {
    refreshTokenTtl: read('GOVAUTH_REFRESH_TOKEN_TTL', 86_400, (v) => parseInteger(v, 60, 90 * 86_400)),
    sessionMaxAge: read('GOVAUTH_SESSION_MAX_AGE', 7 * 86_400, (v) => parseInteger(v, 300, 365 * 86_400)),
    mfaMaxAge: read('GOVAUTH_MFA_MAX_AGE', 900, (v) => parseInteger(v, 30, 86_400)),
    maxFailures: read('GOVAUTH_LOGIN_MAX_FAILURES', 5, (v) => parseInteger(v, 1, 100)),
    lockoutSeconds: read('GOVAUTH_LOGIN_LOCKOUT', 900, (v) => parseInteger(v, 1, 86_400)),
  };
  const auditRetentionDays = read('GOVAUTH_AUDIT_RETENTION_DAYS', 0, (v) => {
    const days = parseInteger(v, 0, 36_500);
    if (days > 0 && days < AUDIT_RETENTION_FLOOR_DAYS) {
      throw new EnvValueError(`must be 0 (keep records forever) or at least ${AUDIT_RETENTION_FLOOR_DAYS}: audit records younger than ${AUDIT_RETENTION_FLOOR_DAYS} days are never pruned`);
    }
    return days;
  });
  const checkpointEvery = read('GOVAUTH_AUDIT_CHECKPOINT_EVERY', undefined as number | undefined, parseCheckpointPeriod);
  const checkpointFile = read('GOVAUTH_AUDIT_CHECKPOINT_FILE', undefined as string | undefined, (v) => parseCheckpointFile(v, base));
  const checkpointWebhook = read('GOVAUTH_AUDIT_CHECKPOINT_WEBHOOK', undefined as string | undefined, (v) => parseCheckpointWebhook(v, mode === 'production'));
  const hasCheckpointTarget = checkpointFile !== undefined || checkpointWebhook !== undefined;
  if (checkpointEvery !== undefined && !hasCheckpointTarget && !problems.some((p) => p.startsWith('GOVAUTH_AUDIT_CHECKPOINT_'))) {
    problems.push('GOVAUTH_AUDIT_CHECKPOINT_EVERY is set but neither GOVAUTH_AUDIT_CHECKPOINT_FILE nor GOVAUTH_AUDIT_CHECKPOINT_WEBHOOK: a checkpoint kept only in the database it vouches for proves nothing');
  }
  if (checkpointEvery === undefined && hasCheckpointTarget && !env.GOVAUTH_AUDIT_CHECKPOINT_EVERY) {
    problems.push('GOVAUTH_AUDIT_CHECKPOINT_FILE or _WEBHOOK is set without GOVAUTH_AUDIT_CHECKPOINT_EVERY (how often, e.g. 1h)');
  }
  const auditCheckpoint = checkpointEvery !== undefined && hasCheckpointTarget ? Object.freeze({ everyMs: checkpointEvery, file: checkpointFile, webhook: checkpointWebhook }) : undefined;
  const workers = read('GOVAUTH_WORKERS', mode === 'production' ? availableParallelism() : 1, (v) =>
    v.trim() === 'auto' ? availableParallelism() : parseInteger(v, 1, 64),
  );
  const perMinute = (v: string): number => parseInteger(v, 0, 1_000_000_000);
  const rateLimits = {
    tokenPerClient: read('GOVAUTH_RATE_LIMIT_TOKEN', 1200, perMinute),
    signInPerAccount: read('GOVAUTH_RATE_LIMIT_SIGNIN_ACCOUNT', 20, perMinute),
    signInPerAddress: read('GOVAUTH_RATE_LIMIT_SIGNIN_ADDRESS', 120, perMinute),
    clientAuthFailuresPerAddress: read('GOVAUTH_RATE_LIMIT_CLIENT_AUTH_FAILURES', 60, perMinute),
  };
  const keys = {
    prepublishSeconds: read('GOVAUTH_KEY_PREPUBLISH', 3600, (v) => parseInteger(v, 0, 30 * 86_400)),
    rotationDays: read('GOVAUTH_KEY_ROTATION_DAYS', 90, (v) => parseInteger(v, 0, 3650)),
  };
  const tracing = readTracing(env, read, problems);
  // Off by default only for NODE_ENV=test, where many servers run at once on one host.
  const metricsListen = read<Config['metrics']['listen']>('GOVAUTH_METRICS_LISTEN', mode === 'test' ? undefined : { host: '127.0.0.1', port: 9464 }, parseListenAddress);
  const metricsToken = read<string | undefined>('GOVAUTH_METRICS_TOKEN', undefined, parseMetricsToken);
  if (metricsListen && metricsListen.port !== 0 && metricsListen.port === port) {
    problems.push(`GOVAUTH_METRICS_LISTEN uses GOVAUTH_PORT (${port}): metrics get their own port; to serve /metrics on the main port set GOVAUTH_METRICS_TOKEN (and GOVAUTH_METRICS_LISTEN=off if you want only that)`);
  }
  if (signIn.refreshTokenTtl > signIn.sessionMaxAge) {
    problems.push(
      `GOVAUTH_REFRESH_TOKEN_TTL=${signIn.refreshTokenTtl} exceeds GOVAUTH_SESSION_MAX_AGE=${signIn.sessionMaxAge}: a refresh token cannot outlive the sign-in it belongs to`,
    );
  }
  if (issuer?.startsWith('https:') && !trustProxy) {
    problems.push(
      `GOVAUTH_ISSUER=${issuer}: govauth serves plain HTTP, so an https issuer needs a TLS-terminating proxy in front; set GOVAUTH_TRUST_PROXY=true so it honours X-Forwarded-Proto`,
    );
  }
  if (issuer && new URL(issuer).pathname !== '/') problems.push(`GOVAUTH_ISSUER=${issuer}: must be an origin without a path (e.g. https://auth.example.com)`);
  if (masterKeyValue && masterKeyFile) {
    problems.push('GOVAUTH_MASTER_KEY and GOVAUTH_MASTER_KEY_FILE are both set: set only one');
  }
  if (mode === 'production') {
    if (!masterKeyValue && !masterKeyFile) {
      problems.push('GOVAUTH_MASTER_KEY (or GOVAUTH_MASTER_KEY_FILE) is required when NODE_ENV=production: it encrypts the signing keys at rest');
    }
    if (!issuer?.startsWith('https:')) {
      problems.push(`GOVAUTH_ISSUER${issuer ? `=${issuer}` : ''}: an https issuer is required when NODE_ENV=production (tokens and cookies must not travel in clear text)`);
    }
  }
  if (problems.length) throw new ConfigError(problems);

  return Object.freeze({
    mode,
    dataDir,
    database: Object.freeze(database),
    issuer,
    host,
    port,
    masterKey: Object.freeze(masterKeyValue ? { key: masterKeyValue } : { file: masterKeyFile ?? resolve(dataDir, 'master.key') }),
    defaultResource,
    accessTokenTtl,
    policyPollMs,
    propagationWaitMs,
    trustProxy,
    trustedProxyHops,
    logLevel,
    accessLog,
    signIn: Object.freeze(signIn),
    auditRetentionDays,
    auditPruneFloorDays: Math.max(AUDIT_RETENTION_FLOOR_DAYS, auditRetentionDays),
    auditCheckpoint,
    workers,
    rateLimits: Object.freeze(rateLimits),
    metrics: Object.freeze({ listen: metricsListen && Object.freeze(metricsListen), token: metricsToken }),
    keys: Object.freeze(keys),
    tracing: Object.freeze({ ...tracing, sampler: Object.freeze(tracing.sampler) }),
  });
}

type Read = <T>(name: string, fallback: T, parse: (raw: string) => T) => T;

/**
 * The standard OpenTelemetry SDK variables that govauth honours
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/): tracing
 * is on when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is set, unless
 * OTEL_SDK_DISABLED=true. The signal-specific endpoint is used as given; the generic one gets
 * /v1/traces appended (OTLP exporter spec, "Endpoint URLs for OTLP/HTTP").
 */
function readTracing(env: Env, read: Read, problems: string[]): TracingConfig {
  const tracesEndpoint = read<string | undefined>('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', undefined, parseHttpUrl);
  const baseEndpoint = read<string | undefined>('OTEL_EXPORTER_OTLP_ENDPOINT', undefined, parseHttpUrl);
  const endpoint = tracesEndpoint ?? (baseEndpoint ? `${baseEndpoint}/v1/traces` : undefined);
  // The spec: only "true" (case-insensitive) disables; anything else leaves the SDK on.
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  const serviceName = read('OTEL_SERVICE_NAME', 'govauth', (v) => v.trim());
  const name = read<TracesSampler['name']>('OTEL_TRACES_SAMPLER', 'parentbased_always_on', (v) => parseEnum(v.trim().toLowerCase(), TRACES_SAMPLERS));
  const ratio = read('OTEL_TRACES_SAMPLER_ARG', 1, (v) => {
    const n = Number(v.trim());
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new EnvValueError('must be a fraction between 0 and 1 (e.g. 0.1 samples one trace in ten)');
    return n;
  });
  // govauth ships the OTLP/HTTP JSON exporter only; say so rather than send what the collector
  // does not expect on that port.
  for (const variable of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const protocol = env[variable]?.trim();
    if (protocol && protocol !== 'http/json' && endpoint && !disabled) {
      problems.push(`${variable}=${JSON.stringify(protocol)}: govauth exports traces as OTLP over HTTP with JSON; set it to http/json or leave it unset (an OpenTelemetry Collector accepts both on its HTTP port, 4318)`);
    }
  }
  return { enabled: Boolean(endpoint) && !disabled, endpoint, serviceName: serviceName || 'govauth', sampler: { name, ratio } };
}

function parseDatabaseUrl(raw: string, base: string): Config['database'] {
  const v = raw.trim();
  if (/^postgres(ql)?:\/\//.test(v)) {
    try {
      new URL(v);
    } catch {
      throw new EnvValueError('is not a valid PostgreSQL URL (postgresql://user:password@host:5432/database)');
    }
    return { kind: 'postgresql', url: v, isDefault: false };
  }
  if (v.startsWith('file:')) {
    const path = v.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path || path.includes('?')) throw new EnvValueError('must be file:<path to the SQLite database file>');
    return { kind: 'sqlite', url: `file:${resolve(base, path)}`, isDefault: false };
  }
  throw new EnvValueError('must start with file: (embedded SQLite) or postgresql:// (PostgreSQL)');
}

/** `off`, `host:port`, `[ipv6]:port` or a bare port (on 127.0.0.1). */
function parseListenAddress(raw: string): { host: string; port: number } | undefined {
  const v = raw.trim();
  if (/^(off|false|no|none)$/i.test(v)) return undefined;
  const hint = 'must be off, a port, or host:port (e.g. 127.0.0.1:9464, 0.0.0.0:9464, [::1]:9464)';
  const m = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):)?(\d+)$/.exec(v);
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new EnvValueError(`${hint}; ports go up to 65535`);
  return { host: m[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port };
}

/**
 * A bearer token for /metrics on the main port. Long and random, since it guards the main,
 * public port: at least 32 characters of the token68 alphabet (RFC 6750 §2.1), no spaces.
 */
function parseMetricsToken(raw: string): string {
  const v = raw.trim();
  if (!/^[A-Za-z0-9._~+/-]+=*$/.test(v)) throw new EnvValueError('must be a bearer token: letters, digits and -._~+/ only (generate one with: openssl rand -hex 32)');
  if (v.length < 32) throw new EnvValueError('must be at least 32 characters (generate one with: openssl rand -hex 32)');
  return v;
}

function parseResourceUri(raw: string): string {
  const url = URL.parse(raw.trim());
  if (!url || url.hash) throw new EnvValueError('must be an absolute URI without a fragment (RFC 8707 §2)');
  return raw.trim();
}

/** Where a database is, for messages: a SQLite file's path, or a PostgreSQL URL without its password. */
export function databaseLocation(database: Pick<Config['database'], 'kind' | 'url'>): string {
  if (database.kind === 'sqlite') return database.url.slice('file:'.length);
  const url = URL.parse(database.url);
  if (!url) return 'the PostgreSQL database in DATABASE_URL';
  if (url.password) url.password = '***';
  return url.href;
}

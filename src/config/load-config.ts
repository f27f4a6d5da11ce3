// Parses and validates the environment once, at start. Every invalid variable is reported
// together with its fix (ConfigError), and the result is a frozen, typed Config passed down
// explicitly: nothing else reads process.env (src/main.ts and src/cli are the only callers).
// Each concern's variables are read in its own file here (database-, sign-in-, rate-limit-,
// audit-, metrics-, tracing-config.ts) through one reader (env-reader.ts).
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LogLevel } from '../log/logger.ts';
import type { AuditCheckpointConfig } from './audit-checkpoint-config.ts';
import { readAudit } from './audit-config.ts';
import { readDatabase, type DatabaseConfig } from './database-config.ts';
import { EnvValueError, parseBoolean, parseEnum, parseHttpUrl, parseInteger, parseKey32 } from './env-parsers.ts';
import { createEnvReader, type Env } from './env-reader.ts';
import { readMetrics, type MetricsConfig } from './metrics-config.ts';
import { readOutboundFetch, type OutboundFetchConfig } from './outbound-fetch-config.ts';
import { readRateLimits, type RateLimitConfig } from './rate-limit-config.ts';
import { readPop, type PopConfig } from './pop-config.ts';
import { readCiba, type CibaConfig } from './ciba-config.ts';
import { readSuspiciousUse, type SuspiciousUseConfig } from './suspicious-use-config.ts';
import { readSelfRegistration, type SelfRegistrationConfig } from './self-registration-config.ts';
import { checkSignIn, readSignIn, type SignInConfig } from './sign-in-config.ts';
import { checkWebauthn, readWebauthn, type WebauthnConfig } from './webauthn-config.ts';
import { readTls, type TlsConfig } from './tls-config.ts';
import { readTracing, type TracingConfig } from './tracing-config.ts';
import { readWebhook, type WebhookConfig } from './webhook-config.ts';

type RunMode = 'development' | 'production' | 'test';

export interface Config {
  readonly mode: RunMode;
  readonly dataDir: string;
  readonly database: DatabaseConfig;
  /** Explicit issuer; when unset, http://localhost:<listening port> (development). */
  readonly issuer: string | undefined;
  readonly host: string;
  readonly port: number;
  /** Explicit master key, or where the development key file lives when none is given. */
  readonly masterKey: { readonly key: Buffer } | { readonly file: string };
  readonly defaultResource: string | undefined;
  readonly accessTokenTtl: number;
  /**
   * Seconds a resource server may cache a token status list (its `ttl` claim): how long a
   * revocation can take to reach resource servers that check the list (src/statuslist).
   */
  readonly statusListTtl: number;
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
  readonly signIn: SignInConfig;
  /** Passkeys: the relying party id override (webauthn-config.ts). */
  readonly webauthn: WebauthnConfig;
  /** Proof of possession: the sensitivity only issued bound, and DPoP nonces (pop-config.ts). */
  readonly pop: PopConfig;
  /** OpenID CIBA: on or off, request lifetime, poll interval (ciba-config.ts). */
  readonly ciba: CibaConfig;
  /** Days after which the server prunes audit records itself; 0 keeps them forever. */
  readonly auditRetentionDays: number;
  /**
   * Records younger than this many days are never pruned, by anyone (audit-retention.ts):
   * AUDIT_RETENTION_FLOOR_DAYS (audit-config.ts), or auditRetentionDays when that is more.
   */
  readonly auditPruneFloorDays: number;
  /** Worker processes sharing the port (node:cluster); 1 runs in a single process. */
  readonly workers: number;
  /** Requests per minute; 0 turns a limit off. */
  readonly rateLimits: RateLimitConfig;
  /** Periodic signed audit checkpoints (GOVAUTH_AUDIT_CHECKPOINT_*); undefined: none. */
  readonly auditCheckpoint: AuditCheckpointConfig | undefined;
  /** New source networks and rate anomalies per client (suspicious-use-config.ts). */
  readonly suspiciousUse: SuspiciousUseConfig;
  /** Prometheus metrics (src/metrics/): where /metrics is served. */
  readonly metrics: MetricsConfig;
  readonly keys: {
    /** Seconds a new signing key is published before it signs. */
    readonly prepublishSeconds: number;
    /** Days between scheduled rotations; 0 rotates only on demand. */
    readonly rotationDays: number;
  };
  readonly tracing: TracingConfig;
  /** https on govauth's own listener and mutual TLS client certificates (tls-config.ts). */
  readonly tls: TlsConfig;
  /** Client ID Metadata Documents and RFC 7591 registration (self-registration-config.ts). */
  readonly selfRegistration: SelfRegistrationConfig;
  /** Server-side fetches of URLs others chose (jwks_uri): the development allowance (outbound-fetch-config.ts). */
  readonly outboundFetch: OutboundFetchConfig;
  /** Where notifications are delivered (webhook-config.ts); undefined: kept in the outbox, not sent. */
  readonly webhook: WebhookConfig | undefined;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
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
/**
 * `GOVAUTH_WORKERS=auto`: one worker per two cores, at least one. A worker keeps about two
 * cores busy on its own: its event loop, RSA signing on libuv's pool and V8's collector threads
 * (`npm run bench:cpu`). Measured on 2 cores (`npm run bench:workers`, 6 alternating rounds,
 * SQLite): 2 workers gave 0.95x the issuance and 1.01x the introspection of 1 worker, so a
 * second worker pays only with cores beyond the first worker's two.
 */
function autoWorkers(): number {
  return Math.max(1, Math.floor(availableParallelism() / 2));
}

export function loadConfig(env: Env, base: string = PROJECT_DIR): Config {
  const { read, problems } = createEnvReader(env);

  const mode = read<RunMode>('NODE_ENV', 'development', (v) => parseEnum(v, ['development', 'production', 'test'] as const));
  const dataDir = resolve(base, read('GOVAUTH_DATA_DIR', 'data', (v) => v.trim()));
  const port = read('GOVAUTH_PORT', 3000, (v) => parseInteger(v, 0, 65535));
  const host = read('GOVAUTH_HOST', '127.0.0.1', (v) => v.trim());
  const issuer = read<string | undefined>('GOVAUTH_ISSUER', undefined, parseHttpUrl);
  const database = readDatabase(read, dataDir, base);
  const masterKeyValue = read<Buffer | undefined>('GOVAUTH_MASTER_KEY', undefined, parseKey32);
  const masterKeyFile = read('GOVAUTH_MASTER_KEY_FILE', undefined as string | undefined, (v) => resolve(base, v.trim()));
  const defaultResource = read<string | undefined>('GOVAUTH_DEFAULT_RESOURCE', undefined, parseResourceUri);
  const accessTokenTtl = read('GOVAUTH_ACCESS_TOKEN_TTL', 300, (v) => parseInteger(v, 1, 86_400));
  const statusListTtl = read('GOVAUTH_STATUS_LIST_TTL', 10, (v) => parseInteger(v, 1, 3600));
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

  const signIn = readSignIn(read);
  const webauthn = readWebauthn(read);
  const pop = readPop(read);
  const ciba = readCiba(read);
  const selfRegistration = readSelfRegistration(read);
  const audit = readAudit(env, read, problems, base, mode === 'production');
  const workers = read('GOVAUTH_WORKERS', mode === 'production' ? autoWorkers() : 1, (v) => (v.trim() === 'auto' ? autoWorkers() : parseInteger(v, 1, 64)));
  const rateLimits = readRateLimits(read);
  const suspiciousUse = readSuspiciousUse(read, problems, rateLimits.tokenPerClient);
  const keys = {
    prepublishSeconds: read('GOVAUTH_KEY_PREPUBLISH', 3600, (v) => parseInteger(v, 0, 30 * 86_400)),
    rotationDays: read('GOVAUTH_KEY_ROTATION_DAYS', 90, (v) => parseInteger(v, 0, 3650)),
  };
  const tracing = readTracing(env, read, problems);
  const metrics = readMetrics(read, problems, mode === 'test', port);
  checkSignIn(signIn, problems);
  checkWebauthn(webauthn, issuer, problems);
  const tls = readTls(read, problems, base, trustProxy);
  const outboundFetch = readOutboundFetch(read, problems, base, mode === 'production');
  const webhook = readWebhook(read, problems, outboundFetch.allowPrivate && mode !== 'production');
  if (issuer?.startsWith('https:') && !trustProxy && !tls.listener) {
    problems.push(
      `GOVAUTH_ISSUER=${issuer}: govauth serves plain HTTP, so an https issuer needs a TLS-terminating proxy in front (set GOVAUTH_TRUST_PROXY=true so it honours X-Forwarded-Proto) or GOVAUTH_TLS_CERT and GOVAUTH_TLS_KEY`,
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
    statusListTtl,
    policyPollMs,
    propagationWaitMs,
    trustProxy,
    trustedProxyHops,
    logLevel,
    accessLog,
    signIn: Object.freeze(signIn),
    webauthn: Object.freeze(webauthn),
    pop: Object.freeze(pop),
    ciba: Object.freeze(ciba),
    selfRegistration: Object.freeze(selfRegistration),
    auditRetentionDays: audit.retentionDays,
    auditPruneFloorDays: audit.pruneFloorDays,
    auditCheckpoint: audit.checkpoint,
    workers,
    rateLimits: Object.freeze(rateLimits),
    suspiciousUse: Object.freeze(suspiciousUse),
    metrics: Object.freeze({ listen: metrics.listen && Object.freeze(metrics.listen), token: metrics.token }),
    keys: Object.freeze(keys),
    tracing: Object.freeze({ ...tracing, sampler: Object.freeze(tracing.sampler) }),
    tls: Object.freeze({ ...tls, listener: tls.listener && Object.freeze(tls.listener) }),
    outboundFetch: Object.freeze(outboundFetch),
    webhook: webhook && Object.freeze(webhook),
  });
}

function parseResourceUri(raw: string): string {
  const url = URL.parse(raw.trim());
  if (!url || url.hash) throw new EnvValueError('must be an absolute URI without a fragment (RFC 8707 §2)');
  return raw.trim();
}

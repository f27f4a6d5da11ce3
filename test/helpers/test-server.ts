// Starts a real govauth server (HTTP on an ephemeral port, real database) and runs the real
// CLI against the same database, as an operator would.
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/load-config.ts';
import { runCli } from '../../src/cli/main.ts';
import { createLogger, type Logger } from '../../src/log/logger.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import type { StatusListOptions } from '../../src/statuslist/status-lists.ts';
import type { Tracing } from '../../src/tracing/tracing.ts';
import { createTestDatabase, type TestDatabase } from './test-database.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestServer {
  /** Moves govauth's clock (policy decisions: role expiry, MFA freshness) forward. */
  advance(ms: number): void;
  readonly url: string;
  readonly issuer: string;
  readonly env: Record<string, string>;
  readonly db: TestDatabase;
  readonly server: RunningServer;
  cli(...args: string[]): Promise<CliResult>;
  /** Runs a CLI command with `input` on stdin. */
  cliWithStdin(input: string, ...args: string[]): Promise<CliResult>;
  /** Runs a CLI command that must succeed with --json and returns its object. */
  cliJson<T = Record<string, unknown>>(...args: string[]): Promise<T>;
  restart(): Promise<TestServer>;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  readonly env?: Record<string, string>;
  readonly db?: TestDatabase;
  readonly masterKey?: string;
  /** The server's logger (e.g. one writing to a capture); otherwise GOVAUTH_LOG_LEVEL to stdout. */
  readonly log?: Logger;
  /** Spans go here instead of the tracing built from the environment (test/integration/tracing.test.ts). */
  readonly tracing?: Tracing;
  /** Token status list sizes (small blocks and lists to test their ends). */
  readonly statusList?: StatusListOptions;
  /** Milliseconds between outbox polls; false: none, the test calls server.notifications.deliverDue(). */
  readonly notificationPollMs?: number | false;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const db = options.db ?? (await createTestDatabase({ migrated: true }));
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    GOVAUTH_DATA_DIR: db.dataDir,
    GOVAUTH_PORT: '0',
    GOVAUTH_MASTER_KEY: options.masterKey ?? randomBytes(32).toString('base64'),
    GOVAUTH_POLICY_POLL_MS: '50',
    GOVAUTH_LOG_LEVEL: process.env.GOVAUTH_TEST_LOG_LEVEL ?? 'error',
    // Suites send many wrong secrets from 127.0.0.1 on purpose; the per-address failure budget
    // has its own suite (test/security/client-auth-flood.test.ts), which sets it low.
    GOVAUTH_RATE_LIMIT_CLIENT_AUTH_FAILURES: '1000000',
    ...options.env,
  };
  const config = loadConfig(env);
  let offset = 0;
  const server = await startServer(config, options.log ?? createLogger({ level: config.logLevel }), { now: () => Date.now() + offset, tracing: options.tracing, statusList: options.statusList, notificationPollMs: options.notificationPollMs, drainQuietMs: 0 });
  const cli = (...args: string[]): Promise<CliResult> => runCli(args, env);
  const self: TestServer = {
    advance: (ms) => void (offset += ms),
    url: server.url,
    issuer: server.issuer,
    env,
    db,
    server,
    cli,
    cliWithStdin: (input, ...args) => runCli(args, env, { stdin: () => Promise.resolve(input) }),
    async cliJson<T>(...args: string[]): Promise<T> {
      const r = await cli(...args, '--json');
      if (r.code !== 0) throw new Error(`govauth ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
    async restart() {
      await server.close();
      return startTestServer({ ...options, db, masterKey: env.GOVAUTH_MASTER_KEY, env: { ...options.env } });
    },
    async stop() {
      await server.close();
      if (!options.db) await db.drop();
    },
  };
  return self;
}

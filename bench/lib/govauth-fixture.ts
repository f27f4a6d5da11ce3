// A govauth instance for benchmarks: a fresh database (SQLite temp file, or a new PostgreSQL
// database when DATABASE_URL is set), the demo model, one person, one web app, one bot, one
// resource-server client, and one agent that may act for the person (token exchange).
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '../../test/helpers/test-database.ts';
import { runCli } from '../../src/cli/main.ts';
import { SERVER_ENV, SERVER_V8_FLAGS } from '../../src/runtime-flags.ts';
import { BENCH_RESOURCE } from './issuance.ts';
import { startChild, type Child } from './processes.ts';

/** The person who signs in (data-scientist on the demo resource). */
export const BENCH_PERSON = { email: 'bench@example.com', password: 'bench password 123' } as const;
/** The scope the agent gets, for itself or for the person: low sensitivity, so no second factor. */
export const AGENT_SCOPE = 'ai.prediction.run';

export interface Fixture {
  readonly env: Record<string, string>;
  readonly bot: { client_id: string; client_secret: string };
  readonly rs: { client_id: string; client_secret: string };
  readonly app: { client_id: string; client_secret: string };
  /** client_credentials for itself (role bench-agent), token exchange for data-scientists. */
  readonly agent: { client_id: string; client_secret: string };
  /** `v8Flags` defaults to the shipped server settings (src/runtime-flags.ts). */
  start(extraEnv?: Record<string, string>, v8Flags?: readonly string[]): Promise<Child>;
  startWithoutAudit(v8Flags?: readonly string[]): Promise<Child>;
  drop(): Promise<void>;
}

const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const withoutAudit = fileURLToPath(new URL('./server-without-audit.ts', import.meta.url));

export async function createFixture(): Promise<Fixture> {
  // A temporary SQLite file, or a new database on DATABASE_URL's PostgreSQL server.
  const database = await createTestDatabase();
  const { url, dataDir } = database;
  // The issuer follows the listening port (no GOVAUTH_ISSUER), so real clients can follow
  // discovery; NODE_ENV=production would require an https issuer behind a proxy.
  const env: Record<string, string> = {
    NODE_ENV: 'development',
    DATABASE_URL: url,
    GOVAUTH_DATA_DIR: dataDir,
    GOVAUTH_MASTER_KEY: randomBytes(32).toString('base64'),
    GOVAUTH_PORT: '0',
    GOVAUTH_LOG_LEVEL: 'info',
    GOVAUTH_WORKERS: '1',
    // One bench client sends far more than any sane per-client budget; the limiter stays in the
    // path (every request is counted and the counts shared), only its ceiling is out of reach.
    GOVAUTH_RATE_LIMIT_TOKEN: '1000000000',
    // The refresh pool signs one bench person in once per connection, faster than the
    // sign-in budget a person gets; sign-in throttling is not what this suite measures.
    GOVAUTH_RATE_LIMIT_SIGNIN_ACCOUNT: '1000000',
    GOVAUTH_RATE_LIMIT_SIGNIN_ADDRESS: '1000000',
  };
  const cli = async (...args: string[]): Promise<Record<string, string>> => {
    const r = await runCli([...args, '--json'], env);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as Record<string, string>;
  };
  await cli('init', '--demo');
  const user = await runCli(['user', 'create', BENCH_PERSON.email, '--password-stdin', '--roles', 'data-scientist', '--json'], env, {
    stdin: () => Promise.resolve(`${BENCH_PERSON.password}\n`),
  });
  if (user.code !== 0) throw new Error(user.stderr);
  const app = (await cli('client', 'create', '--name', 'bench-app', '--grant', 'authorization_code', '--redirect-uri', 'https://app.example/callback')) as Fixture['app'];
  const bot = (await cli('client', 'create', '--name', 'bench-bot', '--grant', 'client_credentials', '--roles', 'data-scientist')) as Fixture['bot'];
  const rs = (await cli('client', 'create', '--name', 'bench-rs', '--resource', 'https://models.example', '--introspect')) as Fixture['rs'];
  await cli('role', 'create', 'bench-agent', '--description', 'benchmark agents', '--scopes', AGENT_SCOPE);
  // An agent that may act for people holding data-scientist (RFC 8693 token exchange).
  const agent = (await cli('client', 'create', '--name', 'bench-agent', '--grant', 'client_credentials', '--grant', 'token-exchange', '--roles', 'bench-agent')) as Fixture['agent'];
  await cli('delegation', 'allow', '--agent-role', 'bench-agent', '--for-role', 'data-scientist', '--resource', BENCH_RESOURCE, '--scopes', AGENT_SCOPE);
  // Tokens introspected or exchanged during a benchmark must outlive it.
  await cli('resource', 'update', 'https://models.example', '--token-ttl', '3600');
  return {
    env,
    bot,
    rs,
    app,
    agent,
    // The same V8 settings and environment as `npm start`.
    start: (extraEnv = {}, v8Flags = SERVER_V8_FLAGS) =>
      startChild(main, { ...env, ...SERVER_ENV, ...extraEnv, NODE_OPTIONS: `${v8Flags.join(' ')} ${extraEnv.NODE_OPTIONS ?? ''}`.trim() }, /"listening":"(http:\/\/[^"]+)"/),
    // One process whose audit writer discards records: the "audit off" side of the comparison.
    startWithoutAudit: (v8Flags = SERVER_V8_FLAGS) =>
      startChild(withoutAudit, { ...env, ...SERVER_ENV, GOVAUTH_WORKERS: '1', NODE_OPTIONS: v8Flags.join(' ') }, /"listening":"(http:\/\/[^"]+)"/),
    async drop() {
      await database.drop();
    },
  };
}

// The govauth CLI: `govauth <group> <action> [args] [--json]`. Output for people by default;
// --json prints exactly one JSON object on stdout. Errors go to stderr with the exit status of
// the README's table (src/cli/errors.ts): with --json, as exactly one JSON object.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { databaseLocation } from '../config/database-config.ts';
import { loadConfig, PROJECT_DIR } from '../config/load-config.ts';
import type { Database } from '../db/database.ts';
import type { MasterKey } from '../keys/master-key.ts';
import { systemClock } from '../time/clock.ts';
import { UsageError, type CliContext, type Command } from './command.ts';
import { EXIT } from './exit-status.ts';
import { catalogCommands } from './commands/catalog-commands.ts';
import { roleHierarchyCommands } from './commands/role-hierarchy-commands.ts';
import { abacCommands } from './commands/abac-commands.ts';
import { factorCommands } from './commands/factor-commands.ts';
import { clientCommands } from './commands/client-commands.ts';
import { selfRegistrationCommands } from './commands/self-registration-commands.ts';
import { initCommands } from './commands/init-command.ts';
import { userCommands } from './commands/user-commands.ts';
import { revocationCommands } from './commands/revocation-commands.ts';
import { governanceCommands } from './commands/governance-commands.ts';
import { keyCommands } from './commands/key-commands.ts';
import { notificationCommands } from './commands/notification-commands.ts';
import { backupCommands } from './commands/backup-commands.ts';
import { standingDelegationCommands } from './commands/standing-delegation-commands.ts';
import { delegationCommands } from './commands/delegation-commands.ts';
import { delegationAuditCommands } from './commands/delegation-audit-command.ts';
import { accessRequestCommands } from './commands/access-request-commands.ts';
import { scopeGrantCommands } from './commands/scope-grant-commands.ts';
import { approvalAuditCommands } from './commands/approval-audit-command.ts';
import { PROPAGATION_OPTIONS, runPropagated } from './propagation.ts';

// Each run loads only what its command needs: the command lists above hold names, usage and
// options, and every command imports its domain modules when it runs; the database (Prisma,
// the drivers), the master key and the failure reporting (errors.ts) load on first use. A
// read such as `govauth role list` so never loads argon2, jose, pino, pg or OpenTelemetry's
// SDK (measured: 650 modules and ~430 ms before; bench/cli-bench.ts).
const COMMANDS: readonly Command[] = [...initCommands, ...catalogCommands, ...factorCommands, ...roleHierarchyCommands, ...clientCommands, ...selfRegistrationCommands, ...userCommands, ...revocationCommands, ...delegationCommands, ...standingDelegationCommands, ...governanceCommands, ...delegationAuditCommands, ...accessRequestCommands, ...scopeGrantCommands, ...approvalAuditCommands, ...keyCommands, ...notificationCommands, ...backupCommands, ...abacCommands];

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function noDatabaseMessage(database: Parameters<typeof databaseLocation>[0]): string {
  const where = database.kind === 'sqlite' ? 'DATABASE_URL or GOVAUTH_DATA_DIR' : 'DATABASE_URL';
  return (
    `no govauth database at ${databaseLocation(database)}: run \`govauth init\` to create it there, or start the server once, ` +
    `or point ${where} at the server's database (relative paths are resolved against ${PROJECT_DIR})`
  );
}

function helpText(prefix?: string): string {
  const shown = COMMANDS.filter((c) => !prefix || c.name.split(' ')[0] === prefix);
  return ['usage: govauth <command> [options] [--json]', '       govauth --version', '', ...shown.map((c) => `  ${c.usage}\n      ${c.summary}`)].join('\n');
}

function findCommand(argv: readonly string[]): { command: Command; rest: string[] } | undefined {
  for (const words of [3, 2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const command = COMMANDS.find((c) => c.name === name);
    if (command) return { command, rest: argv.slice(words) };
  }
  return undefined;
}

/** The operator recorded in the audit trail: GOVAUTH_OPERATOR, else the OS account and host. */
function cliOperator(env: Readonly<Record<string, string | undefined>>): string {
  const named = env.GOVAUTH_OPERATOR?.trim();
  if (named && /^[\w.@+-]{1,128}$/.test(named)) return named;
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `uid:${process.getuid?.() ?? 'unknown'}@${hostname()}`;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function runCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: { stdin?: () => Promise<string>; stdout?: (text: string) => void } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const end = argv.indexOf('--');
  const json = (end === -1 ? argv : argv.slice(0, end)).includes('--json');
  if (!argv.length || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') return { code: EXIT.ok, stdout: `${helpText()}\n`, stderr: '' };
  if (argv[0] === '--version') return { code: EXIT.ok, stdout: json ? `${JSON.stringify({ version: VERSION })}\n` : `govauth ${VERSION}\n`, stderr: '' };
  const found = findCommand(argv);
  if (!found) {
    const [{ nearestCommand }, { formatFailure, unknownCommand }] = await Promise.all([import('./suggest.ts'), import('./errors.ts')]);
    const group = COMMANDS.some((c) => c.name.startsWith(`${argv[0]} `)) ? argv[0] : undefined;
    const suggestion = nearestCommand(argv, COMMANDS.map((c) => c.name));
    // With a likely typo, the suggestion alone; otherwise the commands to choose from.
    const words = argv.slice(0, suggestion?.split(' ').length ?? 2);
    const firstOption = words.findIndex((w, i) => i > 0 && w.startsWith('-'));
    const typed = (firstOption === -1 ? words : words.slice(0, firstOption)).join(' ');
    const help = suggestion ? 'run `govauth --help` to list every command' : `\n${group ? helpText(group) : helpText()}`;
    const failure = unknownCommand(typed, suggestion, help);
    return { code: failure.exit, stdout: '', stderr: formatFailure(failure, json) };
  }
  const { command, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) return { code: 0, stdout: `usage: ${command.usage}\n  ${command.summary}\n`, stderr: '' };

  let db: Database | undefined;
  let master: MasterKey | undefined;
  let streamed = '';
  const ctx: CliContext = {
    env,
    now: systemClock,
    actor: { actorType: 'cli', actor: cliOperator(env) },
    stdin: io.stdin ?? readStdin,
    out: (text) => {
      if (io.stdout) io.stdout(text);
      else streamed += text;
    },
    async master() {
      if (!master) {
        const [{ loadMasterKey }, { checkMasterKey }, { createLogger }] = await Promise.all([
          import('../keys/master-key.ts'),
          import('../keys/signing-keys.ts'),
          import('../log/logger.ts'),
        ]);
        const config = loadConfig(env);
        // The database first: pointed at the wrong place, fail before creating a key file there.
        const database = await ctx.db();
        const key = loadMasterKey(config.masterKey, createLogger({ level: 'warn', destination: process.stderr }), true);
        await checkMasterKey(database, key);
        master = key;
      }
      return master;
    },
    async db() {
      if (!db) {
        const [{ isInitialized, migrate }, { openDatabase }] = await Promise.all([import('../db/migrate.ts'), import('../db/database.ts')]);
        const config = loadConfig(env);
        // Only `init` (and the server) create a database: any other command finding none is
        // pointed at the wrong place, and would otherwise act on a new, empty one.
        if (!command.createsDatabase && !(await isInitialized(config.database))) {
          const { NoDatabase } = await import('./errors.ts');
          throw new NoDatabase(noDatabaseMessage(config.database));
        }
        await migrate(config.database);
        // The CLI may wait longer than the server for a SQLite lock held by a running server.
        db = await openDatabase(config.database, { lockWaitMs: 20_000, poolSize: 2, now: ctx.now });
      }
      return db;
    },
  };
  try {
    // A process's argv is always well-formed; the in-process runner (tests, tools) need not be.
    // A lone surrogate has no UTF-8 form and the database driver refuses it (exit 70 before).
    const malformed = rest.find((a) => !a.isWellFormed());
    if (malformed !== undefined) throw new UsageError(`argument ${JSON.stringify(malformed.slice(0, 40))} is not well-formed Unicode`);
    const options = { ...command.options, json: { type: 'boolean' as const }, ...PROPAGATION_OPTIONS };
    const shielded = acceptDashLedArguments(rest, options, command.positionals.length > 0);
    const parsed = parseArgs({ args: shielded.args, options, allowPositionals: true, strict: true });
    parsed.positionals = parsed.positionals.map(shielded.restore);
    // A variadic command's last positional takes one or more arguments (its `<key=value>...`).
    if (parsed.positionals.length !== command.positionals.length && !(command.positionalsOptional && parsed.positionals.length === 0) && !(command.variadic && parsed.positionals.length >= command.positionals.length)) {
      throw new UsageError(
        command.positionals.length
          ? `expected ${command.positionals.map((p) => `<${p}>`).join(' ')}${parsed.positionals.length > command.positionals.length ? ', got extra arguments' : ''}`
          : `unexpected argument ${JSON.stringify(parsed.positionals[0])}`,
      );
    }
    const { result, code, stderr } = await runPropagated(() => command.run({ values: parsed.values, positionals: parsed.positionals }, ctx), parsed.values, ctx);
    if (command.streams) return { code: EXIT.ok, stdout: streamed, stderr: '' };
    return { code, stdout: json ? `${JSON.stringify(result.json)}\n` : `${result.text}\n`, stderr };
  } catch (err) {
    const { classify, formatFailure } = await import('./errors.ts');
    const failure = classify(err, command);
    return { code: failure.exit, stdout: '', stderr: formatFailure(failure, json) };
  } finally {
    await db?.close();
  }
}

/**
 * Identifiers govauth prints are base64url (a kid is its key's RFC 7638 thumbprint, a grant id
 * comes from oidc-provider), so one in 64 starts with '-', and `govauth keys withdraw -5Xz…` or
 * `govauth revoke --grant -Qa…` must work as printed. govauth has no short options, so a
 * single-dash argument is never an option; parseArgs would still refuse it (an unknown option,
 * or an "ambiguous" option value). So: after a string option it becomes that option's inline
 * value (`--grant=-Qa…`, which parseArgs accepts); elsewhere, for a command that takes
 * positionals, it is hidden behind a placeholder no argument can forge and put back after
 * parsing. Nothing changes after `--`, and a command without positionals still answers
 * "Unknown option". A double-dash value (`--description --json`) is still ambiguous.
 */
function acceptDashLedArguments(args: readonly string[], options: Command['options'], takesPositionals: boolean): { args: string[]; restore: (positional: string) => string } {
  const tag = `\u0000${randomUUID()}:`;
  const hidden: string[] = [];
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (!/^-[^-]/.test(arg)) {
      out.push(arg);
      continue;
    }
    const previous = out.at(-1);
    if (previous?.startsWith('--') && !previous.includes('=') && options[previous.slice(2)]?.type === 'string') {
      out[out.length - 1] = `${previous}=${arg}`;
    } else if (takesPositionals) {
      out.push(`${tag}${hidden.length}`);
      hidden.push(arg);
    } else out.push(arg);
  }
  return { args: out, restore: (p) => (p.startsWith(tag) ? (hidden[Number(p.slice(tag.length))] ?? p) : p) };
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/govauth') || process.argv[1]?.endsWith('govauth.js')) {
  // `govauth audit export | head`: the reader has what it wanted; stop quietly, as Unix tools do.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const result = await runCli(process.argv.slice(2), process.env, { stdout: (text) => void process.stdout.write(text) });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = result.code;
}

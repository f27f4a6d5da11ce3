// The govauth CLI: `govauth <group> <action> [args] [--json]`. Output for people by default;
// --json prints exactly one JSON object on stdout. Errors go to stderr with a non-zero exit:
// 2 usage, 1 refused operation, 78 configuration, 70 internal.
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load-config.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { migrate, MigrationError } from '../db/migrate.ts';
import { isAppError } from '../errors/app-error.ts';
import { loadMasterKey, MasterKeyError, type MasterKey } from '../keys/master-key.ts';
import { checkMasterKey, KeyStoreError } from '../keys/signing-keys.ts';
import { createLogger } from '../log/logger.ts';
import { UsageError, type CliContext, type Command } from './command.ts';
import { catalogCommands } from './commands/catalog-commands.ts';
import { clientCommands } from './commands/client-commands.ts';
import { initCommands } from './commands/init-command.ts';
import { userCommands } from './commands/user-commands.ts';
import { revocationCommands } from './commands/revocation-commands.ts';
import { ChainBroken, governanceCommands } from './commands/governance-commands.ts';
import { keyCommands } from './commands/key-commands.ts';
import { PROPAGATION_OPTIONS, runPropagated } from './propagation.ts';

const COMMANDS: readonly Command[] = [...initCommands, ...catalogCommands, ...clientCommands, ...userCommands, ...revocationCommands, ...governanceCommands, ...keyCommands];

function helpText(prefix?: string): string {
  const shown = COMMANDS.filter((c) => !prefix || c.name.split(' ')[0] === prefix);
  return ['usage: govauth <command> [options] [--json]', '', ...shown.map((c) => `  ${c.usage}\n      ${c.summary}`)].join('\n');
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
  if (!argv.length || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') return { code: 0, stdout: `${helpText()}\n`, stderr: '' };
  const found = findCommand(argv);
  if (!found) {
    const group = COMMANDS.some((c) => c.name.startsWith(`${argv[0]} `)) ? argv[0] : undefined;
    const hint = group ? helpText(group) : helpText();
    return { code: 2, stdout: '', stderr: `govauth: unknown command "${printable(argv.slice(0, 2).join(' '))}"\n\n${hint}\n` };
  }
  const { command, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) return { code: 0, stdout: `usage: ${command.usage}\n  ${command.summary}\n`, stderr: '' };

  let db: Database | undefined;
  let master: MasterKey | undefined;
  let streamed = '';
  const ctx: CliContext = {
    env,
    actor: { actorType: 'cli', actor: cliOperator(env) },
    stdin: io.stdin ?? readStdin,
    out: (text) => {
      if (io.stdout) io.stdout(text);
      else streamed += text;
    },
    async master() {
      if (!master) {
        const config = loadConfig(env);
        const key = loadMasterKey(config.masterKey, createLogger({ level: 'warn', write: (line) => process.stderr.write(`${line}\n`) }), true);
        await checkMasterKey(await ctx.db(), key);
        master = key;
      }
      return master;
    },
    async db() {
      if (!db) {
        const config = loadConfig(env);
        await migrate(config.database);
        // The CLI may wait longer than the server for a SQLite lock held by a running server.
        db = await openDatabase(config.database, { lockWaitMs: 20_000, poolSize: 2 });
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
    const json = parsed.values.json === true;
    if (parsed.positionals.length !== command.positionals.length) {
      throw new UsageError(
        command.positionals.length
          ? `expected ${command.positionals.map((p) => `<${p}>`).join(' ')}${parsed.positionals.length > command.positionals.length ? ', got extra arguments' : ''}`
          : `unexpected argument ${JSON.stringify(parsed.positionals[0])}`,
      );
    }
    const { result, code, stderr } = await runPropagated(() => command.run({ values: parsed.values, positionals: parsed.positionals }, ctx), parsed.values, ctx);
    if (command.streams) return { code: 0, stdout: streamed, stderr: '' };
    return { code, stdout: json ? `${JSON.stringify(result.json)}\n` : `${result.text}\n`, stderr };
  } catch (err) {
    return { ...failure(err, command), stdout: '' };
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

/**
 * Messages quote what was typed, and land on a terminal: control characters are written as
 * \u escapes (an argument carrying ESC sequences, C1 controls or a newline must not act on the
 * operator's terminal or forge a line), and a quoted 100 kB argument is cut short. Found by
 * test/security/cli-input.test.ts. `lines`: keep the newlines of a multi-line usage message.
 */
function printable(message: string, lines = false): string {
  const shown = message.replace(lines ? /[^\P{Cc}\n]/gu : /\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return shown.length > 500 ? `${shown.slice(0, 500)}…` : shown;
}

function failure(err: unknown, command: Command): { code: number; stderr: string } {
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    return { code: 2, stderr: `govauth ${command.name}: ${printable((err as Error).message, true)}\nusage: ${command.usage}\n` };
  }
  if (isAppError(err)) return { code: 1, stderr: `govauth ${command.name}: ${printable(err.message)}\n` };
  if (err instanceof ChainBroken) return { code: 3, stderr: `govauth ${command.name}: ${err.message}\n` };
  if (err instanceof ConfigError) return { code: 78, stderr: `govauth: ${err.message}\n` };
  if (err instanceof MasterKeyError || err instanceof KeyStoreError) return { code: 1, stderr: `govauth ${command.name}: ${err.message}\n` };
  if (err instanceof MigrationError) return { code: 1, stderr: `govauth: database migration failed: ${err.message}\n` };
  const message = (err as Error).message ?? String(err);
  if (/SQLITE_BUSY|database is locked/.test(message)) {
    return { code: 1, stderr: `govauth ${command.name}: the database is busy (a server is writing); try again\n` };
  }
  if (/ECONNREFUSED|Can't reach database|connect/.test(message)) {
    return { code: 1, stderr: `govauth ${command.name}: cannot reach the database (${message.split('\n')[0]})\n` };
  }
  // Prisma's messages start with a newline: show their first non-empty line.
  return { code: 70, stderr: `govauth ${command.name}: internal error: ${printable(message.trim().split('\n')[0] ?? '')}\n` };
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

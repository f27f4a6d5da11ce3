// How the CLI fails: every error becomes one exit status (the README's exit-status table) and
// one stable error code, shown to people as a line on stderr, or with --json as exactly one
// JSON object {"error", "message"} on stderr and nothing on stdout. Scripts branch on the exit
// status and the code; the message is for people. Loaded only when a run fails (main.ts).
import { ConfigError } from '../config/load-config.ts';
import { MigrationError } from '../db/migrate.ts';
import { isAppError } from '../errors/app-error.ts';
import { MasterKeyError } from '../keys/master-key.ts';
import { KeyStoreError } from '../keys/signing-keys.ts';
import { UsageError } from './command.ts';
import { EXIT } from './exit-status.ts';
import { ChainBroken } from './commands/governance-commands.ts';

/** A command other than `init` pointed at a database govauth never set up. */
export class NoDatabase extends Error {}

export interface CliFailure {
  readonly exit: number;
  /** Stable, machine-readable: an admin API error code (not_found, conflict, …) or a CLI one. */
  readonly error: string;
  readonly message: string;
  /** Shown to people after the message (a usage line, a help text); never in --json. */
  readonly hint?: string;
  /** Prefix people see: "govauth <command>" where the error belongs to one. */
  readonly prefix: string;
}

export function unknownCommand(typed: string, suggestion: string | undefined, help: string): CliFailure {
  return {
    exit: EXIT.usage,
    error: 'unknown_command',
    message: `unknown command "${printable(typed)}"${suggestion ? `; did you mean \`govauth ${suggestion}\`?` : ''}`,
    hint: help,
    prefix: 'govauth',
  };
}

/** Maps anything a command threw to its exit status, code and message. */
export function classify(err: unknown, command: { name: string; usage: string }): CliFailure {
  const prefix = `govauth ${command.name}`;
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    return { exit: EXIT.usage, error: 'usage_error', message: printable((err as Error).message, true), hint: `usage: ${command.usage}`, prefix };
  }
  if (isAppError(err)) return { exit: EXIT.refused, error: err.code, message: printable(err.message), prefix };
  if (err instanceof ChainBroken) return { exit: EXIT.chainBroken, error: 'audit_chain_broken', message: err.message, prefix };
  if (err instanceof ConfigError) return { exit: EXIT.config, error: 'invalid_configuration', message: err.message, prefix: 'govauth' };
  if (err instanceof NoDatabase) return { exit: EXIT.config, error: 'no_database', message: err.message, prefix: 'govauth' };
  if (err instanceof MasterKeyError || err instanceof KeyStoreError) return { exit: EXIT.refused, error: 'master_key', message: err.message, prefix };
  if (err instanceof MigrationError) return { exit: EXIT.refused, error: 'migration_failed', message: `database migration failed: ${err.message}`, prefix: 'govauth' };
  const message = (err as Error | undefined)?.message ?? String(err);
  if (/SQLITE_BUSY|database is locked/.test(message)) {
    return { exit: EXIT.refused, error: 'database_busy', message: 'the database is busy (a server is writing); try again', prefix };
  }
  if (/ECONNREFUSED|Can't reach database|connect/.test(message)) {
    return { exit: EXIT.refused, error: 'database_unavailable', message: `cannot reach the database (${printable(message.split('\n')[0] ?? '')})`, prefix };
  }
  // Prisma's messages start with a newline: show their first non-empty line.
  return { exit: EXIT.internal, error: 'internal_error', message: `internal error: ${printable(message.trim().split('\n')[0] ?? '')}`, prefix };
}

/** What goes to stderr: a line (and hint) for people, or exactly one JSON object. */
export function formatFailure(f: CliFailure, json: boolean): string {
  if (json) return `${JSON.stringify({ error: f.error, message: oneLine(f.message) })}\n`;
  return `${f.prefix}: ${f.message}\n${f.hint === undefined ? '' : `${f.hint}\n`}`;
}

/** "Invalid configuration:\n  - A\n  - B" → "Invalid configuration: A; B". */
const oneLine = (message: string): string => message.replace(/:\n\s*- /, ': ').replace(/\n\s*- /g, '; ').replace(/\n\s*/g, ' ');

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

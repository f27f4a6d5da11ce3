// What a CLI command is, and the helpers commands share for reading their arguments.
import type { ParseArgsOptionsConfig } from 'node:util';
import type { Database } from '../db/database.ts';
import type { Actor } from '../audit/audit-chain.ts';
import type { MasterKey } from '../keys/master-key.ts';
import type { Clock } from '../time/clock.ts';

export class UsageError extends Error {}

export interface CliContext {
  /** Opens (and migrates) the database on first use. */
  db(): Promise<Database>;
  /** The master key, checked against the database (needed to seal TOTP secrets). */
  master(): Promise<MasterKey>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The one clock every command reads "now" from (systemClock). */
  readonly now: Clock;
  /** Who the audit trail records for changes made through this CLI run. */
  readonly actor: Actor;
  readonly stdin: () => Promise<string>;
  /** Streams output (commands with `streams: true`), e.g. JSON Lines exports. */
  out(text: string): void;
}

export interface CommandResult {
  /** Exactly what --json prints: one object. */
  readonly json: Record<string, unknown>;
  /** What a person sees. */
  readonly text: string;
}

export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface Command {
  readonly name: string; // e.g. "scope create"
  readonly usage: string;
  readonly summary: string;
  readonly options: ParseArgsOptionsConfig;
  readonly positionals: readonly string[]; // names of required positionals
  /** The positionals may all be left out (the command then names its target with options instead). */
  readonly positionalsOptional?: boolean;
  /** More positionals than named may follow (the last named one repeats; none named: optional ones). */
  readonly variadic?: boolean;
  /** Writes its own output through ctx.out; --json prints nothing more. */
  readonly streams?: boolean;
  /** May create the database (`init`); every other command needs an existing one. */
  readonly createsDatabase?: boolean;
  run(input: { values: Values; positionals: string[] }, ctx: CliContext): Promise<CommandResult>;
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function required(values: Values, name: string): string {
  const v = str(values, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

export function list(values: Values, name: string): string[] | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const items = (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(','));
  return items.map((x) => x.trim()).filter(Boolean);
}

export function int(values: Values, name: string): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number (got ${JSON.stringify(v)})`);
  return Number(v);
}

export const flag = (values: Values, name: string): boolean => values[name] === true;

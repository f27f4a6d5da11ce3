// Read-your-writes for the CLI: a command that wrote to the change feed returns only once every
// live server instance has applied its change, or the wait (--wait, GOVAUTH_PROPAGATION_WAIT_MS,
// default 2 s) ran out; then it names the instances that had not, and exits 75.
// Exit 75 (EX_TEMPFAIL, sysexits.h) and not 1: the change IS committed (running the command
// again would repeat it); what is not confirmed is that every instance serves it yet, a
// condition that ends by itself (the laggard catches up, or stops counting as live).
import { loadConfig } from '../config/load-config.ts';
import { trackChanges } from '../db/change-feed.ts';
import { awaitPropagation, describePropagation, type Propagation } from '../governance/propagation.ts';
import { str, UsageError, type CliContext, type CommandResult, type Values } from './command.ts';
import { EXIT } from './exit-status.ts';

export const PROPAGATION_OPTIONS = { wait: { type: 'string' }, 'no-wait': { type: 'boolean' } } as const;
const MAX_WAIT_MS = 60_000;

/** --wait 2s | 500ms | 0 (check once), --no-wait (report without waiting), else the configured default. */
function waitFor(values: Values, env: CliContext['env']): { ms: number; enforce: boolean } {
  const raw = str(values, 'wait');
  if (values['no-wait'] === true) {
    if (raw !== undefined) throw new UsageError('--wait and --no-wait exclude each other');
    return { ms: 0, enforce: false };
  }
  if (raw === undefined) return { ms: loadConfig(env).propagationWaitMs, enforce: true };
  const m = /^(\d{1,5})(ms|s)?$/.exec(raw.trim());
  const ms = m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : NaN;
  if (!(ms <= MAX_WAIT_MS)) throw new UsageError(`--wait must be a duration up to 60s, like 2s or 500ms (got ${JSON.stringify(raw)})`);
  return { ms, enforce: true };
}

/**
 * Runs a command; if it wrote changes, waits for them to be in force and adds the outcome to
 * its output (`propagation` in --json). `code` is 0, or 75 when a live instance lags.
 */
export async function runPropagated(
  run: () => Promise<CommandResult>,
  values: Values,
  ctx: CliContext,
): Promise<{ result: CommandResult; code: number; stderr: string }> {
  const wait = waitFor(values, ctx.env); // a bad --wait is refused before anything is written
  const { result, changeId } = await trackChanges(run);
  if (!changeId) return { result, code: EXIT.ok, stderr: '' };
  let propagation: Propagation;
  try {
    propagation = await awaitPropagation(await ctx.db(), changeId, wait.ms);
  } catch (err) {
    // Never report a committed change as a failure to make it: it would invite a repeat.
    const message = `the change is committed, but whether running instances applied it could not be read: ${(err as Error).message.trim().split('\n')[0] ?? ''}`;
    const stderr = values.json === true ? `${JSON.stringify({ error: 'propagation_unknown', message })}\n` : `govauth: ${message}\n`;
    return { result, code: EXIT.notInForceEverywhere, stderr };
  }
  const line = wait.enforce || propagation.complete ? describePropagation(propagation, wait.ms) : `${describePropagation(propagation, wait.ms).split(';')[0]} so far (not waited for)`;
  const amended = { json: { ...result.json, propagation }, text: `${result.text}\n${line}` };
  if (propagation.complete || !wait.enforce) return { result: amended, code: EXIT.ok, stderr: '' };
  const message = `the change is committed but not yet in force everywhere: ${line}`;
  const stderr = values.json === true ? `${JSON.stringify({ error: 'propagation_incomplete', message, laggards: propagation.laggards })}\n` : `govauth: ${message}\n`;
  return { result: amended, code: EXIT.notInForceEverywhere, stderr };
}

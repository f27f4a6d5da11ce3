// govauth audit delegations: which agents acted for a person, on what, when (the token
// exchanges the audit trail recorded with that person as subject).
import type { DelegationEvent } from '../../audit/delegation-history.ts';
import { flag, int, required, str, UsageError, type Command } from '../command.ts';
import { table } from '../table.ts';

// Loaded when a command runs, not with the command list (src/cli/main.ts).
const history = () => import('../../audit/delegation-history.ts');
const durations = () => import('../../governance/durations.ts');

const who = (c: { client_id: string | null; name: string | null }): string => (c.name === null ? (c.client_id ?? '?') : `${c.name} (${c.client_id ?? '?'})`);

const row = (e: DelegationEvent, refused: boolean): string[] => [
  e.at,
  ...(refused ? [e.outcome === 'refused' ? `refused: ${e.error ?? '?'}${e.reason ? ` (${e.reason})` : ''}` : 'exchanged'] : []),
  who(e.agent),
  e.chain.map((h) => h.name ?? h.client_id).join(' ← ') || '-',
  e.resource ?? '-',
  e.scopes.join(' ') || '-',
  e.lifetime === null ? '-' : `${e.lifetime}s`,
  e.jti ?? '-',
];

export const delegationAuditCommands: Command[] = [
  {
    name: 'audit delegations',
    usage: 'govauth audit delegations --user <email|user_id> [--since <time|7d>] [--until <time>] [--limit N] [--refused]',
    summary: 'which agents acted for a person (token exchanges), on what and when, with the whole chain of agents: the most recent N (default 50), oldest first; --refused adds refused attempts',
    options: { user: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, limit: { type: 'string' }, refused: { type: 'boolean' } },
    positionals: [],
    async run({ values }, ctx) {
      const [{ delegationHistory, MAX_DELEGATION_ROWS }, { parseInstant }] = await Promise.all([history(), durations()]);
      const limit = int(values, 'limit') ?? 50;
      if (limit < 1 || limit > MAX_DELEGATION_ROWS) throw new UsageError(`--limit must be between 1 and ${MAX_DELEGATION_ROWS}`);
      const now = ctx.now();
      const since = str(values, 'since');
      const until = str(values, 'until');
      const refused = flag(values, 'refused');
      const report = await delegationHistory(await ctx.db(), {
        user: required(values, 'user'),
        since: since === undefined ? undefined : parseInstant(since, now, '--since'),
        until: until === undefined ? undefined : parseInstant(until, now, '--until'),
        limit,
        refused,
      });
      const heading = `agents acting for ${report.user.email} (${report.user.id}): ${report.events.length} ${refused ? 'exchanges and refusals' : 'exchanges'}${report.truncated ? '; older ones exist (--since, --limit)' : ''}`;
      const headers = ['AT', ...(refused ? ['OUTCOME'] : []), 'AGENT', 'CHAIN (ACTING FIRST)', 'RESOURCE', 'SCOPES', 'LIFETIME', 'TOKEN JTI'];
      return { json: { ...report }, text: `${heading}\n${table(headers, report.events.map((e) => row(e, refused)))}` };
    },
  },
];

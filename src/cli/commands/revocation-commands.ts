// govauth revoke … / govauth revocations list: instant governance revocation.
import { loadConfig } from '../../config/load-config.ts';
import { str, UsageError, type Command } from '../command.ts';
import { table } from '../table.ts';

// Loaded when a command runs, not with the command list (src/cli/main.ts).
const revocationsModule = () => import('../../governance/revocations.ts');

export const revocationCommands: Command[] = [
  {
    name: 'revoke',
    usage: 'govauth revoke --user <email> | --client <client_id> | --role <name> | --grant <grant_id> [--reason <text>]',
    summary: 'make every token issued to that principal until now inactive, and stop its refresh tokens',
    options: { user: { type: 'string' }, client: { type: 'string' }, role: { type: 'string' }, grant: { type: 'string' }, reason: { type: 'string' } },
    positionals: [],
    async run({ values }, ctx) {
      const { revokePrincipal } = await revocationsModule();
      // Naming no principal, or two, is a usage mistake (exit 2), not a refusal.
      const named = ['user', 'client', 'role', 'grant'].filter((k) => str(values, k) !== undefined);
      if (named.length !== 1) throw new UsageError(`name exactly one of --user, --client, --role, --grant${named.length ? ` (got --${named.join(', --')})` : ''}`);
      const config = loadConfig(ctx.env);
      const { entry, label } = await revokePrincipal(await ctx.db(), {
        user: str(values, 'user'),
        client: str(values, 'client'),
        role: str(values, 'role'),
        grant: str(values, 'grant'),
        reason: str(values, 'reason'),
        actor: 'cli',
        by: ctx.actor,
        horizonSeconds: config.signIn.sessionMaxAge,
      }, ctx.now());
      const cutoff = new Date(entry.cutoff).toISOString();
      return {
        json: { revoked: { kind: entry.kind, key: entry.key, label, cutoff, expires_at: new Date(entry.expiresAt).toISOString() } },
        text:
          `revoked every token issued to ${entry.kind} ${label} until ${cutoff}.\n` +
          'New tokens can still be issued' +
          (entry.kind === 'user' || entry.kind === 'client' ? ` unless you also run: govauth ${entry.kind} disable ${label}` : '') +
          '.',
      };
    },
  },
  {
    name: 'revocations list',
    usage: 'govauth revocations list',
    summary: 'list the revocations in force',
    options: {},
    positionals: [],
    async run(_input, ctx) {
      const { listRevocations } = await revocationsModule();
      const revocations = await listRevocations(await ctx.db(), ctx.now());
      return {
        json: { revocations },
        text: table(
          ['KIND', 'WHO / WHAT', 'CUTOFF', 'IN FORCE UNTIL', 'BY', 'REASON'],
          revocations.map((r) => [r.kind, r.label, r.cutoff, r.expires_at, r.actor ?? '-', r.reason ?? '']),
        ),
      };
    },
  },
];

// govauth audit approvals: for every grant an access request made, who asked, who approved, and
// whether each approver was a different person from the one it was for and the one who asked.
import type { ApprovedGrant } from '../../audit/approval-history.ts';
import { int, str, UsageError, type Command } from '../command.ts';
import { table } from '../table.ts';

// Loaded when the command runs, not with the command list (src/cli/main.ts).
const history = () => import('../../audit/approval-history.ts');

const distinct = (g: ApprovedGrant): string =>
  g.approvers_distinct_from_requester === null ? 'n/a (no approval required)' : g.approvers_distinct_from_requester ? 'yes' : 'NO';

const row = (g: ApprovedGrant): string[] => [
  g.granted_at,
  g.request ?? '?',
  g.holder?.label ?? '?',
  g.role ?? (g.scope ? `scope ${g.scope.name} on ${g.scope.resource}` : '?'),
  g.requested_by ? `${g.requested_by.type}:${g.requested_by.id}` : '?',
  g.approvers.map((a) => a.email).join(', ') || '-',
  distinct(g),
  g.grant_expires_at ?? '?',
  g.justification ?? '',
];

export const approvalAuditCommands: Command[] = [
  {
    name: 'audit approvals',
    usage: 'govauth audit approvals [--user <email>] [--role <role>] [--limit N]',
    summary: 'who approved each grant an access request made, and whether every approver was a different person from the requester (from the audit trail)',
    options: { user: { type: 'string' }, role: { type: 'string' }, limit: { type: 'string' } },
    positionals: [],
    async run({ values }, ctx) {
      const { approvalHistory, MAX_APPROVAL_ROWS } = await history();
      const limit = int(values, 'limit') ?? 100;
      if (limit < 1 || limit > MAX_APPROVAL_ROWS) throw new UsageError(`--limit must be between 1 and ${MAX_APPROVAL_ROWS}`);
      const report = await approvalHistory(await ctx.db(), { user: str(values, 'user'), role: str(values, 'role'), limit });
      const heading = `${report.grants.length} grant${report.grants.length === 1 ? '' : 's'} made by access requests${report.truncated ? ' (older ones exist: --limit)' : ''}`;
      const headers = ['GRANTED', 'REQUEST', 'FOR', 'GRANTED WHAT', 'REQUESTED BY', 'APPROVED BY', 'APPROVERS DIFFERENT FROM REQUESTER', 'UNTIL', 'JUSTIFICATION'];
      return { json: { ...report }, text: `${heading}\n${table(headers, report.grants.map(row))}` };
    },
  },
];

// The overview: tokens issued and refused per minute over the last 24 hours (and by grant type
// and client), the scopes tokens carried most, introspection outcomes, the audit chain's head,
// role grants ending within 7 days, pending access requests, and the access review's findings.
// Token figures come from the rollup each audit batch keeps (overview-stats.ts): per minute for
// the series and grant types, per whole hour for scopes, per six hours for clients; the
// captions say so.
import { auditHead } from '../db/audit-log-reads.ts';
import { barChart, timeChart } from './charts.ts';
import type { ConsoleCall, ConsolePage } from './console-kit.ts';
import { timeBoxedGrants, type ListedUser } from './grant-rows.ts';
import { when, type Section, type TableSection } from './page-model.ts';

const DAY = 86_400_000;

/** Introspection outcomes are counted in this process's metrics (not the audit trail). */
async function introspectionRows(call: ConsoleCall): Promise<TableSection> {
  const metric = call.metrics?.getSingleMetric('govauth_introspections_total');
  const values = metric ? (await metric.get()).values : [];
  return {
    kind: 'table', title: 'Introspection outcomes (this instance, since it started)', columns: ['Token kind', 'Active', 'Reason', 'Count'], empty: metric ? 'No introspection yet.' : 'Not recorded.',
    rows: values.filter((v) => v.value > 0).map((v) => [String(v.labels.token_kind ?? ''), String(v.labels.active ?? ''), String(v.labels.reason ?? ''), v.value]),
  };
}

export const overviewPage: ConsolePage = {
  path: '',
  nav: 'Overview',
  async render(call) {
    const { deps } = call;
    const now = deps.now();
    const [stats, head, pending, intro, people] = await Promise.all([
      call.overviewStats.get(),
      auditHead(deps.db),
      call.operation<{ requests: { id: string; role: string; holder: { label: string }; lapses_at: string }[] }>('listAccessRequests', { query: { pending: 'true' } }),
      introspectionRows(call),
      call.operation<{ users: ListedUser[] }>('listUsers'),
    ]);
    const { minutes, byGrant, byClient, scopes } = stats;
    const snapshot = deps.policy.snapshot();
    const clientName = (id: string): string => (id ? `${snapshot.clients.get(id)?.name ?? id}` : '(unknown client)');
    const at = (m: string): number => Date.parse(`${m}:00Z`);
    const totals = minutes.reduce((t, m) => ({ issued: t.issued + m.issued, refused: t.refused + m.refused }), { issued: 0, refused: 0 });
    const expiring = timeBoxedGrants(snapshot, people.users, now, now + 7 * DAY);
    const sections: Section[] = [
      {
        kind: 'facts', title: 'Last 24 hours',
        items: [
          { label: 'Tokens issued', value: String(totals.issued) },
          { label: 'Tokens refused', value: String(totals.refused), tone: totals.refused ? 'bad' : 'ok' },
          { label: 'Audit chain head', value: head ? `#${head.seq} at ${when(head.at)}, hash ${head.hash.slice(0, 16)}…` : 'empty' },
          { label: 'Pending approvals', value: String(pending.requests.length) },
          { label: 'Grants ending within 7 days', value: String(expiring.length) },
          { label: 'Access review findings', value: String(stats.findings.total), tone: stats.findings.total ? 'bad' : 'ok' },
        ],
      },
      {
        kind: 'chart', title: 'Tokens per minute', intro: 'Issued (including refreshed and exchanged) and refused token requests, counted as their audit records are written.',
        svg: timeChart('Tokens per minute, last 24 hours', `${totals.issued} issued and ${totals.refused} refused in the last 24 hours.`, stats.since, now, 60_000, [
          { label: 'issued', className: 'series-issued line', points: minutes.map((m) => ({ at: at(m.minute), value: m.issued })) },
          { label: 'refused', className: 'series-refused line', points: minutes.map((m) => ({ at: at(m.minute), value: m.refused })) },
        ]),
        caption: `UTC, per minute from ${when(stats.since)} to ${when(stats.at)}. The table lists the minutes with any token request.`,
        table: { kind: 'table', title: 'Tokens per minute', columns: ['Minute (UTC)', 'Issued', 'Refused'], rows: minutes.slice(-200).reverse().map((m) => [m.minute.replace('T', ' '), m.issued, m.refused]), empty: 'No token requests in the last 24 hours.' },
      },
      {
        kind: 'chart', title: 'By grant type', svg: barChart('Tokens by grant type', 'Issued and refused token requests per grant type, last 24 hours.', byGrant.map((r) => ({ label: r.key || '(none)', issued: r.issued, refused: r.refused }))), caption: `Blue: issued; red: refused. Per minute from ${when(stats.since)}.`,
        table: { kind: 'table', title: 'By grant type', columns: ['Grant type', 'Issued', 'Refused'], rows: byGrant.map((r) => [r.key || '(none)', r.issued, r.refused]), empty: 'No token requests.' },
      },
      {
        kind: 'chart', title: 'By client (top 10)', svg: barChart('Tokens by client', 'Issued and refused token requests per client, last 24 hours, the ten busiest.', byClient.map((r) => ({ label: clientName(r.key), issued: r.issued, refused: r.refused }))), caption: `Blue: issued; red: refused. Counted per six hours: from ${when(stats.clientsSince)}, up to 30 hours.`,
        table: { kind: 'table', title: 'By client', columns: ['Client', 'Issued', 'Refused'], rows: byClient.map((r) => [r.key ? { text: clientName(r.key), href: `/console/client?id=${encodeURIComponent(r.key)}` } : '(unknown client)', r.issued, r.refused]), empty: 'No token requests.' },
      },
      { kind: 'table', title: 'Top scopes', intro: `Scopes in issued tokens, counted per whole hour: from ${when(stats.scopesSince)}, up to 25 hours.`, columns: ['Scope', 'Tokens'], rows: scopes.map((s) => [{ text: s.scope, code: true }, s.tokens]), empty: 'No tokens issued in the last 24 hours.' },
      intro,
      { kind: 'table', title: 'Grants ending within 7 days', columns: ['Holder', 'Role', 'Ends'], rows: expiring.slice(0, 50).map((g) => [g.label, g.role, when(g.expiresAt)]), empty: 'No role grant ends within 7 days.' },
      { kind: 'table', title: 'Pending approvals', columns: ['Request', 'Holder', 'Role', 'Lapses'], rows: pending.requests.slice(0, 50).map((r) => [{ text: r.id, href: '/console/requests' }, r.holder.label, r.role, when(r.lapses_at)]), empty: 'No request is waiting.' },
      {
        kind: 'table', title: 'Access review findings', intro: 'Least-privilege findings; the Review page names each and offers its one-click fix.', columns: ['Finding', 'Count'], empty: 'No findings.',
        rows: Object.entries(stats.findings.byKind).map(([kind, n]) => [{ text: kind, href: '/console/review' }, n]),
      },
    ];
    return { title: 'Overview', sections };
  },
};

// The audit explorer (filters, chain position per record, chain verification, JSON Lines export
// of the current filter) and the access review with one-click fixes. Reads go through the admin
// operations tailAudit, verifyAudit and reviewAccess (each recorded as a read); the export
// streams with exportAuditEvents and the pager asks tailAuditEvents whether a record lies beyond
// a page, their filter checked by tailAudit's own schema.
import { adminOperation, parseRouteInput } from '../admin/perform.ts';
import { recordRead } from '../admin/read-audit.ts';
import { exportAuditEvents, tailAuditEvents, type AuditEventView } from '../audit/audit-query.ts';
import { auditFilterOf } from '../admin/audit-routes.ts';
import type { ActionForm } from './page-model.ts';
import type { ConsoleAction, ConsoleCall, ConsoleDownload, ConsolePage } from './console-kit.ts';
import { href, when, type Section } from './page-model.ts';
import { required } from './form-values.ts';

// `before` and `after` are the pager's position (a seq), not filters: the filter form and the export leave them out.
const FILTERS = ['actor', 'action', 'client', 'resource', 'subject', 'since', 'until'] as const;
const PAGE = 100;

function filterOf(query: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of FILTERS) if (query[k]) out[k] = query[k];
  return out;
}

/** The filter checked by tailAudit's own schema (audit-routes.ts), for the console's direct reads. */
const checkedQuery = (filter: Record<string, string>) => (parseRouteInput(adminOperation('tailAudit'), filter, undefined) as { query: Parameters<typeof auditFilterOf>[0] }).query;

/**
 * Whether one more matching record lies beyond the page in the direction the page's own read did
 * not look: above its newest record, or below its oldest. One indexed read of a single record; the
 * page's read (tailAudit) already checked the filter and was recorded, and this one shows no record.
 */
async function anyBeyond(call: ConsoleCall, filter: Record<string, string>, position: { before: number } | { after: number }): Promise<boolean> {
  return (await tailAuditEvents(call.deps.db, { ...auditFilterOf(checkedQuery(filter), call.deps.now()), ...position }, 1)).length > 0;
}

const auditPage: ConsolePage = {
  path: 'audit',
  nav: 'Audit',
  async render(call) {
    const filter = filterOf(call.query);
    const before = call.query.before || undefined;
    const after = call.query.after || undefined;
    // One record more than a page: whether a further page exists in the direction read, without a
    // count over the filter. Without `after` the read goes down from the newest (or from before);
    // with it, up from after, so "Newer" is exactly one page newer, never a jump to the newest.
    const [{ events }, verified] = await Promise.all([
      call.operation<{ events: AuditEventView[] }>('tailAudit', { query: { ...filter, ...(before && { before }), ...(after && { after }), limit: String(PAGE + 1) } }),
      call.query.verify === '1' ? call.operation<{ ok: boolean; records: number; broken_at?: number; problem?: string; first?: number | null; last?: number | null }>('verifyAudit') : Promise.resolve(undefined),
    ]);
    const upwards = after !== undefined;
    const further = events.length > PAGE;
    // events are oldest first; the record beyond the page is the newest (upwards) or the oldest.
    const newest = (upwards ? events.slice(0, PAGE) : events.slice(-PAGE)).reverse();
    const [top, bottom] = [newest[0], newest.at(-1)];
    // The first page is the newest by definition; a page reached by position asks the other way once.
    const newer = upwards ? further : before !== undefined && top !== undefined && (await anyBeyond(call, filter, { after: top.seq }));
    const older = upwards ? bottom !== undefined && (await anyBeyond(call, filter, { before: bottom.seq })) : further;
    const sections: Section[] = [
      {
        kind: 'form', title: 'Filter', method: 'get', action: '/console/audit',
        form: {
          action: '', label: 'Show',
          inputs: [
            { name: 'actor', label: 'Actor', type: 'text', value: filter.actor, hint: 'A client_id (its token requests), a user id, cli or system' },
            { name: 'action', label: 'Action', type: 'text', value: filter.action, hint: 'Exact, or a family ending in * (token.*, admin.*)' },
            { name: 'client', label: 'Client', type: 'text', value: filter.client, hint: 'A client_id: every record naming the client' },
            { name: 'resource', label: 'Resource', type: 'text', value: filter.resource, hint: 'An audience URI: its tokens, introspections, revocations, reported requests and changes' },
            { name: 'subject', label: 'Subject', type: 'text', value: filter.subject, hint: 'What was acted on: a person, client, role or resource' },
            { name: 'since', label: 'Since', type: 'text', value: filter.since, hint: 'ISO 8601 time, or a duration ago (24h, 7d)' },
            { name: 'until', label: 'Until', type: 'text', value: filter.until, hint: 'ISO 8601 time' },
          ],
        },
        links: [
          { href: href('/console/audit/export', filter), label: 'Export this filter as JSON Lines' },
          { href: href('/console/audit', { ...filter, verify: '1' }), label: 'Verify the chain' },
        ],
      },
    ];
    if (verified) {
      sections.push(verified.ok
        ? { kind: 'notice', title: 'Chain verification', text: `The chain verifies: ${verified.records} records, #${verified.first ?? '—'} to #${verified.last ?? '—'}.`, tone: 'ok' }
        : { kind: 'notice', title: 'Chain verification', text: `The chain is broken at #${verified.broken_at ?? '?'}: ${verified.problem ?? ''}`, tone: 'error' });
    }
    sections.push({
      kind: 'table', title: `Records (newest first, ${newest.length})`, columns: ['#', 'When', 'Action', 'Outcome', 'Actor', 'Subject', 'Client', 'Resource', 'Chain'], empty: 'No record matches.',
      rows: newest.map((e) => [e.seq, when(e.at), e.action, e.outcome, e.actor, e.subject, e.client_id, e.resource, { text: `${e.prev_hash.slice(0, 8)}→${e.hash.slice(0, 8)}`, code: true }]),
      // Paged by chain position, not time: records sharing a millisecond are neither skipped nor repeated.
      pager: before !== undefined || after !== undefined || older
        ? {
            text: after !== undefined ? `Matching records after #${after}${before === undefined ? '' : ` and before #${before}`}.` : before !== undefined ? `Matching records before #${before}.` : `The ${PAGE} most recent matching records.`,
            labels: { first: 'Newest', prev: 'Newer', next: 'Older' },
            ...((before !== undefined || after !== undefined) && { first: href('/console/audit', filter) }),
            ...(newer && top && { prev: href('/console/audit', { ...filter, after: top.seq }) }),
            ...(older && bottom && { next: href('/console/audit', { ...filter, before: bottom.seq }) }),
          }
        : undefined,
    });
    return { title: 'Audit trail', sections };
  },
};

const auditExport: ConsoleDownload = {
  path: 'audit/export',
  async handle(call: ConsoleCall) {
    // The same checks and the same filter as GET /admin/v1/audit.
    const query = checkedQuery(filterOf(call.query));
    const lines: string[] = [];
    const count = await exportAuditEvents(call.deps.db, auditFilterOf(query, call.deps.now()), (e) => lines.push(JSON.stringify(e)));
    await recordRead({ actor: call.actor, deps: call.deps }, { operation: 'consoleAuditExport', subject: 'audit', returned: count, filter: query });
    call.ctx.set('Content-Disposition', 'attachment; filename="govauth-audit.jsonl"');
    call.ctx.set('Cache-Control', 'no-store');
    call.ctx.type = 'application/jsonl';
    call.ctx.body = lines.length ? `${lines.join('\n')}\n` : '';
  },
};

interface ReviewEntry { type: 'user' | 'client'; id: string; name: string; scopes: { scope: string; via_roles: string[] }[]; findings: { kind: string; scope?: string; role?: string; message: string }[] }

/** The one-click fixes for a finding: each form runs one admin operation, as the CLI would. */
function fixesFor(e: ReviewEntry, f: ReviewEntry['findings'][number], roles: ReadonlyMap<string, ReadonlySet<string>>): ActionForm[] {
  const who: Record<string, string> = e.type === 'user' ? { email: e.name } : { id: e.id };
  switch (f.kind) {
    case 'unused_scope':
    case 'never_used_scope': {
      const via = e.scopes.find((s) => s.scope === f.scope)?.via_roles ?? [];
      return via.filter((r) => roles.has(r)).map((r) => ({ action: 'review-remove-scope', label: `Remove ${f.scope ?? ''} from role ${r}`, danger: true, fields: { role: r, scope: f.scope ?? '' } }));
    }
    case 'grant_expiring_soon':
      return [{ action: e.type === 'user' ? 'user-role-remove' : 'client-role-remove', label: `End grant of ${f.role ?? ''}`, danger: true, fields: { ...who, role: f.role ?? '' } }];
    case 'high_sensitivity_without_mfa':
      return e.type === 'user' ? [{ action: 'review-require-mfa', label: `Require MFA for ${e.name}: enroll TOTP`, fields: { email: e.name } }] : [];
    case 'high_sensitivity_with_shared_secret_bearer':
      return [{ action: 'client-pop', label: `Require proof of possession for ${e.name}`, fields: { id: e.id, require_pop: 'yes' } }];
    case 'secret_expired':
    case 'secret_expiring_soon':
      return [{ action: 'client-rotate', label: 'Rotate secret', danger: true, fields: { id: e.id, grace: '24h' } }];
    default:
      return [];
  }
}

const reviewPage: ConsolePage = {
  path: 'review',
  nav: 'Review',
  async render({ operation, deps, who }) {
    const review = await operation<{ principals: ReviewEntry[]; summary: { principals: number; findings: number; by_kind: Record<string, number> } }>('reviewAccess', { query: { findings_only: 'true' } });
    const roles = new Map([...deps.policy.snapshot().roles.values()].map((r) => [r.name, r.scopes]));
    const rows = review.principals.flatMap((e) => e.findings.map((f) => [`${e.type} ${e.name}`, f.kind, f.message, who.role === 'admin' ? { forms: fixesFor(e, f, roles) } : null] as const));
    return {
      title: 'Access review',
      sections: [
        { kind: 'facts', title: 'Summary', items: [{ label: 'Principals with findings', value: String(review.principals.length) }, { label: 'Findings', value: String(review.summary.findings), tone: review.summary.findings ? 'bad' : 'ok' }, ...Object.entries(review.summary.by_kind).map(([k, n]) => ({ label: k, value: String(n) }))] },
        { kind: 'table', title: 'Findings', columns: ['Principal', 'Finding', 'What', 'Fix'], rows: rows.slice(0, 500), empty: 'No findings: every principal holds only what it uses.' },
      ],
    };
  },
};

export const auditPages: readonly ConsolePage[] = [auditPage, reviewPage];
export const auditDownloads: readonly ConsoleDownload[] = [auditExport];

export const reviewActions: readonly ConsoleAction[] = [
  {
    name: 'review-remove-scope', operationId: 'updateRole',
    // The role's scopes as policy holds them now, less the one: the same PATCH the CLI sends.
    input: (f, deps) => ({ params: { name: required(f, 'role') }, body: { scopes: [...(deps.policy.snapshot().roles.get(required(f, 'role'))?.scopes ?? [])].filter((s) => s !== f.scope) } }),
    confirm: (f) => `Role ${f.role ?? ''} no longer carries ${f.scope ?? ''}, for everyone holding it.`,
    done: (_, f) => ({ message: `Removed ${f.scope ?? ''} from role ${f.role ?? ''}.` }),
  },
  {
    name: 'review-require-mfa', operationId: 'enrollMfa',
    input: (f) => ({ params: { email: required(f, 'email') } }),
    done: ({ result }, f) => ({
      message: `Enrolled a second factor for ${f.email ?? ''}.`,
      page: { title: 'Second factor enrolled', sections: [{ kind: 'secret', title: 'Hand this to the person over a trusted channel', items: [{ label: 'TOTP secret', value: (result as { secret: string }).secret }, { label: 'otpauth URL', value: (result as { otpauth_url: string }).otpauth_url }] }] },
    }),
  },
];

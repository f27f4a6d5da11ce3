// /audit, /audit/verify, /audit/access, /audit/delegations, /review: proving who could do what
// and who did what (as `govauth audit tail|verify|access|delegations` and `govauth review`). Read scope: auditors need no power to change.
// Reading the trail and the review (which names people) is itself recorded (read-audit.ts).
// /audit/prune is retention (as `govauth audit prune`): govauth.admin only, never inside the
// floor the operator configured (audit-retention.ts), and recorded in the chain it shortens.
import { z } from 'zod';
import { accessAt } from '../audit/audit-access.ts';
import { delegationHistory as readDelegationHistory, MAX_DELEGATION_ROWS } from '../audit/delegation-history.ts';
import { pruneAuditTrail } from '../audit/audit-retention.ts';
import { accessReport } from './access-view.ts';
import { verifyAuditChain } from '../audit/audit-verify.ts';
import { MAX_SEQ, tailAuditEvents, type AuditFilter } from '../audit/audit-query.ts';
import { reviewLive } from '../governance/access-review.ts';
import { parseInstant, retentionCutoff } from '../governance/durations.ts';
import { governed } from './input.ts';
import { recordRead } from './read-audit.ts';
import { route } from './route.ts';
import { instant, queryBool, queryInt } from './schemas.ts';
import { accessReview, auditEventView, auditPruned, chainVerification, delegationHistory } from './views.ts';

// Matched literally (audit-query.ts): no character is a wildcard but a final * in action. No
// record holds a control character (PostgreSQL text cannot hold NUL), so one is a mistake.
const filterText = (max: number) => z.string().min(1).max(max).regex(/^\P{Cc}*$/u, 'must not contain control characters');

const auditQuery = z.strictObject({
  since: instant.optional().describe('Records at or after this time (ISO 8601, or a duration ago such as 7d)'),
  until: instant.optional().describe('Records before this time'),
  action: filterText(100).optional().describe('An action, or a family ending in * (admin.*); matched literally (% and _ are not wildcards)'),
  actor: filterText(256).optional().describe('Who acted: a client_id, a user id, cli, system'),
  subject: filterText(512).optional().describe('What was acted on'),
  client: filterText(256).optional().describe('The client the record names (its client_id): its token requests, introspections, revocations, usage reports'),
  resource: filterText(2048).optional().describe('Records that concern this resource (audience URI): tokens issued, refreshed, exchanged or refused for it, introspected or revoked, requests its server reported, administrative changes to it'),
  before: queryInt(1, MAX_SEQ, 'Records before this chain position (seq): the next page of a listing is before=<the oldest seq shown>, exact even where records share a time').optional(),
  after: queryInt(1, MAX_SEQ, 'Records after this chain position (seq), the closest to it rather than the most recent: the page one newer is after=<the newest seq shown>; with before, the records between the two').optional(),
  limit: queryInt(1, 1000, 'How many of the most recent matching records').optional(),
});

/** The filter a tailAudit query names, as audit-query.ts reads it (also the console's export). */
export function auditFilterOf(query: z.infer<typeof auditQuery>, now: number): AuditFilter {
  return {
    since: query.since === undefined ? undefined : parseInstant(query.since, now, 'since'),
    until: query.until === undefined ? undefined : parseInstant(query.until, now, 'until'),
    action: query.action,
    actor: query.actor,
    subject: query.subject,
    clientId: query.client,
    resource: query.resource,
    before: query.before,
    after: query.after,
  };
}

const pruneBody = z.strictObject({
  older_than: z
    .string()
    .max(16)
    .superRefine(governed((v) => retentionCutoff(v, 0, 'older_than'), 'older_than'))
    .describe('Delete the records older than this: a duration such as 400d or 52w (at most 36500 days). Records younger than the retention floor (30 days, or GOVAUTH_AUDIT_RETENTION_DAYS if more) are never deleted: a shorter duration is refused with 400, and the refusal is recorded'),
});

const accessQuery = z.strictObject({
  resource: filterText(2048).describe('The resource (audience URI)'),
  scope: filterText(256).describe('The scope'),
  at: instant.optional().describe('The time asked about (ISO 8601, or a duration ago such as 7d); now when absent'),
});

const delegationsQuery = z.strictObject({
  user: filterText(254).describe('The person: an email address or a user id (usr_…)'),
  since: instant.optional().describe('Exchanges at or after this time (ISO 8601, or a duration ago such as 7d)'),
  until: instant.optional().describe('Exchanges before this time'),
  limit: queryInt(1, MAX_DELEGATION_ROWS, 'How many of the most recent (default 50)').optional(),
  refused: queryBool('Include refused exchanges').optional(),
});

const reviewQuery = z.strictObject({
  unused_days: queryInt(1, 3650, 'A scope unused for this many days is a finding (default 30)').optional(),
  findings_only: queryBool('Only principals with findings').optional(),
});

export const auditRoutes = [
  route({
    method: 'GET', path: '/audit', operationId: 'tailAudit', summary: 'The most recent matching audit records (with after, the closest after it), oldest first', tag: 'audit', access: 'read',
    query: auditQuery, response: z.strictObject({ events: z.array(auditEventView) }),
    async handle(call) {
      const { deps, query } = call;
      const events = await tailAuditEvents(deps.db, auditFilterOf(query, deps.now()), query.limit ?? 100);
      await recordRead(call, { operation: 'tailAudit', subject: 'audit', returned: events.length, filter: query });
      return { events };
    },
  }),
  route({
    method: 'GET', path: '/audit/verify', operationId: 'verifyAudit', summary: 'Check the audit hash chain; names the first broken record', tag: 'audit', access: 'read',
    response: chainVerification,
    async handle({ deps }) {
      const r = await verifyAuditChain(deps.db);
      return r.ok
        ? { ok: true as const, records: r.records, first: r.first ?? null, last: r.last ?? null }
        : { ok: false as const, records: r.records, broken_at: r.brokenAt, problem: r.problem };
    },
  }),
  route({
    method: 'POST', path: '/audit/prune', operationId: 'pruneAudit', summary: 'Retention: delete audit records older than a duration; the chain stays verifiable from the anchor the pruning records', tag: 'audit', access: 'write',
    body: pruneBody, response: auditPruned,
    async handle({ deps, body, actor }) {
      const now = deps.now();
      const before = retentionCutoff(body.older_than, now, 'older_than');
      return { removed: await pruneAuditTrail(deps.db, before, actor, { floorDays: deps.config.auditPruneFloorDays, now }), before: before.toISOString() };
    },
  }),
  route({
    method: 'GET', path: '/audit/access', operationId: 'auditAccess', summary: 'Who could access a resource with a scope at a time, and through which role grant (replayed from the audit trail)', tag: 'audit', access: 'read',
    query: accessQuery, response: accessReport,
    async handle(call) {
      const { deps, query } = call;
      const now = deps.now();
      const report = await accessAt(deps.db, { resource: query.resource, scope: query.scope, at: query.at === undefined ? new Date(now) : parseInstant(query.at, now, 'at') });
      await recordRead(call, { operation: 'auditAccess', subject: 'audit', returned: report.could_access.length + report.blocked.length, filter: query });
      return report;
    },
  }),
  route({
    method: 'GET', path: '/audit/delegations', operationId: 'auditDelegations', summary: 'Which agents acted for a person (token exchanges, RFC 8693), on what and when, with the whole chain of agents: the most recent, oldest first', tag: 'audit', access: 'read', errors: [404],
    query: delegationsQuery, response: delegationHistory,
    async handle(call) {
      const { deps, query } = call;
      const now = deps.now();
      const report = await readDelegationHistory(deps.db, {
        user: query.user,
        since: query.since === undefined ? undefined : parseInstant(query.since, now, 'since'),
        until: query.until === undefined ? undefined : parseInstant(query.until, now, 'until'),
        limit: query.limit ?? 50,
        refused: query.refused,
      });
      // What agents did for one person is that person's data: the read is recorded under their id.
      await recordRead(call, { operation: 'auditDelegations', subject: report.user.id, returned: report.events.length, filter: query });
      return report;
    },
  }),
  route({
    method: 'GET', path: '/review', operationId: 'reviewAccess', summary: 'Access review: roles, effective scopes, last use, expiring grants, least-privilege findings', tag: 'review', access: 'read',
    query: reviewQuery, response: accessReview,
    async handle(call) {
      const { deps, query } = call;
      const review = await reviewLive(deps.db, deps.policy, { unusedDays: query.unused_days ?? 30, now: deps.now() });
      const shown = query.findings_only ? { ...review, principals: review.principals.filter((p) => p.findings.length) } : review;
      await recordRead(call, { operation: 'reviewAccess', subject: 'review', returned: shown.principals.length, filter: query });
      return shown;
    },
  }),
];

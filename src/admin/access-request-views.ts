// Response schemas of the access request routes (access-request-routes.ts), checked against the
// governance views they serialize.
import { z } from 'zod';
import type { ApprovedGrant } from '../audit/approval-history.ts';
import type { AccessPolicyView } from '../governance/access-policies.ts';
import type { AccessRequestView } from '../governance/access-request-views.ts';
import type { ScopeAccessPolicyView } from '../governance/scope-access-policies.ts';

const isoTime = z.string().describe('ISO 8601 time (UTC)');

// The terms both kinds of access policy share (access-policies.ts PolicyTermsView).
const policyTerms = {
  require_approval: z.boolean(),
  approvals: z.number().int().describe('Distinct approvers needed: 1 or 2'),
  approver_role: z.string().describe('An approver must hold this role at the moment of approval'),
  max_duration: z.number().int().describe('Seconds: the longest a request may ask for'),
  lapse_after: z.number().int().describe('Seconds a request may wait for a decision'),
  updated_at: isoTime,
};

export const accessPolicyView = z.strictObject({ role: z.string(), ...policyTerms }) satisfies z.ZodType<AccessPolicyView>;

export const scopeAccessPolicyView = z.strictObject({ resource: z.string().describe('The audience of the resource'), scope: z.string(), ...policyTerms }) satisfies z.ZodType<ScopeAccessPolicyView>;

export const accessRequestView = z.strictObject({
  id: z.string().describe('ar_…'),
  state: z.enum(['pending', 'approved', 'denied', 'lapsed', 'cancelled']).describe('The state now: a pending request past lapses_at reads as lapsed'),
  role: z.string().nullable().describe('The role asked for; null for a request for one scope on one resource'),
  scope: z.strictObject({ name: z.string(), resource: z.string().describe('The audience of the resource') }).nullable().describe('The scope asked for, on one resource; null for a role request'),
  target: z.string().describe('What is asked for, in words: "role ops", "scope ai.deploy.manage on https://models.example"'),
  holder: z.strictObject({ type: z.enum(['user', 'client']), id: z.string(), label: z.string().describe('The email or client_id') }),
  requested_by: z.strictObject({ type: z.string().describe('user | client | cli | admin'), id: z.string() }),
  justification: z.string(),
  duration: z.number().int().describe('Seconds the grant lasts from the completing approval'),
  requested_at: isoTime,
  lapses_at: isoTime,
  decided_at: isoTime.nullable(),
  grant_expires_at: isoTime.nullable(),
  decisions: z.array(
    z.strictObject({
      approver_id: z.string(),
      approver_email: z.string(),
      decision: z.enum(['approve', 'deny']),
      reason: z.string().nullable(),
      recorded_by: z.string().describe('Who entered it: user:…, cli:…, admin:…'),
      at: isoTime,
    }),
  ),
  approvers_distinct_from_requester: z.boolean().nullable().describe('Every approver differs from the holder and from whoever filed it; null while nobody approved'),
}) satisfies z.ZodType<AccessRequestView>;

export const approvedGrantsView = z.strictObject({
  grants: z.array(
    z.strictObject({
      seq: z.number().int().describe('The audit record'),
      granted_at: isoTime,
      request: z.string().nullable(),
      role: z.string().nullable(),
      scope: z.strictObject({ name: z.string(), resource: z.string() }).nullable().describe('A grant of one scope on one resource; null for a role grant'),
      holder: z.strictObject({ type: z.string(), id: z.string(), label: z.string() }).nullable(),
      requested_by: z.strictObject({ type: z.string(), id: z.string() }).nullable(),
      justification: z.string().nullable(),
      grant_expires_at: isoTime.nullable(),
      approval_required: z.boolean(),
      approvers: z.array(z.strictObject({ id: z.string(), email: z.string(), at: isoTime.nullable() })),
      approvers_distinct_from_requester: z.boolean().nullable().describe('Every approver a different person from the holder and from whoever filed the request, approvers distinct; null when no approval was required'),
    }),
  ),
  truncated: z.boolean(),
}) satisfies z.ZodType<{ grants: ApprovedGrant[]; truncated: boolean }>;

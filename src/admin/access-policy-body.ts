// The terms of an access policy as the admin API takes them, for a role's policy
// (access-request-routes.ts) and a scope's (scope-access-routes.ts) alike, and their conversion
// to the governance input (access-policies.ts mergedTerms decides what is left out).
import { z } from 'zod';
import type { AccessPolicyInput } from '../governance/access-policies.ts';
import { parseDuration } from '../governance/durations.ts';
import { duration, roleName } from './schemas.ts';

/** A duration field ("4h", "90m") in seconds; a bad one is a 400 naming the field. */
export const seconds = (raw: string, what: string): number => parseDuration(raw, what) / 1000;

export const policyTermsFields = {
  approver_role: roleName.optional().describe('Holders of this role approve requests (needed when the policy is first set)'),
  approvals: z.union([z.literal(1), z.literal(2)]).optional().describe('Distinct approvers needed: 1, or 2 for the two-person rule (default 1)'),
  require_approval: z.boolean().optional().describe('false: a request within max_duration is granted at once, and recorded (default true)'),
  max_duration: duration.optional().describe('The longest a request may ask for (needed when the policy is first set)'),
  lapse_after: duration.optional().describe('How long a request may wait for a decision before it lapses (default 24h)'),
};

type TermsBody = { approver_role?: string | undefined; approvals?: 1 | 2 | undefined; require_approval?: boolean | undefined; max_duration?: string | undefined; lapse_after?: string | undefined };

/** The fields the body names; the ones it leaves out keep their stored value. */
export const policyTermsInput = (body: TermsBody): Omit<AccessPolicyInput, 'role'> => ({
  ...(body.approver_role !== undefined && { approverRole: body.approver_role }),
  ...(body.approvals !== undefined && { approvals: body.approvals }),
  ...(body.require_approval !== undefined && { requireApproval: body.require_approval }),
  ...(body.max_duration !== undefined && { maxDuration: seconds(body.max_duration, 'max_duration') }),
  ...(body.lapse_after !== undefined && { lapseAfter: seconds(body.lapse_after, 'lapse_after') }),
});

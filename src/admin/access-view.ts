// The response of GET /admin/v1/audit/access (src/audit/audit-access.ts AccessReport).
import { z } from 'zod';

const isoTime = z.string().describe('ISO 8601 time (UTC)');
const interval = {
  since: isoTime.nullable().describe('When it began (the change that made it hold); null: before the retained trail'),
  until: isoTime.nullable().describe('When it ended or ends (removal, expiry); null: no end'),
};
const principal = z.strictObject({
  type: z.enum(['user', 'client']),
  id: z.string(),
  name: z.string().describe('Email of a person, name of a client'),
  paths: z.array(
    z.strictObject({
      role: z.string(),
      grant: z.strictObject({ ...interval, expires_at: isoTime.nullable() }).describe('The principal\'s grant of the role'),
      included_role: z.string().optional().describe('The role, included by the granted role (role hierarchy, at that time), that carries the scope; absent: the granted role carries it'),
      role_scope: z.strictObject(interval).describe('The role carrying the scope'),
    }),
  ),
  scope_grants: z
    .array(z.strictObject({ request: z.string().nullable(), since: isoTime, until: isoTime.describe('Its expiry, or an earlier removal') }))
    .describe('A time-boxed grant of exactly this scope on this resource in force then (an approved access request)'),
  blocked: z.array(z.string()).describe('Why the principal could not use its path at that time (empty: it could)'),
  revocations: z.array(z.strictObject({ cutoff: isoTime, reason: z.string().nullable() })).describe('Revocations in force then: tokens issued before cutoff were dead'),
});

export const accessReport = z.strictObject({
  resource: z.string(),
  scope: z.string(),
  at: isoTime,
  scope_on_resource: z.union([z.strictObject({ offered: z.literal(true), ...interval }), z.strictObject({ offered: z.literal(false) })]),
  could_access: z.array(principal),
  blocked: z.array(principal),
  apps: z.array(z.strictObject({ client_id: z.string(), name: z.string() })).describe('Apps (authorization_code clients) through which a person could request the scope'),
  tokens: z.strictObject({
    live: z.array(z.strictObject({ jti: z.string().nullable(), client_id: z.string().nullable(), sub: z.string().nullable(), issued_at: isoTime, expires_at: isoTime })),
    truncated: z.boolean(),
  }).describe('Access tokens for the resource carrying the scope that were live then (at most 200)'),
  history: z.strictObject({
    complete: z.boolean().describe('false: the answer may be wrong (time before the retained trail, or changes made outside govauth)'),
    anchor: z.strictObject({ seq: z.number().int(), hash: z.string() }).nullable().describe('Where a pruned trail resumes; null: never pruned'),
    first_seq: z.number().int().nullable(),
    first_at: isoTime.nullable(),
    caveats: z.array(z.string()),
  }),
});

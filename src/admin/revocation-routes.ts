// /revocations: instant governance revocation (as `govauth revoke` / `revocations list`).
// The dispatcher syncs policy after the write, so this instance already refuses the revoked
// tokens when the caller gets the answer; others follow within the change-feed bound.
import { z } from 'zod';
import { listRevocations, revokePrincipal } from '../governance/revocations.ts';
import { route } from './route.ts';
import { email, roleName, text } from './schemas.ts';
import { revocationView, revokedView } from './views.ts';

const PRINCIPALS = ['user', 'client', 'role', 'grant'] as const;

const revokeBody = z
  .strictObject({
    user: email.optional().describe("A person's email: every token issued to them until now"),
    client: z.string().min(1).max(128).optional().describe('A client_id: every token issued to it until now'),
    role: roleName.optional().describe('A role: every token carrying it, issued until now'),
    grant: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be the grant_id claim of a token')
      .optional()
      .describe('A grant_id: its refresh tokens and every access token issued from it'),
    reason: text('reason', 500, 'Why, kept in the audit trail').optional(),
  })
  .refine((b) => PRINCIPALS.filter((k) => b[k] !== undefined).length === 1, { message: `name exactly one of ${PRINCIPALS.join(', ')}` });

export const revocationRoutes = [
  route({
    method: 'GET', path: '/revocations', operationId: 'listRevocations', summary: 'List the revocations in force', tag: 'revocations', access: 'read',
    response: z.strictObject({ revocations: z.array(revocationView) }),
    handle: async ({ deps }) => ({ revocations: await listRevocations(deps.db, deps.now()) }),
  }),
  route({
    method: 'POST', path: '/revocations', operationId: 'revoke', summary: 'Make every token issued to a principal until now inactive, and end its refresh tokens', tag: 'revocations', access: 'write', status: 201, errors: [404],
    body: revokeBody, response: z.strictObject({ revoked: revokedView }),
    async handle({ deps, body, actor }) {
      const { entry, label } = await revokePrincipal(deps.db, {
        user: body.user,
        client: body.client,
        role: body.role,
        grant: body.grant,
        reason: body.reason,
        actor: actor.actor ?? 'admin',
        by: actor,
        horizonSeconds: deps.config.signIn.sessionMaxAge,
      }, deps.now());
      return {
        revoked: { kind: entry.kind, key: entry.key, label, cutoff: new Date(entry.cutoff).toISOString(), expires_at: new Date(entry.expiresAt).toISOString() },
      };
    },
  }),
];

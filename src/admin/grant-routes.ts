// /users/{email}/roles and /clients/{id}/roles: role grants, optionally time-boxed (as
// `govauth user|client grant-role|revoke-role|roles`). Expiry is computed on the server's
// clock, the one policy decisions use.
import { z } from 'zod';
import { parseDuration } from '../governance/durations.ts';
import { AppError } from '../errors/app-error.ts';
import { grantRole, GrantWouldShorten, listRoleGrants, removeRoleGrant, type Principal } from '../governance/role-grants.ts';
import { recordRead } from './read-audit.ts';
import { route, type Route } from './route.ts';
import { duration, roleName, text } from './schemas.ts';
import { roleGrantView } from './views.ts';

const grantBody = z
  .strictObject({
    role: roleName,
    expires_in: duration.optional().describe('Time-boxed access: the grant ends by itself after this long (90s, 15m, 8h, 7d, 2w)'),
    expires_at: z.iso.datetime({ offset: true }).optional().describe('Time-boxed access: the grant ends at this ISO 8601 time'),
    reason: text('reason', 500, 'Why (a ticket, an incident), kept in the audit trail').optional(),
    replace: z
      .boolean()
      .optional()
      .describe('Needed to shorten a grant in force (make a permanent grant expire, or move an expiry earlier); without it that answers 409. Extending a grant needs nothing.'),
  })
  .refine((b) => b.expires_in === undefined || b.expires_at === undefined, { path: ['expires_at'], message: 'give expires_in or expires_at, not both' });

const grants = z.strictObject({ grants: z.array(roleGrantView) });

function grantRoutes(kind: 'user' | 'client'): Route[] {
  const base = kind === 'user' ? ('/users/{email}/roles' as const) : ('/clients/{id}/roles' as const);
  const Kind = kind === 'user' ? 'User' : 'Client';
  const who = (params: Record<string, string>): Principal => (kind === 'user' ? { type: 'user', email: params.email ?? '' } : { type: 'client', id: params.id ?? '' });
  const tag = 'role grants';
  return [
    route({
      method: 'GET', path: base, operationId: `list${Kind}RoleGrants`, summary: `Show a ${kind}'s role grants with their expiry`, tag, access: 'read', errors: [404],
      response: z.strictObject({ id: z.string().describe(`The ${kind}'s id`), grants: z.array(roleGrantView) }),
      async handle(call) {
        const { id, grants: list } = await listRoleGrants(call.deps.db, who(call.params));
        // A person's roles are personal data: the read is recorded like GET /users (read-audit.ts).
        if (kind === 'user') await recordRead(call, { operation: `list${Kind}RoleGrants`, subject: id, returned: list.length });
        return { id, grants: list };
      },
    }),
    route({
      method: 'POST', path: base, operationId: `grant${Kind}Role`, summary: `Grant a ${kind} a role, for a limited time with expires_in or expires_at`, tag, access: 'write', errors: [404, 409],
      body: grantBody, response: grants,
      async handle({ deps, params, body, actor }) {
        const now = deps.now();
        const expiresAt = body.expires_in !== undefined ? new Date(now + parseDuration(body.expires_in, 'expires_in')) : body.expires_at !== undefined ? new Date(body.expires_at) : null;
        try {
          return { grants: await grantRole(deps.db, { principal: who(params), role: body.role, expiresAt, reason: body.reason, replace: body.replace }, actor, now) };
        } catch (err) {
          if (err instanceof GrantWouldShorten) throw new AppError('conflict', `${err.message}; send "replace": true to shorten it`);
          throw err;
        }
      },
    }),
    route({
      method: 'DELETE', path: `${base}/{role}` as const, operationId: `remove${Kind}RoleGrant`, summary: `Remove a ${kind}'s role grant now`, tag, access: 'write', errors: [404],
      response: grants,
      handle: async ({ deps, params, actor }) => ({ grants: await removeRoleGrant(deps.db, { principal: who(params), role: params.role }, actor) }),
    }),
  ];
}

export const roleGrantRoutes = [...grantRoutes('user'), ...grantRoutes('client')];

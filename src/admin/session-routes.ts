// /users/{email}/sessions: where a person is signed in, and ending one of those sign-ins, as
// `govauth user sessions` and `govauth user end-session` (governance/person-sessions.ts). Reading
// them is recorded like any read of a person (read-audit.ts); ending one is audited as
// admin.user.session.end, with each grant it revoked.
import { z } from 'zod';
import { endPersonSession, personSessions, type PersonSessionView } from '../governance/person-sessions.ts';
import { recordRead } from './read-audit.ts';
import { route } from './route.ts';
import { isoTime } from './views.ts';

const sessionView = z.strictObject({
  id: z.string().describe('The session, by an opaque name (a digest: not the session cookie, nor usable as one)'),
  browser: z.string().describe('The browser, as its User-Agent header names it ("Chrome on Linux"): a hint, not proof'),
  user_agent: z.string().nullable(),
  ip: z.string().nullable().describe('The address it was last used from'),
  signed_in_at: isoTime.nullable(),
  first_seen_at: isoTime.nullable(),
  last_seen_at: isoTime.nullable(),
  expires_at: isoTime.nullable(),
  methods: z.array(z.string()).describe('How the person signed in (RFC 8176 amr: pwd, otp, hwk…)'),
  apps: z.array(z.string()).describe('Client ids of the apps signed in with it'),
  grants: z.array(z.string()).describe('The grants issued in it, which ending it revokes'),
}) satisfies z.ZodType<PersonSessionView>;

export const sessionRoutes = [
  route({
    method: 'GET', path: '/users/{email}/sessions', operationId: 'listUserSessions', summary: "A person's live sign-in sessions: browser, address, when, and the apps signed in with each", tag: 'users', access: 'read', errors: [404],
    response: z.strictObject({ sessions: z.array(sessionView) }),
    async handle(call) {
      const { userId, sessions } = await personSessions(call.deps.db, call.params.email, call.deps.now());
      await recordRead(call, { operation: 'listUserSessions', subject: userId, returned: sessions.length });
      return { sessions };
    },
  }),
  route({
    method: 'DELETE', path: '/users/{email}/sessions/{id}', operationId: 'endUserSession', tag: 'users', access: 'write', errors: [404],
    summary: "End one of a person's sign-ins, as they can on their account page: that browser is signed out, and the grants issued in it are revoked (refresh tokens deleted, access tokens inactive)",
    response: z.strictObject({ ended: z.strictObject({ session: z.string(), grants_revoked: z.number().int() }) }),
    async handle({ deps, params, actor }) {
      const { grants } = await endPersonSession(deps.db, params.email, params.id, actor, deps.now());
      return { ended: { session: params.id, grants_revoked: grants } };
    },
  }),
];

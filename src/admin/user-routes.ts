// /users: people who sign in (as `govauth user …`). Passwords arrive in the body and go
// straight to the argon2id hash; the TOTP secret is shown once, in the enrolment response.
// Reading people is recorded in the audit trail (read-audit.ts).
import { z } from 'zod';
import { AppError } from '../errors/app-error.ts';
import { createUser, enrollMfa, getUser, listUsers, resetMfa, setUserDisabled, setUserPassword, setUserRoles } from '../governance/user-registry.ts';
import { recordRead } from './read-audit.ts';
import { ADMIN_PREFIX, route } from './route.ts';
import { email, list, password, roleName } from './schemas.ts';
import { userView } from './views.ts';

const createUserBody = z.strictObject({ email, password, roles: list(roleName).optional() });
// Roles are the only thing to change here, so they are required rather than optional.
const updateUserBody = z.strictObject({ roles: list(roleName).describe("Replaces the person's roles (time-boxed grants: /users/{email}/roles)") });
const passwordBody = z.strictObject({ password });
const userResponse = z.strictObject({ user: userView });
const idResponse = z.strictObject({ id: z.string() });

export const userRoutes = [
  route({
    method: 'GET', path: '/users', operationId: 'listUsers', summary: 'List people', tag: 'users', access: 'read',
    response: z.strictObject({ users: z.array(userView) }),
    async handle(call) {
      const users = await listUsers(call.deps.db);
      await recordRead(call, { operation: 'listUsers', subject: 'users', returned: users.length });
      return { users };
    },
  }),
  route({
    method: 'GET', path: '/users/{email}', operationId: 'getUser', summary: 'Show one person', tag: 'users', access: 'read', errors: [404],
    response: userResponse,
    async handle(call) {
      const user = await getUser(call.deps.db, call.params.email, call.deps.now());
      await recordRead(call, { operation: 'getUser', subject: user.id, returned: 1 });
      return { user };
    },
  }),
  route({
    method: 'POST', path: '/users', operationId: 'createUser', summary: 'Create a person who signs in with email and password', tag: 'users', access: 'write', status: 201, errors: [409],
    body: createUserBody, response: idResponse,
    async handle({ deps, body, actor, ctx }) {
      const user = await createUser(deps.db, { email: body.email, password: body.password, roles: body.roles }, actor);
      ctx.set('Location', `${ADMIN_PREFIX}/users/${encodeURIComponent(user.email)}`);
      return { id: user.id };
    },
  }),
  route({
    method: 'PATCH', path: '/users/{email}', operationId: 'updateUser', summary: "Replace a person's roles", tag: 'users', access: 'write', errors: [404, 409],
    body: updateUserBody, response: userResponse,
    handle: async ({ deps, params, body, actor }) => ({ user: await setUserRoles(deps.db, params.email, body.roles, actor) }),
  }),
  route({
    method: 'POST', path: '/users/{email}/disable', operationId: 'disableUser', summary: 'Stop a person from signing in; their refresh tokens stop working', tag: 'users', access: 'write', errors: [404],
    response: userResponse,
    handle: async ({ deps, params, actor }) => ({ user: await setUserDisabled(deps.db, params.email, true, actor) }),
  }),
  route({
    method: 'POST', path: '/users/{email}/enable', operationId: 'enableUser', summary: 'Let a disabled person sign in again', tag: 'users', access: 'write', errors: [404],
    response: userResponse,
    handle: async ({ deps, params, actor }) => ({ user: await setUserDisabled(deps.db, params.email, false, actor) }),
  }),
  route({
    method: 'PUT', path: '/users/{email}/password', operationId: 'setUserPassword', summary: "Set a person's password; ends their sign-ins and revokes their tokens", tag: 'users', access: 'write', errors: [404],
    body: passwordBody, response: idResponse,
    // Ends the person's sign-ins and revokes their tokens, as POST /revocations {user} does.
    handle: async ({ deps, params, body, actor }) => ({ id: (await setUserPassword(deps.db, params.email, body.password, actor, { horizonSeconds: deps.config.signIn.sessionMaxAge, now: deps.now() })).user.id }),
  }),
  route({
    method: 'POST', path: '/users/{email}/mfa', operationId: 'enrollMfa', summary: 'Enrol TOTP (RFC 6238); the secret is in this response only. Replacing an enrolment needs "force": true (409 without it)', tag: 'users', access: 'write', errors: [404, 409],
    body: z.strictObject({ force: z.boolean().optional().describe('Replace an existing enrolment: the authenticator set up with it stops working') }).optional(),
    response: z.strictObject({
      secret: z.string().describe('Base32 TOTP secret'),
      otpauth_url: z.string().describe('otpauth:// URL for an authenticator app'),
      replaced: z.boolean().describe('An enrolment was replaced: the old authenticator no longer works'),
    }),
    handle: ({ deps, params, body, actor }) =>
      enrollMfa(deps.db, deps.master, params.email, actor, { force: body?.force, now: deps.now() }).catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'conflict') throw new AppError('conflict', `${err.message}; send "force": true to replace it`);
        throw err;
      }),
  }),
  route({
    method: 'DELETE', path: '/users/{email}/mfa', operationId: 'resetMfa', summary: "Remove every second factor of a person (TOTP, recovery codes, passkeys: a lost phone); ends their sign-ins and revokes their tokens", tag: 'users', access: 'write', errors: [404],
    response: userResponse,
    handle: async ({ deps, params, actor }) => ({ user: (await resetMfa(deps.db, params.email, actor, { horizonSeconds: deps.config.signIn.sessionMaxAge, now: deps.now() })).user }),
  }),
];
